#include "model/weights.h"

#include "common/error.h"
#include "model/network_walk.h"

namespace mnas::model {

ModuleWeights::ModuleWeights(torch::nn::Module& module) {
  for (const auto& item : module.named_parameters()) tensors_.emplace(item.key(), item.value());
  for (const auto& item : module.named_buffers()) tensors_.emplace(item.key(), item.value());
}

const torch::Tensor& ModuleWeights::at(const std::string& key) const {
  auto it = tensors_.find(key);
  if (it == tensors_.end()) throw Error("module has no tensor '" + key + "'");
  return it->second;
}

torch::Tensor plain(const torch::Tensor& t) { return t.detach().contiguous().to(torch::kFloat32).cpu(); }

FoldedConv fold_conv_bn(const ModuleWeights& w, const std::string& module, double bn_epsilon) {
  torch::NoGradGuard no_grad;
  auto at = [&](const char* leaf) { return w.at(weight_key(module, leaf)); };
  const auto scale = at("bn.weight") / (at("bn.running_var") + bn_epsilon).sqrt();
  FoldedConv f;
  f.weight = plain(at("conv.weight") * scale.view({-1, 1, 1, 1}));
  f.bias = plain(at("bn.bias") - at("bn.running_mean") * scale);
  return f;
}

}  // namespace mnas::model
