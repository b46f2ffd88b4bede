#!/usr/bin/env bash
# PPO vs random search vs regularized evolution on the real objective (issue
# #18): the default search (experiments/search-default.json: the proxy task,
# the Pixel-1 latency, its budget), SEEDS seeds per strategy, one database
# each in OUT_DIR, then the comparison (median best reward, median reward of
# the last 20 % of trials, hypervolume) and its HTML page with the learning
# curves. Resumable: rerun the same command after a kill; finished searches
# return at once, interrupted ones continue (--resume).
#   bench/strategies.sh [BUILD_DIR] [OUT_DIR] [SEEDS] [extra mnas_search flags...]
# e.g. bench/strategies.sh build runs/strategies 3 --budget 100
# STRATEGIES (default "ppo random evolution") picks and orders the strategies,
# e.g. STRATEGIES="ppo random" first, then STRATEGIES=evolution.
set -euo pipefail
build=${1:-build}
out=${2:-strategies}
seeds=${3:-3}
shift $(( $# < 3 ? $# : 3 ))
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
dbs=()
for seed in $(seq 1 "$seeds"); do
  for strategy in ${STRATEGIES:-ppo random evolution}; do
    db="$out/$strategy-$seed.db"
    dbs+=("$db")
    start=$(date +%s)
    if [[ -f "$db" ]]; then
      "$build/apps/mnas_search" --resume --db "$db" --quiet "$@" >"$db.log" 2>&1
    else
      "$build/apps/mnas_search" --config "$root/experiments/search-default.json" --strategy "$strategy" \
        --seed "$seed" --db "$db" --measure-top 0 --quiet "$@" >"$db.log" 2>&1
    fi
    echo "$strategy seed $seed: $(( $(date +%s) - start )) s ($db)" >&2
  done
done
"$build/apps/mnas_report" --compare "${dbs[@]}"
"$build/apps/mnas_report" --compare "${dbs[@]}" --out "$out/strategies.html"
