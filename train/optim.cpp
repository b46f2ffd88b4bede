// TF RMSProp, Nesterov SGD and the TF weight EMA (train/optim.h).
#include "train/optim.h"

#include <algorithm>

namespace mnas::train {

RmsPropTF::RmsPropTF(std::vector<torch::Tensor> params, double decay, double momentum, double epsilon)
    : params_(std::move(params)), decay_(decay), momentum_(momentum), epsilon_(epsilon) {
  for (const auto& p : params_) {
    ms_.push_back(torch::ones_like(p));  // TF init_rms = ones
    mom_.push_back(torch::zeros_like(p));
  }
}

void RmsPropTF::step(double lr) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    const auto& g = params_[i].grad();
    if (!g.defined()) continue;
    ms_[i].mul_(decay_).addcmul_(g, g, 1.0 - decay_);
    mom_[i].mul_(momentum_).addcdiv_(g, (ms_[i] + epsilon_).sqrt_(), lr);
    params_[i].sub_(mom_[i]);
  }
}

std::map<std::string, std::vector<torch::Tensor>> RmsPropTF::slots() { return {{"ms", ms_}, {"mom", mom_}}; }

SgdNesterov::SgdNesterov(std::vector<torch::Tensor> params, double momentum)
    : params_(std::move(params)), momentum_(momentum) {
  for (const auto& p : params_) buf_.push_back(torch::zeros_like(p));
}

void SgdNesterov::step(double lr) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    const auto& g = params_[i].grad();
    if (!g.defined()) continue;
    buf_[i].mul_(momentum_).add_(g);
    params_[i].add_(g + momentum_ * buf_[i], -lr);
  }
}

std::map<std::string, std::vector<torch::Tensor>> SgdNesterov::slots() { return {{"buf", buf_}}; }

double ema_decay_at(double decay, int64_t num_updates) {
  return std::min(decay, (1.0 + num_updates) / (10.0 + num_updates));
}

void ema_update(torch::nn::Module& ema, torch::nn::Module& model, double d) {
  torch::NoGradGuard no_grad;
  auto mp = model.named_parameters();
  for (auto& item : ema.named_parameters()) item.value().lerp_(mp[item.key()], 1.0 - d);
  auto mb = model.named_buffers();
  for (auto& item : ema.named_buffers()) {
    if (item.value().is_floating_point()) {
      item.value().lerp_(mb[item.key()], 1.0 - d);
    } else {
      item.value().copy_(mb[item.key()]);
    }
  }
}

}  // namespace mnas::train
