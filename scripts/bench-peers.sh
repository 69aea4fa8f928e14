#!/usr/bin/env bash
# Optional (not part of the tests): `repro bench` side by side with its JAX and PyTorch peers
# (bench/peers/), interleaved on this machine at the same time, so that noise from a shared
# machine falls on all of them alike. Creates a virtual environment with pinned versions
# (PEERS_VENV, default .peers-venv/, git-ignored), then runs ROUNDS rounds of repro, JAX,
# PyTorch one after the other (REPEATS timed calls each, workloads ONLY, THREADS threads), and
# prints one table: each tool's median over the rounds of its per-round medians, and the ratio
# repro / best peer (below 1: repro is faster). A peer that cannot be installed, or fails, is left out,
# and the script says so. Then, with JAX, one experiment end to end (EXPERIMENT=0 skips it): the
# small scale's stability sweep of its role model (12 runs: 6 peak η × warmup 0/200) by
# `repro fig2 --small` and by bench/peers/jax_stability.py, one thread each, ROUNDS interleaved
# rounds, process wall times and what each measured (bench/peers/compare_stability.py).
#
#   bash scripts/bench-peers.sh                 # ROUNDS=3 REPEATS=20 ONLY=W1,W2,W3 THREADS=2
set -uo pipefail
cd "$(dirname "$0")/.."
venv=${PEERS_VENV:-.peers-venv}
rounds=${ROUNDS:-3} repeats=${REPEATS:-20} only=${ONLY:-W1,W2,W3} threads=${THREADS:-2} experiment=${EXPERIMENT:-1}
jax_version=0.10.2 torch_version=2.13.0
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if [[ ! -x $venv/bin/python ]] && ! python3 -m venv "$venv" >/dev/null 2>&1; then
  echo "bench-peers: python3 -m venv failed (apt install python3-venv): no peers to compare with"; exit 0
fi
py=$venv/bin/python
peers=()
# A peer counts as installed only once it imports (a package installed without its
# dependencies would fail later, in the middle of the rounds).
if "$py" -c "import jax; assert jax.__version__ == '$jax_version'" 2>/dev/null \
   || { "$venv/bin/pip" install -q "jax[cpu]==$jax_version" >/dev/null 2>&1 && "$py" -c "import jax" 2>/dev/null; }; then
  peers+=(jax)
else
  echo "bench-peers: JAX $jax_version could not be installed here: left out"
fi
# The CPU build from PyTorch's own index (PyPI's Linux wheel carries the CUDA libraries), else
# from PyPI and pip's find-links (a local 2.13.0+cpu wheel satisfies ==2.13.0), with its
# dependencies either way.
if "$py" -c "import torch; assert torch.__version__.startswith('$torch_version')" 2>/dev/null \
   || { { "$venv/bin/pip" install -q "torch==$torch_version" --index-url https://download.pytorch.org/whl/cpu >/dev/null 2>&1 \
          || "$venv/bin/pip" install -q "torch==$torch_version" >/dev/null 2>&1; } \
        && "$py" -c "import torch" 2>/dev/null; }; then
  peers+=(torch)
else
  echo "bench-peers: PyTorch $torch_version could not be installed here: left out"
