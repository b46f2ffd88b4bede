// Classification of image files with a trained mnas model: a checkpoint run
// in LibTorch, an exported ONNX file run in ONNX Runtime or an exported
// TFLite file run in Arm NN (train/tflite_runtime.h) (mnas_classify).
// Library mnas::classify. Torch-free header.
//
// Each image (PNG, JPEG, anything OpenCV decodes, any size) is prepared as the
// training pipeline prepares an eval image (train/datasets.h load_sample):
// converted to the model's channels (1: grayscale, 3: RGB), centre-cropped by
// the eval crop, resized to the model's image size, scaled to [0, 1] and
// normalised per channel with the training dataset's mean and stddev.
//  - Checkpoint: image size and channels from its GlobalParams, dataset kind
//    and eval crop from its TrainConfig (dataset_traits gives mean/stddev).
//  - ONNX: image size and channels from the input shape [N, C, H, W];
//    normalisation, eval crop and class names from the metadata_props that
//    mnas_export writes (train/export.h kOnnxMeta*).
//  - TFLite (the flatbuffer identifier "TFL3" at byte 4, or a name ending
//    in .tflite): image size and channels from the input shape [N, H, W, C];
//    normalisation, eval crop and class names from the model's metadata
//    entry "mnas" (train/tflite_model.h kTfLiteMetadataName).
//  - An ONNX or TFLite file without that metadata is assumed to be
//    normalised as mnas trains: 1 channel as Fashion-MNIST (mean 0.2860,
//    stddev 0.3530, its class names when there are 10 classes), 3 channels as
//    ImageNet, no eval crop (ClassifyRun::normalisation says which).
//  - Quantized I/O (int8 ONNX or TFLite files exported with --int8-io): an
//    int8 input gets the prepared image quantized with its scale and zero
//    point (train/quantize.h quantize_int8; ONNX: the parameters of the
//    DequantizeLinear that reads the input, TFLite: the tensor's), an int8
//    output is dequantized with its parameters (ONNX: of the QuantizeLinear
//    that writes it) before the softmax. Float and int8 files (also int8
//    files with float I/O) are classified alike.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mnas::train {

struct ClassifyOptions {
  // An mnas checkpoint (a zip archive), a TFLite file ("TFL3" at byte 4 or
  // *.tflite), or an ONNX file (*.onnx or any other content).
  std::string model;
  std::string labels_file;  // one label per line; empty = the model's class names
  int top_k = 5;            // >= 1 (capped at the number of classes)
  bool use_ema = true;      // checkpoint: EMA weights when it has them
};

struct ClassPrediction {
  int index = 0;
  std::string label;
  double probability = 0;  // softmax of the logits
};

struct ImageClassification {
  std::string file;
  std::vector<ClassPrediction> top;  // best first
  std::string error;                 // non-empty: the image could not be classified
};

struct ClassifyRun {
  std::string model;
  // "LibTorch 1.13.1" | "ONNX Runtime 1.30.0" | "Arm NN 22.0.0 (TfLite parser, CpuRef backend)"
  std::string runtime;
  std::string io = "float32";  // "float32", or "int8": the file has quantized I/O
  int image_size = 0, channels = 0, num_classes = 0;
  // e.g. "fashion-mnist (checkpoint)", "fashion-mnist (ONNX metadata)", "synthetic (TFLite metadata)"
  std::string normalisation;
  std::vector<ImageClassification> images;  // in the order given
  int failed() const;
};

// Classifies `files` in one batch. The model is loaded once; an image that
// cannot be read or decoded gets an error naming the file, and the others are
// still classified. Throws ConfigError for bad options, a labels file that
// cannot be read or whose line count is not the model's class count, and
// mnas::Error naming the model when it cannot be loaded (missing, truncated
// or corrupt, not a checkpoint / ONNX / TFLite model, input shape not
// [N, C, H, W] (ONNX) or [N, H, W, C] (TFLite), I/O neither float32 nor int8
// with known parameters) or its runtime cannot run it (ONNX Runtime: node or
// onnxruntime-node missing, names scripts/setup.sh; Arm NN rejects it).
ClassifyRun classify_images(const ClassifyOptions& options, const std::vector<std::string>& files);

// {"model", "runtime", "io", "image_size", "channels", "normalisation", "images":
// [{"file", "top": [{"index", "label", "probability"}]} | {"file", "error"}]}.
nlohmann::json classify_json(const ClassifyRun& run);

// Per image: its name, then one line per label, "  0.9731  sneaker (7)";
// failed images are left out (their errors are ClassifyRun::images[i].error).
std::string classify_text(const ClassifyRun& run);

}  // namespace mnas::train
