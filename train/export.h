// Export of a trained checkpoint for deployment. Torch-free header.
//
// Both exports are the eval-mode network of the checkpoint (EMA weights when
// the checkpoint has them, as the reference's export_moving_average=True),
// with every BatchNorm folded into the preceding convolution, at the
// checkpoint's image size and a fixed batch:
//  - ONNX (opset 13), built node by node with Debian libonnx's protobuf
//    classes and checked with onnx::checker; input "input" [batch, C, H, W]
//    normalised as in training, output "logits" [batch, classes].
//  - TorchScript: a torch.jit module defined from generated TorchScript
//    source over the folded weights (not torch.jit.trace: LibTorch C++ has no
//    module tracer), loadable with Python's torch.jit.load and LibTorch's
//    torch::jit::load; forward(x) -> logits.
#pragma once

#include <string>

namespace mnas::train {

struct ExportOptions {
  std::string checkpoint;        // mnas checkpoint (train/trainer.h)
  std::string onnx_path;         // empty = no ONNX
  std::string torchscript_path;  // empty = no TorchScript
  int batch = 1;                 // fixed batch dimension of the ONNX graph
  bool use_ema = true;           // EMA weights when the checkpoint has them
  // Run the exported files (ONNX in OpenCV DNN, TorchScript in LibTorch) on a
  // random input and compare their logits with the LibTorch model's.
  bool verify = true;
  double tolerance = 1e-4;       // max |logit difference| allowed by verify
};

struct ExportReport {
  double onnx_max_abs_diff = -1;         // -1 = not verified
  double torchscript_max_abs_diff = -1;  // -1 = not verified
  int onnx_nodes = 0;
};

// Writes the requested files (each to <path>.tmp, then renamed). Throws
// mnas::Error naming the file on I/O errors, when the ONNX checker rejects
// the graph, or when verification exceeds the tolerance (the message gives
// the difference).
ExportReport export_checkpoint(const ExportOptions& options);

}  // namespace mnas::train
