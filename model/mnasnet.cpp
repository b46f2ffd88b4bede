#include "model/mnasnet.h"

namespace mnas::model {

MnasNetImpl::MnasNetImpl(const space::ArchSpec& arch, const space::GlobalParams& params)
    : arch_(arch), params_(params), layers_(space::expand_layers(arch, params)) {
  blocks = torch::nn::ModuleList();
  for (const auto& l : layers_) {
    switch (l.kind) {
      case space::LayerKind::kStem:
        stem = make_conv_bn(layer_steps(l, params.tf_same_padding)[0].conv, params);
        break;
      case space::LayerKind::kBlock: blocks->push_back(Block(l, params)); break;
      case space::LayerKind::kHead:
        head = make_conv_bn(layer_steps(l, params.tf_same_padding)[0].conv, params);
        break;
      case space::LayerKind::kClassifier:
        classifier = Classifier(l.in_channels, l.out_channels, params.dropout_rate);
        break;
    }
  }
  // Registered in forward order so that parameters() lists them that way.
  register_module("stem", stem);
  register_module("blocks", blocks);
  register_module("head", head);
  register_module("classifier", classifier);
  init_weights(*this);
}

torch::Tensor MnasNetImpl::features(torch::Tensor x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == params_.input_channels,
              "MnasNet expects images [N, ", params_.input_channels, ", H, W], got ", x.sizes());
  x = stem(x);
  for (const auto& block : *blocks) x = block->as<Block>()->forward(x);
  return x;
}

torch::Tensor MnasNetImpl::forward(torch::Tensor x) { return classifier(head(features(x))); }

int64_t count_parameters(torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

void to_channels_last(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters()) {
    if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
  }
  for (auto& b : module.buffers()) {
    if (b.dim() == 4) b.set_data(b.contiguous(torch::MemoryFormat::ChannelsLast));
  }
}

}  // namespace mnas::model
