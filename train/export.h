// Export of a trained checkpoint for deployment: library mnas::export
// (train/export.cpp, train/onnx_emitter.cpp, train/tflite_emitter.cpp,
// train/tflite_runtime.cpp), kept apart from mnas::train so that training
// links neither libonnx, OpenCV DNN nor Arm NN. Torch-free header.
//
// Both exports are the eval-mode network of the checkpoint (EMA weights when
// the checkpoint has them, as the reference's export_moving_average=True),
// with every BatchNorm folded into the preceding convolution, at the
// checkpoint's image size and a fixed batch:
//  - ONNX (opset 13), built node by node with Debian libonnx's protobuf
//    classes and checked with onnx::checker; input "input" [batch, C, H, W]
//    normalised as in training, output "logits" [batch, classes]; the
//    normalisation and class names in metadata_props (kOnnxMeta* below).
//    Verified in OpenCV DNN and in ONNX Runtime.
//  - TFLite (float32), a flatbuffer of the official TFLite schema
//    (train/tflite_emitter.h), verified in Arm NN's TfLite parser on its
//    reference CPU backend (train/tflite_runtime.h); input "input"
//    [batch, H, W, C] (NHWC) normalised as in training, output "logits"
//    [batch, classes]; the normalisation and class names in the model's
//    metadata (Model.metadata "mnas", train/tflite_model.h
//    kTfLiteMetadataName: a JSON object of the values under the ONNX
//    keys below, named without "mnas.").
//  - int8 (post-training quantization, onnx_int8_path / tflite_int8_path):
//    activation ranges calibrated on `calibration` training images (eval
//    preprocessing, train/calibrate.h), int8 weights symmetric per output
//    channel, int8 activations asymmetric per tensor, int32 biases
//    (train/quantize.h); float32 input and logits, or with int8_io int8
//    "input" and "logits" tensors (quantized I/O: the input carries the
//    calibrated input range's scale and zero point, the logits the
//    classifier output's; train/onnx_emitter.h, train/tflite_emitter.h).
//    ONNX in QDQ form
//    (train/onnx_emitter.h), verified in ONNX Runtime; TFLite with integer
//    kernels (train/tflite_emitter.h), verified in Arm NN. Verification
//    runs `int8_verify_images` test images through the int8 file and the
//    float LibTorch model: top-1 agreement >= int8_min_agreement and
//    accuracy drop <= int8_max_accuracy_drop (quantized I/O: the float test
//    images quantized with the input tensor's parameters, the int8 logits
//    dequantized with the output tensor's, then the same checks).
//  - TorchScript: a torch.jit module defined from generated TorchScript
//    source over the folded weights (not torch.jit.trace: LibTorch C++ has no
//    module tracer), loadable with Python's torch.jit.load and LibTorch's
//    torch::jit::load; forward(x) -> logits.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "train/quantize.h"

