#!/usr/bin/env bash
# A real Slurm test: starts a single-node Slurm (Debian slurm-wlm + munge) on this machine,
# submits the README's job-array workflow (the binary built once, one shard per array task) for
# the tiny fig3 sweep, which has follow-up runs, renders, and compares the figure data with one
# unsharded process. Needs root or sudo (daemons, packages); CI runs it from .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"

missing=()
for p in slurm-wlm munge; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
[ -x .build/release/repro ] || swift build -c release --product repro

work=$(mktemp -d /tmp/repro-slurm.XXXXXX)
node=$(hostname -s)
cpus=$(nproc)
memory=$(awk '/MemTotal/ { print int($2 / 1024 * 0.9) }' /proc/meminfo)
mkdir -p "$work/state" "$work/spool" "$work/log" "$work/munge"
cat > "$work/slurm.conf" <<EOF
ClusterName=repro-test
SlurmctldHost=$node
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
NodeName=$node CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$work/slurm.conf"

pids=()
cleanup() {
  # slurmctld -D keeps a child (slurmscriptd): stop the daemons, wait, then kill what is left.
  for p in "${pids[@]}"; do $SUDO kill "$p" 2>/dev/null || true; done
  for _ in $(seq 20); do
    alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break
    sleep 0.5
  done
  for p in "${pids[@]}"; do $SUDO kill -9 "$p" 2>/dev/null || true; done
  $SUDO pkill -f "slurmscriptd" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# munge: a key of its own, its socket in the work directory.
$SUDO dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
$SUDO chmod 400 "$work/munge/munge.key"
socket="$work/munge/munge.socket"
$SUDO munged --force --key-file="$work/munge/munge.key" --socket="$socket" \
  --pid-file="$work/munge/munged.pid" --log-file="$work/log/munged.log" --seed-file="$work/munge/seed"
pids+=("$(cat "$work/munge/munged.pid")")
# Slurm finds munge's socket through the AuthInfo option.
echo "AuthInfo=socket=$socket" >> "$work/slurm.conf"

$SUDO env SLURM_CONF="$SLURM_CONF" slurmctld -D > "$work/log/ctld.out" 2>&1 &
pids+=($!)
$SUDO env SLURM_CONF="$SLURM_CONF" slurmd -D > "$work/log/d.out" 2>&1 &
pids+=($!)
for _ in $(seq 60); do
  if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed)'; then break; fi
  sleep 1
done
sinfo -h -o %T | grep -qE '^(idle|mixed)' || { echo "slurm did not come up"; cat "$work"/log/*; exit 1; }

# The README's job array: the binary built once above, one shard per task, a shared --out.
out="$work/out"
sbatch --wait --array=1-3 --cpus-per-task=1 --chdir="$repo" --output="$work/log/task-%a.out" --wrap \
  ".build/release/repro fig3 --scale tiny --jobs 1 --shard \${SLURM_ARRAY_TASK_ID}/3 --out $out --quiet"
.build/release/repro render fig3 --scale tiny --out "$out" --quiet

single="$work/single"
.build/release/repro fig3 --scale tiny --jobs 1 --out "$single" --quiet
python3 - "$out/figures/data/fig3.json" "$single/figures/data/fig3.json" <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert a["runsPresent"] == a["runsTotal"] == b["runsTotal"], (a["runsPresent"], a["runsTotal"], b["runsTotal"])
assert a["data"] == b["data"] and a["claims"] == b["claims"], "the job array's figure data differ from one process's"
print(f"slurm job array: {a['runsPresent']} of {a['runsTotal']} runs, figure data equal to one process")
EOF
