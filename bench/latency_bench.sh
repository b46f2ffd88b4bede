#!/usr/bin/env bash
# Latency benchmark (issue 3): mnasnet-b1 through mnas and through Python
# PyTorch (torchvision mnasnet1_0, the same architecture; Debian python3-torch,
# the same LibTorch 1.13) side by side per engine, with the ratio; then
# mnasnet-a1 versus mobilenet-v2 (width 1.4) on the default engine.
#
#   bench/latency_bench.sh [BUILD_DIR] [THREADS]      (default build/, 1 thread)
#
# Run it alone on the machine (on the shared dev host: inside
# `flock /tmp/mnas-cpu.lock`). Each figure is the best of ROUNDS rounds of
# medians, the rounds alternating mnas and Python so that both see the same
# machine state. mnas runs with --raw (wall-clock times, no reference
# normalisation) so that both sides are timed the same way.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
threads=${2:-1}
rounds=${ROUNDS:-2}
lat="$build/apps/mnas_latency"
py=/usr/bin/python3
if ! "$py" -c 'import torch, torchvision' >/dev/null 2>&1; then
  echo "latency_bench.sh: $py cannot import torch and torchvision, which the Python figures need:" \
    "apt-get install python3-torch python3-torchvision" >&2
  exit 1
fi

median_of() {  # mnas_latency measure ... --json -> median_ms
  "$lat" measure "$@" --threads "$threads" --raw --json | $py -c 'import json,sys; print(json.load(sys.stdin)["median_ms"])'
}
ratio() { $py -c "print($1 / $2)"; }
best() { printf '%s\n' "$@" | sort -g | head -1; }

echo "mnasnet-b1 @224, batch 1, $threads thread(s); best of $rounds rounds of medians (ms)"
printf '%-8s %10s %10s %8s\n' engine mnas python ratio
declare -A m p
for engine in onednn xnnpack eager; do
  ms=(); ps=()
  for ((r = 0; r < rounds; r++)); do
    runs=30; [[ $engine == eager ]] && runs=10
    ms+=("$(median_of mnasnet-b1 --engine "$engine" --runs $runs)")
    ps+=("$($py "$root/bench/latency_pytorch.py" --threads "$threads" --engines "$engine" --runs $runs | awk '{print $3}')")
  done
  m[$engine]=$(best "${ms[@]}"); p[$engine]=$(best "${ps[@]}")
  printf '%-8s %10.3f %10.3f %8.3f\n' "$engine" "${m[$engine]}" "${p[$engine]}" \
    "$(ratio "${m[$engine]}" "${p[$engine]}")"
done
default=$("$lat" measure mnasnet-b1 --threads "$threads" --runs 5 --json | $py -c 'import json,sys; print(json.load(sys.stdin)["engine"])')
best_py=$(best "${p[onednn]}" "${p[xnnpack]}" "${p[eager]}")
printf 'mnas default engine (%s) / best Python engine: %.3f (target <= 1.05)\n' "$default" \
  "$(ratio "${m[$default]}" "$best_py")"

echo
echo "mnasnet-a1 vs mobilenet-v2 x1.4 @224, default engine ($default), $threads thread(s)"
echo "(reference-normalised, one constant for both: immune to the host's slow phases)"
tmpdb=$(mktemp -d)/bench.db
norm_of() {
  "$lat" measure "$@" --threads "$threads" --repeat 3 --db "$tmpdb" --json | $py -c 'import json,sys; print(json.load(sys.stdin)["median_ms"])'
}
a=$(norm_of mnasnet-a1); v=$(norm_of mobilenet-v2 --depth-multiplier 1.4)
rm -rf "$(dirname "$tmpdb")"
printf 'mnasnet-a1 %.3f ms, mobilenet-v2 1.4 %.3f ms: A1 is %.2fx faster (paper, Pixel 1: 1.8x)\n' \
  "$a" "$v" "$(ratio "$v" "$a")"
echo "(our mobilenet-v2 keeps the 1280-wide head at width 1.4; the reference MobileNetV2 1.4 widens it to 1792)"
