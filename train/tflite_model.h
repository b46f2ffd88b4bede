// What a TFLite file says about itself, read from its flatbuffer with the
// schema subset train/tflite_schema.fbs (no runtime involved): its input and
// output tensors (shape, element type, quantization) and its named metadata
// buffers (Model.metadata). mnas_classify reads the image size, the I/O
// types and the normalisation from here (train/classify.h).
// Torch-free header; library mnas::tflite (with train/tflite_runtime.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mnas::train {

// The Model.metadata entry of mnas's TFLite exports: its buffer holds a JSON
// object {"dataset": kind, "mean": [per input channel], "stddev": [...],
// "eval_crop": fraction, "class_names": [...]}, the same information as the
// ONNX export's metadata_props (train/export.h kOnnxMeta*).
inline constexpr const char* kTfLiteMetadataName = "mnas";

// True when `head` (a file's first bytes) carries the TFLite flatbuffer file
// identifier "TFL3" at byte offset 4.
bool has_tflite_identifier(const std::string& head);

struct TfLiteTensorInfo {
  std::string name;
  std::vector<int> shape;
  std::string type;         // "float32" | "int8" | "uint8" | "int32" | "type <n>" (other TensorType values)
  bool quantized = false;   // one scale and zero point (per-tensor quantization)
  float scale = 0;          // real = scale * (q - zero_point) when quantized
  int64_t zero_point = 0;
};

struct TfLiteModelInfo {
  TfLiteTensorInfo input, output;  // the first subgraph's first input and first output
  std::string description;
  std::map<std::string, std::string> metadata;  // Model.metadata: name -> the bytes of its buffer
};

// Reads `path`. Throws mnas::Error naming the file when it cannot be read,
// lacks the "TFL3" identifier, does not verify against the schema (truncated
// or corrupt), has no subgraph or no input/output tensor, or a metadata entry
// names a buffer that does not exist.
TfLiteModelInfo read_tflite_model(const std::string& path);

}  // namespace mnas::train