fi
[[ ${#peers[@]} -gt 0 ]] || { echo "bench-peers: no peer could be installed: nothing to compare"; exit 0; }

swift build -c release --product repro >/dev/null || exit 1
# The same cores for everyone.
pin=()
command -v taskset >/dev/null && pin=(taskset -c "0-$((threads - 1))")
export OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads
export XLA_FLAGS="--xla_cpu_multi_thread_eigen=$([[ $threads -gt 1 ]] && echo true || echo false) intra_op_parallelism_threads=$threads"
for r in $(seq "$rounds"); do
  echo "round $r/$rounds: repro ${peers[*]}" >&2
  "${pin[@]}" .build/release/repro bench --json --only "$only" --repeats "$repeats" --threads "$threads" 2>/dev/null > "$out/repro-$r.json" || exit 1
  for p in "${peers[@]}"; do
    if ! "${pin[@]}" "$py" "bench/peers/${p}_bench.py" --repeats "$repeats" --only "$only" > "$out/$p-$r.json"; then
      echo "bench-peers: the $p peer failed (its error is above): left out" >&2
      rm -f "$out/$p"-*.json
      kept=()
      for q in "${peers[@]}"; do [[ $q == "$p" ]] || kept+=("$q"); done
      peers=("${kept[@]}")
    fi
  done
done
[[ ${#peers[@]} -gt 0 ]] || { echo "bench-peers: no peer ran: nothing to compare"; exit 0; }

"$py" - "$out" "$rounds" "$(date -u +%Y-%m-%d)" <<'EOF'
import glob, json, os, statistics, sys
out, rounds, day = sys.argv[1], int(sys.argv[2]), sys.argv[3]
tools = {}
peak = []
for f in sorted(glob.glob(os.path.join(out, "*.json"))):
    tool = os.path.basename(f).rsplit("-", 1)[0]
    d = json.load(open(f))
    if tool == "repro":
        peak.append(d.get("sgemmPeakGFLOPPerSecond", float("nan")))
    for r in d["rows"]:
        for m in ("gradientMs", "hvpMs", "lanczos20Ms"):
            tools.setdefault(tool, {}).setdefault((r["workload"], m), []).append(r[m])
names = {"gradientMs": "gradient", "hvpMs": "HVP", "lanczos20Ms": "20 Lanczos"}
peers = [t for t in tools if t != "repro"]
print(f"{day}, {os.cpu_count()} cores, sgemm peak {statistics.median(peak):.0f} GFLOP/s (OpenBLAS, median of rounds), "
      f"{rounds} interleaved rounds; medians in ms (spread over rounds)")
print()
print("| workload | measure | repro | " + " | ".join(peers) + " | repro / best peer |")
print("|---|---|---|" + "---|" * len(peers) + "---|")
for (w, m) in sorted(tools["repro"]):
    def cell(t):
        v = tools[t].get((w, m))
        return (statistics.median(v), min(v), max(v)) if v else None
    r = cell("repro")
    ps = {t: cell(t) for t in peers}
    best = min((c[0] for c in ps.values() if c), default=None)
    fmt = lambda c: f"{c[0]:.2f} ({c[1]:.2f}–{c[2]:.2f})" if c else "–"
    print(f"| {w} | {names[m]} | {fmt(r)} | " + " | ".join(fmt(ps[t]) for t in peers)
          + f" | {r[0] / best:.2f} |" if best else " | – |")
EOF

[[ $experiment == 1 && " ${peers[*]} " == *" jax "* ]] || exit 0
echo
etas=0.01,0.03,0.1,0.3,1,3
one=()
command -v taskset >/dev/null && one=(taskset -c 0)
now() { date +%s.%N; }
for r in $(seq "$rounds"); do
  echo "experiment round $r/$rounds: repro jax" >&2
  t=$(now)
  "${one[@]}" .build/release/repro fig2 --small --out "$out/stability-repro-$r" --jobs 1 --threads 1 --quiet \
    --set models=resmlp-none --set learningRates=$etas --set warmups=0,200 --set seeds=0 --set roleSeeds=0 >/dev/null || exit 1
  "$py" -c "print($(now) - $t)" > "$out/stability-repro-$r.seconds"
  t=$(now)
  OMP_NUM_THREADS=1 XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" \
    "${one[@]}" "$py" bench/peers/jax_stability.py --etas $etas --warmups 0,200 --seeds 0 > "$out/stability-jax-$r.json" \
    || { echo "bench-peers: the JAX stability program failed (its error is above): no experiment to compare"; exit 0; }
  "$py" -c "print($(now) - $t)" > "$out/stability-jax-$r.seconds"
done
"$py" bench/peers/compare_stability.py "$out" "$rounds"
