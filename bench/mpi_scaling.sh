#!/usr/bin/env bash
# Trials per minute of the MPI search with 1, 2 and 3 workers on cheap
# children (synthetic objective, a fixed sleep per child standing in for
# training), PPO controller, and the controller's own time per trial.
#   bench/mpi_scaling.sh [BUILD_DIR] [TRIALS] [DELAY_MS]
set -euo pipefail
build=${1:-build}
trials=${2:-30}
delay=${3:-500}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mpirun=(mpirun --oversubscribe --enable-recovery)
[[ $(id -u) -eq 0 ]] && mpirun+=(--allow-run-as-root)
printf "%-8s %10s %12s %12s\n" workers seconds trials/min efficiency
base=""
for workers in 1 2 3; do
  start=$(date +%s.%N)
  "${mpirun[@]}" -np $((workers + 1)) "$build/apps/mnas_search" --objective synthetic \
    --strategy ppo --budget "$trials" --delay-ms "$delay" --threads 1 --quiet \
    --db "$tmp/w$workers.db" >/dev/null 2>&1
  end=$(date +%s.%N)
  secs=$(echo "$end - $start" | bc -l)
  rate=$(echo "$trials * 60 / $secs" | bc -l)
  [[ -z "$base" ]] && base=$rate
  eff=$(echo "$rate / ($base * $workers)" | bc -l)
  printf "%-8d %10.1f %12.1f %11.0f%%\n" "$workers" "$secs" "$rate" "$(echo "$eff * 100" | bc -l)"
done
# Controller cost per trial: the same search with zero-cost children, one process.
start=$(date +%s.%N)
"$build/apps/mnas_search" --objective synthetic --strategy ppo --budget "$trials" --threads 1 \
  --quiet --db "$tmp/ctl.db" >/dev/null
end=$(date +%s.%N)
printf "controller (PPO + db) time per trial: %.0f ms\n" "$(echo "($end - $start) * 1000 / $trials" | bc -l)"
