// The ONNX graph of a network (opset 13), emitted from the walk of
// model/network_walk.h over an eval-mode module's weights, with every
// BatchNorm folded into its conv: Conv (+ Relu); SE as GlobalAveragePool,
// Conv + Relu, Conv, Sigmoid, Mul; residuals as Add (after an AveragePool
// excluding padding for the pooling skip); the classifier as
// GlobalAveragePool, Flatten, Gemm. Used by train/export.cpp.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

#include "model/network_walk.h"
#include "model/weights.h"

namespace mnas::train {

class OnnxEmitter : public model::Emitter<std::string> {
 public:
  // Declares input "input" [batch, channels, size, size] and output "logits"
  // [batch, classes] on `graph`. `weights` must outlive the emitter.
  OnnxEmitter(onnx::GraphProto* graph, const model::ModuleWeights& weights, double bn_epsilon, int batch,
              int channels, int size, int classes);

  std::string input() const { return "input"; }

  std::string conv(const std::string& x, const model::ConvStep& step) override;
  std::string squeeze_excite(const std::string& x, const model::SqueezeExciteStep& step) override;
  std::string residual(const std::string& y, const std::string& input, const model::ResidualStep& step) override;
  // Writes "logits".
  std::string classifier(const std::string& x, const model::ClassifierStep& step) override;

  int nodes() const { return g_->node_size(); }

 private:
  std::string conv(const std::string& x, const torch::Tensor& w, const torch::Tensor& b,
                   std::array<int, 2> strides, const model::Padding& pad, int groups, bool relu);
  std::string init(const std::string& prefix, const torch::Tensor& t);
  onnx::NodeProto* node(const std::string& op, std::vector<std::string> inputs, std::string output = "");

  onnx::GraphProto* g_;
  const model::ModuleWeights& weights_;
  double bn_epsilon_;
  int counter_ = 0;
};

}  // namespace mnas::train