namespace mnas::train {

struct ExportOptions {
  std::string checkpoint;        // mnas checkpoint (train/checkpoint.h)
  std::string onnx_path;         // empty = no ONNX
  std::string torchscript_path;  // empty = no TorchScript
  std::string tflite_path;       // empty = no TFLite
  std::string onnx_int8_path;    // empty = no int8 ONNX (QDQ)
  std::string tflite_int8_path;  // empty = no int8 TFLite
  int calibration = 256;         // training images calibrating the int8 activation ranges (>= 1)
  int int8_verify_images = 500;  // test images comparing an int8 file with the float model (>= batch)
  double int8_min_agreement = 0.99;     // share of those images with the float model's top-1, in [0, 1]
  double int8_max_accuracy_drop = 0.01; // float accuracy - int8 accuracy (a share, 0.01 = 1 point), >= 0
  // Quantized I/O for both int8 files: int8 "input" and "logits" tensors
  // (no quantize at the start nor dequantize at the end); the caller
  // quantizes its float input with the input tensor's scale and zero point.
  bool int8_io = false;
  int batch = 1;                 // fixed batch dimension of the ONNX and TFLite graphs
  bool use_ema = true;           // EMA weights when the checkpoint has them
  // Run the exported files (ONNX in OpenCV DNN and ONNX Runtime, TFLite in
  // Arm NN, TorchScript in LibTorch) on a random input and compare their
  // logits with the LibTorch model's.
  bool verify = true;
  // Verification passes when max |logit difference| <= tolerance + rtol *
  // max |LibTorch logit| (float32 kernels differ by a relative error, so the
  // bound scales with the logits). Both finite and >= 0 (ConfigError).
  double tolerance = 1e-4;       // absolute part
  double rtol = 1e-3;            // relative part
};

// An int8 file against the float LibTorch model on labelled test images.
struct Int8Check {
  int images = 0;               // 0 = not verified
  double top1_agreement = -1;   // share with the float model's top-1
  double accuracy = -1;         // the int8 file's top-1 accuracy
  double float_accuracy = -1;   // the LibTorch model's on the same images
  double max_abs_diff = -1;     // max |logit difference| (information only)
  std::string runtime;          // e.g. "ONNX Runtime 1.30.0"
};

struct ExportReport {
  double onnx_max_abs_diff = -1;         // -1 = not verified
  double torchscript_max_abs_diff = -1;  // -1 = not verified
  double onnx_top1_agreement = -1;       // share of the batch with the same argmax
  double torchscript_top1_agreement = -1;
  double tflite_max_abs_diff = -1;       // -1 = not verified
  double tflite_top1_agreement = -1;
  double allowed_diff = -1;              // tolerance + rtol * max |logit|
  int onnx_nodes = 0;
  // The ONNX file is verified in two runtimes: onnx_* above is OpenCV DNN,
  // these are ONNX Runtime (npm onnxruntime-node, train/onnxruntime_runner.h).
  double onnxruntime_max_abs_diff = -1;  // -1 = not verified
  double onnxruntime_top1_agreement = -1;
  std::string onnxruntime_version;       // e.g. "1.30.0"
  std::string opencv_version;            // e.g. "4.6.0"
  // Why ONNX Runtime did not check the file ("" = it did, or no verification):
  // not installed (setup could not reach npm); OpenCV DNN still did.
  std::string onnxruntime_skipped;
  int tflite_operators = 0;
  long long tflite_bytes = 0;            // size of the TFLite file
  // int8 exports.
  int calibration_images = 0;
  Int8Check onnx_int8, tflite_int8;
  int onnx_int8_nodes = 0, tflite_int8_operators = 0;
  long long onnx_int8_bytes = 0, tflite_int8_bytes = 0;
  // Quantized I/O (ExportOptions::int8_io): the int8 files' "input" and
  // "logits" parameters (the same in both files).
  quant::Params int8_input, int8_logits;
};

// Keys of the ONNX model's metadata_props that mnas writes for inference
// (mnas_classify): the training dataset kind, its per-channel normalisation
// of [0, 1] pixels (JSON arrays of input-channel length), the eval centre
// crop fraction, and the class names (JSON array; empty when not fixed).
inline constexpr const char* kOnnxMetaDataset = "mnas.dataset";
inline constexpr const char* kOnnxMetaMean = "mnas.mean";
inline constexpr const char* kOnnxMetaStddev = "mnas.stddev";
inline constexpr const char* kOnnxMetaEvalCrop = "mnas.eval_crop";
inline constexpr const char* kOnnxMetaClassNames = "mnas.class_names";

// Writes the requested files, each to a temporary beside it (common/files.h
// AtomicFile) that is verified first; the files are renamed into place only
// when every requested export passed, so nothing unverified ever carries a
// requested name. Checks before anything: every tensor name and shape of the
// checkpoint against its stored architecture (load_checkpoint_model), and
// that no output is the checkpoint or another output (check_output_path,
// through links). Throws ConfigError for those and bad options, mnas::Error
// naming the file on I/O errors, when the ONNX checker rejects the graph, or
// when verification exceeds the tolerance (the message names the runtime and
// gives the difference, the allowed difference and the top-1 agreement), and
// when ONNX Runtime cannot run (node or onnxruntime-node missing: the message
// names scripts/setup.sh).
ExportReport export_checkpoint(const ExportOptions& options);

// What mnas_export prints: {"checkpoint", "onnx": {"path", "nodes",
// "max_abs_diff", "top1_agreement" (the worst of the runtimes), "verified_in":
// [{"runtime": "OpenCV DNN 4.6.0" | "ONNX Runtime 1.30.0", "max_abs_diff",
// "top1_agreement"}], "not_verified_in": [why] only when ONNX Runtime is not
// installed}, "torchscript": {"path", "max_abs_diff",
// "top1_agreement"}, "tflite": {"path", "operators", "bytes", "runtime",
// "max_abs_diff", "top1_agreement"}, "onnx_int8" / "tflite_int8": {"path",
// "nodes" | "operators", "bytes", "calibration_images", "runtime", "images",
// "top1_agreement", "accuracy", "float_accuracy", "max_abs_diff", "io",
// and with "io" "int8" "input_quantization" / "logits_quantization":
// {"scale", "zero_point"}}, "allowed_diff"}, each export only when
// requested, null for what was not verified. "io" is each file's input and
// output type: "float32", or "int8" (quantized I/O); every file has it.
nlohmann::json export_report_json(const ExportReport& report, const ExportOptions& options);

}  // namespace mnas::train
