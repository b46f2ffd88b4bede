#!/usr/bin/env bash
# Installs every dependency of mnas from Debian packages (apt-get).
# Idempotent: when everything is installed it prints nothing and exits 0.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake make ccache pkg-config
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

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
