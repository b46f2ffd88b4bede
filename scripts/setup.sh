#!/usr/bin/env bash
# Installs every dependency of mnas: Debian packages (apt-get), then ONNX
# Runtime from npm (onnxruntime-node, pinned in tools/onnxruntime/package-lock.json)
# into tools/onnxruntime/node_modules.
# Idempotent: when everything is installed it prints nothing and exits 0.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake make ccache pkg-config ca-certificates
  # libraries
  libtorch-dev               # LibTorch 1.13 (CPU)
  libboost-program-options-dev
  nlohmann-json3-dev
  libsqlitecpp-dev libsqlite3-dev
  libtbb-dev
  zlib1g-dev
  libgtest-dev
  libopencv-dev              # image decoding, ONNX check through OpenCV DNN
  libonnx-dev                # ONNX export (protobuf classes + checker)
  libopenmpi-dev openmpi-bin # distributed search (optional in the build)
  # TFLite export: flatbuffers (flatc + headers), verified in Arm NN's TfLite parser (CpuRef)
  flatbuffers-compiler libflatbuffers-dev
  libarmnntfliteparser-dev libarmnn-cpuref-backend22
  # data: the embedded default dataset
  dataset-fashion-mnist      # /usr/share/datasets/fashion-mnist
)
# node and npm run ONNX Runtime (export verification, mnas_classify); Debian's
# only when the commands are missing (a NodeSource or nvm node also serves).
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)
root=$(cd "$(dirname "$0")/.." && pwd)

# ONNX Runtime (npm onnxruntime-node, CPU library inside the package) into
# tools/onnxruntime/node_modules, at the version package-lock.json pins.
# --ignore-scripts: its install script downloads optional GPU libraries,
# which fails offline and is not needed.
install_onnxruntime() {
  local dir="$root/tools/onnxruntime"
  local want have
  want=$(node -e 'process.stdout.write(require(process.argv[1]).packages["node_modules/onnxruntime-node"].version)' \
    "$dir/package-lock.json")
  have=$(node -e 'try { process.stdout.write(require(process.argv[1]).version) } catch (e) {}' \
    "$dir/node_modules/onnxruntime-node/package.json")
  [[ "$want" == "$have" ]] && return 0
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  if (( major < 18 )); then
    echo "setup: ONNX Runtime needs node >= 18, found $(node --version) ($(command -v node))" >&2
    exit 1
  fi
  echo "setup: installing onnxruntime-node $want into tools/onnxruntime (npm)" >&2
  # The system's certificate store (Debian ca-certificates, with any CA the
  # site added, e.g. a TLS-inspecting proxy's): npm's own list may lack it.
  local ca=()
  [[ -r /etc/ssl/certs/ca-certificates.crt ]] && ca=(--cafile=/etc/ssl/certs/ca-certificates.crt)
  if ! (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error "${ca[@]}" >/dev/null); then
    # Everything else works without it: export verification then uses OpenCV
    # DNN only (and says so), and the tests that need ONNX Runtime skip.
    rm -rf "$dir/node_modules"
    echo "setup: WARNING: could not install onnxruntime-node from npm (see the npm error above);" \
         "ONNX Runtime checks are skipped until scripts/setup.sh succeeds" >&2
  fi
}

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  install_onnxruntime
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
install_onnxruntime
