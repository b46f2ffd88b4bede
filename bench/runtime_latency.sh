#!/bin/sh
# Batch-1, 1-thread latency of an exported model in every runtime mnas
# verifies it with, next to LibTorch's oneDNN engine (docs/training.md):
#   bench/runtime_latency.sh CKPT DIR
# exports CKPT (float and int8, --no-verify) into DIR, then times
# DIR/m.tflite, m.int8.tflite (Arm NN CpuRef: a reference backend, not a
# deployment speed), m.onnx, m.int8.onnx (ONNX Runtime) and the checkpoint's
# architecture in mnas_latency measure --engine onednn (raw wall clock).
set -eu
ckpt=$1
dir=$2
b=${BUILD:-build}
mkdir -p "$dir"
set -x
"$b/apps/mnas_export" "$ckpt" --onnx "$dir/m.onnx" --tflite "$dir/m.tflite" --int8 --no-verify > "$dir/export.json"
info=$("$b/apps/mnas_export" "$ckpt" --info)
size=$(printf '%s' "$info" | sed -n 's/.*"image_size": \([0-9]*\).*/\1/p')
channels=$(printf '%s' "$info" | sed -n 's/.*"input_channels": \([0-9]*\).*/\1/p')
classes=$(printf '%s' "$info" | sed -n 's/.*"num_classes": \([0-9]*\).*/\1/p')
arch=$(printf '%s' "$info" | sed -n 's/^  "arch": "\(.*\)",$/\1/p')
"$b/bench/runtime_latency" --image-size "$size" --channels "$channels" --runs "${RUNS:-30}" \
  "$dir/m.tflite" "$dir/m.int8.tflite" "$dir/m.onnx" "$dir/m.int8.onnx"
# shellcheck disable=SC2086
"$b/apps/mnas_latency" measure $arch --engine onednn --threads 1 --image-size "$size" \
  --input-channels "$channels" --num-classes "$classes" --raw -q
