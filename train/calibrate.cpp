#include "train/calibrate.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "common/error.h"
#include "model/network_walk.h"
#include "model/weights.h"
#include "train/datasets.h"

namespace mnas::train {
namespace {

// The folded eval-mode network on torch tensors, recording the range of
// every value it produces under the keys of quant::Ranges.
class RangeEmitter : public model::Emitter<torch::Tensor> {
 public:
  RangeEmitter(const model::ModuleWeights& w, double eps, quant::Ranges& ranges)
      : w_(w), eps_(eps), ranges_(ranges) {}

  void observe(const std::string& k, const torch::Tensor& t) {
    const torch::Tensor c = t.contiguous();
    ranges_[k].observe(c.data_ptr<float>(), static_cast<size_t>(c.numel()));
  }

  torch::Tensor conv(const torch::Tensor& x, const model::ConvStep& s) override {
    const model::FoldedConv f = model::fold_conv_bn(w_, s.module, eps_);
    const auto& p = s.pad;
    torch::Tensor y = p.any() ? torch::constant_pad_nd(x, {p.left, p.right, p.top, p.bottom}) : x;
    const std::vector<int64_t> stride = {s.strides[0], s.strides[1]}, none = {0, 0}, one = {1, 1};
    y = torch::conv2d(y, f.weight, f.bias, stride, none, one, s.groups);
    if (s.relu) y = torch::relu(y);
    observe(s.module, y);
    return y;
  }
  torch::Tensor squeeze_excite(const torch::Tensor& x, const model::SqueezeExciteStep& s) override {
    auto at = [&](const char* leaf) { return w_.at(model::weight_key(s.module, leaf)); };
    torch::Tensor p = x.mean({2, 3}, /*keepdim=*/true);
    observe(quant::key(s.module, "pool"), p);
    torch::Tensor r = torch::relu(torch::conv2d(p, at("reduce.weight"), at("reduce.bias")));
    observe(quant::key(s.module, "reduce"), r);
    torch::Tensor e = torch::conv2d(r, at("expand.weight"), at("expand.bias"));
    observe(quant::key(s.module, "expand"), e);
    torch::Tensor g = torch::sigmoid(e);
    observe(quant::key(s.module, "gate"), g);
    torch::Tensor y = x * g;
    observe(quant::key(s.module, "out"), y);
    return y;
  }
  torch::Tensor residual(const torch::Tensor& y, const torch::Tensor& input, const model::ResidualStep& r) override {
    const std::string k = quant::residual_key(residuals_++);
    torch::Tensor skip = input;
    if (r.skip == space::SkipOp::kPool) {
      skip = torch::avg_pool2d(input, {r.pool_kernel, r.pool_kernel}, {r.strides[0], r.strides[1]},
                               {r.pool_pad, r.pool_pad}, /*ceil_mode=*/false, /*count_include_pad=*/false);
      observe(quant::key(k, "pool"), skip);
    }
    torch::Tensor s = y + skip;
    observe(k, s);
    return s;
  }
  torch::Tensor classifier(const torch::Tensor& x, const model::ClassifierStep& c) override {
    torch::Tensor p = x.mean({2, 3});
    observe(quant::key(c.module, "pool"), p);
    torch::Tensor l = torch::linear(p, w_.at(model::weight_key(c.module, "fc.weight")),
                                    w_.at(model::weight_key(c.module, "fc.bias")));
    observe(quant::key(c.module, "logits"), l);
    return l;
  }

 private:
  const model::ModuleWeights& w_;
  double eps_;
  quant::Ranges& ranges_;
  int residuals_ = 0;
};

}  // namespace

LabelledImages checkpoint_images(const CheckpointInfo& info, bool train, int64_t n, uint64_t seed) {
  if (n < 1) throw ConfigError("number of images must be >= 1, got " + std::to_string(n));
  const auto& p = info.params;
  const Dataset d = load_dataset(info.config.dataset, info.config.data_path, train, p.num_classes);
  if (d.num_classes != p.num_classes || d.channels != p.input_channels) {
    throw ConfigError("the checkpoint expects " + std::to_string(p.num_classes) + " classes and " +
                      std::to_string(p.input_channels) + " channels; dataset " + info.config.dataset + " has " +
                      std::to_string(d.num_classes) + " and " + std::to_string(d.channels));
  }
  std::vector<int64_t> order(static_cast<size_t>(d.size()));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  order.resize(static_cast<size_t>(std::min<int64_t>(n, d.size())));
  const Dataset s = subset(d, order);
  PipelineOptions o;
  o.image_size = p.image_size;
  o.train = false;
  // As the trainer's evaluation (train/loop.cpp): the centre crop applies to
  // folder datasets only; the fixed-size sets are used whole.
  o.eval_crop = info.config.dataset == "folder" ? info.config.eval_crop : 1.0;
  o.batch_size = 64;
  o.drop_last = false;
  o.workers = 1;
  BatchStream stream(s, o, 0);
  LabelledImages out;
  std::vector<torch::Tensor> parts;
  Batch b;
  while (stream.next(b)) {
    if (b.size == 0) continue;
    parts.push_back(torch::from_blob(b.images.data(), {b.size, p.image_size, p.image_size, p.input_channels},
                                     torch::kFloat32)
                        .permute({0, 3, 1, 2})
                        .clone(torch::MemoryFormat::Contiguous));  // a copy: `b` is reused (with 1 channel the
                                                                  // permuted view is already contiguous)
    out.labels.insert(out.labels.end(), b.labels.begin(), b.labels.end());
  }
  if (parts.empty()) throw Error("no image of dataset " + info.config.dataset + " could be loaded");
  out.images = torch::cat(parts);
  return out;
}

quant::Ranges calibrate(model::MnasNet& net, const torch::Tensor& images, int64_t batch, torch::Tensor* logits) {
  if (batch < 1) throw ConfigError("calibration batch must be >= 1, got " + std::to_string(batch));
  torch::NoGradGuard no_grad;
  net->eval();
  const model::ModuleWeights weights(*net);
  quant::Ranges ranges;
  RangeEmitter e(weights, net->params().bn_epsilon, ranges);
  std::vector<torch::Tensor> outs;
  for (int64_t i = 0; i < images.size(0); i += batch) {
    const torch::Tensor x = images.slice(0, i, std::min(i + batch, images.size(0))).contiguous();
    e.observe(quant::kInputKey, x);
    outs.push_back(model::emit_network(net->layers(), net->params().tf_same_padding, e, x));
  }
  if (logits) *logits = outs.empty() ? torch::Tensor() : torch::cat(outs);
  return ranges;
}

}  // namespace mnas::train
