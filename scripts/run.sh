#!/usr/bin/env bash
# Quick start: installs, builds and runs the main job on the embedded default.
# That is the MnasNet search on Fashion-MNIST with a 75 ms target (under 20
# minutes on 2 cores); the experiment database is mnas-search.db in the
# folder $MNAS_RUN_DIR (default: the repository root). Extra arguments go to
# mnas_search (e.g. --resume).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh" >/dev/null
cd "${MNAS_RUN_DIR:-$root}"
exec "$root/build/apps/mnas_search" --target-latency 75ms "$@"
