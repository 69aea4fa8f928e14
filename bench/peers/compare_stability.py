"""Sets one stability sweep of `repro` beside the same sweep in JAX (jax_stability.py), as timed
by scripts/bench-peers.sh: wall times per round, their ratio, and what each program measured
(outcomes per run, λ1 at initialization, test accuracy), so a reader sees that both ran the same
experiment (the same distributions; the random draws differ).

    python compare_stability.py <out dir> <rounds>

Reads <out>/stability-repro-<r>.seconds, <out>/stability-jax-<r>.json and the repro store under
<out>/stability-repro-<r>/results/stability/small/*/result.json.
"""
import glob
import json
import os
import statistics
import sys


def repro_runs(root):
    runs = {}
    for f in glob.glob(os.path.join(root, "results", "stability", "small", "*", "result.json")):
        label = os.path.basename(os.path.dirname(f)).rsplit("-", 1)[0]
        o = json.load(open(f))["outcome"]
        eta, warmup = label.split("_eta=")[1].split("_w=")
        warmup = warmup.split("_s=")[0]
        m0 = next((m["lambda1"] for m in o.get("measurements", []) if m["step"] == 0), None)
        evals = o.get("evaluations") or []
        runs[(float(eta), int(warmup))] = {"status": o["status"], "lambda1Init": m0,
                                           "accuracy": evals[-1]["testAccuracy"] if evals and o["status"] == "trained" else None}
    return runs


def jax_runs(path):
    d = json.load(open(path))
    runs = {}
    for r in d["runs"]:
        m0 = next((m["lambda1"] for m in r["measurements"] if m["step"] == 0), None)
        runs[(r["eta"], r["warmup"])] = {"status": r["status"], "lambda1Init": m0,
                                         "accuracy": r["test"]["accuracy"] if r["test"] else None}
    return runs, d


def main():
    out, rounds = sys.argv[1], int(sys.argv[2])
    repro_s, jax_s, compile_s = [], [], []
    for r in range(1, rounds + 1):
        repro_s.append(float(open(os.path.join(out, f"stability-repro-{r}.seconds")).read()))
        jr, d = jax_runs(os.path.join(out, f"stability-jax-{r}.json"))
        jax_s.append(float(open(os.path.join(out, f"stability-jax-{r}.seconds")).read()))
        compile_s.append(d["compileSeconds"])
    rr = repro_runs(os.path.join(out, f"stability-repro-{rounds}"))
    keys = sorted(set(rr) | set(jr))
    print(f"One stability sweep, end to end (process wall time, one thread each, {rounds} interleaved rounds): "
          f"{len(keys)} runs of the small scale's role model (resmlp-none, 1 000 steps of batch 128, λ1 at steps 0, 250, 500)")
    print()
    print("| program | wall s (each round) | median | ratio to repro |")
    print("|---|---|---|---|")
    rm, jm = statistics.median(repro_s), statistics.median(jax_s)
    print(f"| repro | {', '.join(f'{s:.1f}' for s in repro_s)} | {rm:.1f} | 1.00 |")
    print(f"| JAX {d['version']} (of which jit compilation: {statistics.median(compile_s):.1f} s) | "
          f"{', '.join(f'{s:.1f}' for s in jax_s)} | {jm:.1f} | {jm / rm:.2f} |")
    print()
    print("What each measured (last round):")
    print()
    print("| η | warmup | repro: outcome, λ1 at init, test acc | JAX: outcome, λ1 at init, test acc |")
    print("|---|---|---|---|")
    fmt = lambda r: "–" if r is None else (f"{r['status']}, " + (f"{r['lambda1Init']:.1f}" if r["lambda1Init"] else "–")
                                         + (f", {100 * r['accuracy']:.1f} %" if r["accuracy"] is not None else ""))
    for k in keys:
        print(f"| {k[0]:g} | {k[1]} | {fmt(rr.get(k))} | {fmt(jr.get(k))} |")
    same = sum(1 for k in keys if rr.get(k) and jr.get(k) and rr[k]["status"] == jr[k]["status"])
    print()
    print(f"Same outcome in {same} of {len(keys)} runs.")


if __name__ == "__main__":
    main()
