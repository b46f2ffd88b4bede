// The ONNX graph of a network (opset 13), emitted from the walk of
// model/network_walk.h over an eval-mode module's weights, with every
// BatchNorm folded into its conv: Conv (+ Relu); SE as GlobalAveragePool,
// Conv + Relu, Conv, Sigmoid, Mul; residuals as Add (after an AveragePool
// excluding padding for the pooling skip); the classifier as
// GlobalAveragePool, Flatten, Gemm. Used by train/export.cpp.
//
// int8 (post-training quantization, given calibrated ranges): the QDQ form
// that ONNX Runtime's static quantization writes. Every activation is
// followed by QuantizeLinear + DequantizeLinear with its per-tensor
// asymmetric int8 parameters (train/quantize.h): the input, each conv's
// output after its Relu, the SE's pool, reduce, expand, sigmoid and product,
// the pooling skip's average, each residual sum and the classifier's pool;
// the weights of every Conv and of the Gemm are int8 initializers, symmetric
// per output channel, through DequantizeLinear (axis 0), the biases int32
// (scale = input scale x weight scale) through DequantizeLinear. Input and
// logits stay float32; ONNX Runtime fuses the DQ -> op -> Q groups into
// integer kernels (QLinearConv, ...).
// Quantized I/O (int8_io): "input" is int8 and goes straight into the first
// DequantizeLinear (no QuantizeLinear before it), carrying the input range's
// parameters; the Gemm's float output goes through one QuantizeLinear with
// the classifier's output range to the int8 "logits" (no DequantizeLinear
// after it). int8 rather than uint8: every activation of the graph is int8
// already, so the I/O tensors are the graph's own first and last quantized
// values with the same scale and zero point as the TFLite file's.
#pragma once

#include <onnx/onnx_pb.h>

#include <map>
#include <string>
#include <vector>

#include "model/network_walk.h"
#include "model/weights.h"
#include "train/quantize.h"

namespace mnas::train {

class OnnxEmitter : public model::Emitter<std::string> {
 public:
  // Declares input "input" [batch, channels, size, size] and output "logits"
  // [batch, classes] on `graph`. `weights` must outlive the emitter, and
  // `int8` too when given: the calibrated ranges (train/calibrate.h) that
  // make the graph the int8 QDQ one; a missing range throws mnas::Error.
  // `int8_io` (int8 only, else mnas::Error): int8 "input" and "logits".
  OnnxEmitter(onnx::GraphProto* graph, const model::ModuleWeights& weights, double bn_epsilon, int batch,
              int channels, int size, int classes, const quant::Ranges* int8 = nullptr, bool int8_io = false);

  // The value the network starts from: "input", or its QDQ for int8.
  std::string input() const { return input_; }

  std::string conv(const std::string& x, const model::ConvStep& step) override;
  std::string squeeze_excite(const std::string& x, const model::SqueezeExciteStep& step) override;
  std::string residual(const std::string& y, const std::string& input, const model::ResidualStep& step) override;
  // Writes "logits".
  std::string classifier(const std::string& x, const model::ClassifierStep& step) override;

  int nodes() const { return g_->node_size(); }

 private:
  std::string conv(const std::string& x, const torch::Tensor& w, const torch::Tensor& b,
                   std::array<int, 2> strides, const model::Padding& pad, int groups, bool relu,
                   const std::string& out_key);
  std::string init(const std::string& prefix, const torch::Tensor& t);
  std::string init_raw(const std::string& prefix, int data_type, const std::vector<int64_t>& dims,
                       const void* data, size_t bytes);
  // int8: `x` through QuantizeLinear + DequantizeLinear with the parameters
  // of range `key`; `x` unchanged for float.
  std::string qdq(const std::string& x, const std::string& key);
  // Initializers holding `q`'s scale (float) and zero point (int8).
  std::pair<std::string, std::string> qparam_inits(const quant::Params& q);
  // The weight (per output channel, axis 0) and, for int8, the int32 bias
  // of an op whose input is `x`, as DequantizeLinear outputs; initializers
  // for float.
  std::pair<std::string, std::string> weight_bias(const std::string& x, const torch::Tensor& w,
                                                  const torch::Tensor& b);
  onnx::NodeProto* node(const std::string& op, std::vector<std::string> inputs, std::string output = "");

  onnx::GraphProto* g_;
  const model::ModuleWeights& weights_;
  double bn_epsilon_;
  const quant::Ranges* int8_;
  bool int8_io_ = false;
  std::map<std::string, quant::Params> qparams_;  // of each QDQ output
  std::string input_ = "input";
  int residuals_ = 0;
  int counter_ = 0;
};

}  // namespace mnas::train
