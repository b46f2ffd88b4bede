#include "train/throughput.h"

#include "common/malloc_tuning.h"
#include "model/mnasnet.h"
#include "train/optim.h"
#include "train/torch_support.h"
#include "train/train_config.h"

namespace mnas::train {

double measure_train_throughput(const ThroughputOptions& o) {
  keep_freed_buffers();
  torch::set_num_threads(o.threads);
  torch::manual_seed(0);
  const torch::Device device = parse_device(o.device);
  TrainConfig c;
  c.arch = o.arch;
  c.image_size = o.image_size;
  const auto spec = resolve_model(c, o.num_classes, o.input_channels);
  model::MnasNet net(spec.arch, spec.params);
  net->to(device);
  if (o.channels_last) model::to_channels_last(*net);
  std::vector<torch::Tensor> params = net->parameters();
  SgdNesterov opt(params, 0.9);
  auto x = torch::randn({o.batch_size, o.input_channels, o.image_size, o.image_size}).to(device);
  if (o.channels_last) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
  auto y = torch::randint(o.num_classes, {o.batch_size}, torch::kInt64).to(device);
  net->train();
  auto one = [&] {
    for (auto& p : params) {
      if (p.grad().defined()) p.grad().zero_();
    }
    auto loss = torch::nn::functional::cross_entropy(net->forward(x), y);
    loss.backward();
    opt.step(0.01);
    (void)loss.item<double>();
  };
  for (int i = 0; i < o.warmup; ++i) one();
  const auto t0 = Clock::now();
  for (int i = 0; i < o.steps; ++i) one();
  return o.steps * static_cast<double>(o.batch_size) / seconds_since(t0);
}

}  // namespace mnas::train
