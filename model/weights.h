// The tensors of a module by checkpoint key, as the emitters of
// model/network_walk.h read them (ConvStep::module and friends name them).
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>

namespace mnas::model {

// Every parameter and buffer of a module (recursively), by checkpoint key
// ("blocks.3.depthwise.conv.weight"). Holds the tensors, not copies.
class ModuleWeights {
 public:
  explicit ModuleWeights(torch::nn::Module& module);
  // Throws mnas::Error naming `key` when the module has no such tensor.
  const torch::Tensor& at(const std::string& key) const;

 private:
  std::map<std::string, torch::Tensor> tensors_;
};

// A convolution with its BatchNorm folded in (eval mode): weight *
// gamma / sqrt(var + eps) per output channel, bias beta - mean * gamma /
// sqrt(var + eps). float32, contiguous, on the CPU.
struct FoldedConv {
  torch::Tensor weight, bias;
};

// The ConvBn at checkpoint path `module` (ConvStep::module), folded.
FoldedConv fold_conv_bn(const ModuleWeights& weights, const std::string& module, double bn_epsilon);

// `t` detached, contiguous, float32, on the CPU (how exported weights are stored).
torch::Tensor plain(const torch::Tensor& t);

}  // namespace mnas::model
