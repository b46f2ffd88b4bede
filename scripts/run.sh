#!/usr/bin/env bash
# Quick start: installs, builds and runs the main job on the embedded default.
# Until the search lands that is the decoded MnasNet-A1.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh" >/dev/null
exec "$root/build/apps/mnas_decode" mnasnet-a1 "$@"
