// Classification of image files with a trained mnas model: a checkpoint run
// in LibTorch or an exported ONNX file run in ONNX Runtime (mnas_classify).
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
//    mnas_export writes (train/export.h kOnnxMeta*). A file without them is
//    assumed to be normalised as mnas trains: 1 channel as Fashion-MNIST
//    (mean 0.2860, stddev 0.3530), 3 channels as ImageNet, no eval crop
//    (ClassifyRun::normalisation says which).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mnas::train {

struct ClassifyOptions {
  std::string model;        // an mnas checkpoint (a zip archive), or an ONNX file (.onnx or any other content)
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
  std::string runtime;        // "LibTorch 1.13.1" | "ONNX Runtime 1.30.0"
  int image_size = 0, channels = 0, num_classes = 0;
  std::string normalisation;  // e.g. "fashion-mnist (checkpoint)", "fashion-mnist (ONNX metadata)"
  std::vector<ImageClassification> images;  // in the order given
  int failed() const;
};

// Classifies `files` in one batch. The model is loaded once; an image that
// cannot be read or decoded gets an error naming the file, and the others are
// still classified. Throws ConfigError for bad options, a labels file that
// cannot be read or whose line count is not the model's class count, and
// mnas::Error naming the model when it cannot be loaded (missing, truncated,
// not a checkpoint / not an ONNX model, input shape not [N, C, H, W]) or ONNX
// Runtime cannot run (node or onnxruntime-node missing: names scripts/setup.sh).
ClassifyRun classify_images(const ClassifyOptions& options, const std::vector<std::string>& files);

// {"model", "runtime", "image_size", "channels", "normalisation", "images":
// [{"file", "top": [{"index", "label", "probability"}]} | {"file", "error"}]}.
nlohmann::json classify_json(const ClassifyRun& run);

// Per image: its name, then one line per label, "  0.9731  sneaker (7)";
// failed images are left out (their errors are ClassifyRun::images[i].error).
std::string classify_text(const ClassifyRun& run);

}  // namespace mnas::train
