// The training loop (train/loop.h): the reference recipe's step (gradient
// accumulation over micro-batches, L2 on non-BN weights, the optimizer, the
// EMA), progress windows, per-epoch evaluation and checkpoints.
#include "train/loop.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/error.h"
#include "train/checkpoint_io.h"

namespace mnas::train {
namespace {

// NHWC float batch -> NCHW tensor (channels-last strides for free, or
// contiguous) on `device`.
torch::Tensor to_input(Batch& b, int size, int channels, bool channels_last, torch::Device device) {
  auto t = torch::from_blob(b.images.data(), {b.size, size, size, channels}, torch::kFloat32)
               .permute({0, 3, 1, 2});
  t = channels_last ? t.contiguous(torch::MemoryFormat::ChannelsLast) : t.contiguous();
  return t.to(device);
}

bool is_bn(const std::string& name) { return name.find(".bn.") != std::string::npos; }

void copy_module_state(torch::nn::Module& dst, torch::nn::Module& src) {
  torch::NoGradGuard no_grad;
  auto sp = src.named_parameters();
  for (auto& item : dst.named_parameters()) item.value().copy_(sp[item.key()]);
  auto sb = src.named_buffers();
  for (auto& item : dst.named_buffers()) item.value().copy_(sb[item.key()]);
}

}  // namespace

Data load_data(const TrainConfig& c) {
  Data data;
  Dataset full = load_dataset(c.dataset, c.data_path, /*train=*/true, c.num_classes > 0 ? c.num_classes : 10);
  if (c.num_classes > 0 && c.num_classes != full.num_classes) {
    throw ConfigError("num_classes " + std::to_string(c.num_classes) + " does not match dataset " +
                      c.dataset + " (" + std::to_string(full.num_classes) + " classes)");
  }
  if (c.val_holdout > 0 || c.train_subset > 0) {
    auto split = holdout_split(full, c.val_holdout, c.train_subset, c.split_seed);
    data.train = std::move(split.train);
    data.val = std::move(split.val);
    data.has_val = c.val_holdout > 0;
  } else {
    data.train = std::move(full);
  }
  if (c.eval_test) {
    data.test = load_dataset(c.dataset, c.data_path, /*train=*/false, c.num_classes > 0 ? c.num_classes : 10);
  }
  return data;
}

EvalResult evaluate(model::MnasNet& net, const Dataset& d, const TrainConfig& c, torch::Device device,
                    const WarningFn& on_warning) {
  const auto t0 = Clock::now();
  torch::NoGradGuard no_grad;
  net->eval();
  PipelineOptions opt;
  opt.image_size = c.image_size;
  opt.max_bad_fraction = c.max_bad_image_fraction;
  opt.on_warning = on_warning;
  opt.train = false;
  opt.eval_crop = c.dataset == "folder" ? c.eval_crop : 1.0;
  opt.batch_size = std::min(c.micro_batch > 0 ? c.micro_batch : c.batch_size, 256);
  opt.drop_last = false;
  opt.workers = d.in_memory() ? 1 : 0;
  BatchStream stream(d, opt, 0);
  Batch b;
  EvalResult r;
  double loss_sum = 0;
  int64_t c1 = 0, c5 = 0;
  const int k = std::min<int>(5, std::max(1, d.num_classes));
  while (stream.next(b)) {
    if (b.size == 0) continue;  // every image undecodable
    auto x = to_input(b, c.image_size, d.channels, c.channels_last, device);
    auto y = torch::from_blob(b.labels.data(), {b.size}, torch::kInt64).to(device);
    auto logits = net->forward(x).to(torch::kFloat32);
    loss_sum += torch::nn::functional::cross_entropy(
                    logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                    .item<double>();
    auto topk = std::get<1>(logits.topk(k, 1));
    auto hit = topk.eq(y.unsqueeze(1));
    c1 += hit.select(1, 0).sum().item<int64_t>();
    c5 += hit.any(1).sum().item<int64_t>();
    r.images += b.size;
  }
  if (r.images > 0) {
    r.top1 = static_cast<double>(c1) / r.images;
    r.top5 = static_cast<double>(c5) / r.images;
    r.loss = loss_sum / r.images;
  }
  r.seconds = seconds_since(t0);
  r.image_size = c.image_size;
  if (d.bad_images) r.bad_images = d.bad_images->count();
  return r;
}

// ------------------------------------------------------------------ set-up

Run::Run(const TrainConfig& c, const Data& data)
    : c_(c),
      data_(data),
      device_(parse_device(c.device)),
      spec_(resolve_model(c, data.train.num_classes, data.train.channels)),
      net_(spec_.arch, spec_.params) {
  init_weights();
  init_optimizer();
  init_steps();
}

// The classifier initialisation, the EMA copy, the device and memory format.
void Run::init_weights() {
  if (c_.classifier_init == "zero") {
    torch::NoGradGuard no_grad;
    for (auto& m : net_->modules(/*include_self=*/false)) {
      if (auto* fc = m->as<torch::nn::Linear>()) {
        fc->weight.zero_();
        if (fc->bias.defined()) fc->bias.zero_();
      }
    }
  }
  if (c_.ema_decay > 0) {
    ema_ = model::MnasNet(spec_.arch, spec_.params);
    copy_module_state(**ema_, *net_);
  }
  net_->to(device_);
  if (ema_) (*ema_)->to(device_);
  if (c_.channels_last) {
    model::to_channels_last(*net_);
    if (ema_) model::to_channels_last(**ema_);
  }
}

// The optimizer over every parameter; weight decay on the non-BN ones.
void Run::init_optimizer() {
  std::vector<torch::Tensor> params;
  for (auto& item : net_->named_parameters()) {
    params.push_back(item.value());
    decay_.push_back(!is_bn(item.key()));
  }
  params_ = params;
  if (c_.optimizer == "rmsprop") {
    opt_ = std::make_unique<RmsPropTF>(params, c_.rms_decay, c_.momentum, c_.rms_epsilon);
  } else {
    opt_ = std::make_unique<SgdNesterov>(params, c_.momentum);
  }
}

// Micro-batches, accumulation, the schedule and the step count.
void Run::init_steps() {
  micro_ = c_.micro_batch > 0 ? c_.micro_batch : c_.batch_size;
  accum_ = c_.batch_size / micro_;
  micro_per_epoch_ = batches_per_epoch(data_.train.size(), micro_, true);
  if (micro_per_epoch_ < accum_) {
    throw ConfigError("training set has " + std::to_string(data_.train.size()) +
                      " images, fewer than one batch of " + std::to_string(c_.batch_size));
  }
  const double steps_per_epoch = static_cast<double>(data_.train.size()) / c_.batch_size;
  schedule_ = LrSchedule::from_config(c_, steps_per_epoch);
  // 2^62 micro-batches: the step count and step * accum fit an int64.
  const double micro_total = c_.epochs * static_cast<double>(micro_per_epoch_);
  if (!(micro_total < 4.6e18)) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "train config 'epochs': %g epochs of %lld batches is too many steps; expected "
                  "at most %g epochs", c_.epochs, static_cast<long long>(micro_per_epoch_ / accum_),
                  4.6e18 / static_cast<double>(micro_per_epoch_));
    throw ConfigError(buf);
  }
  total_steps_ = static_cast<int64_t>(micro_total) / accum_;
  if (total_steps_ < 1) total_steps_ = 1;
  schedule_.total_steps = total_steps_;
}

int64_t Run::end_step() const { return c_.max_steps > 0 ? std::min(total_steps_, c_.max_steps) : total_steps_; }

int Run::size_at(int64_t epoch) const {
  return c_.low_res_size > 0 && epoch < c_.low_res_epochs ? c_.low_res_size : c_.image_size;
}

// ------------------------------------------------------------- checkpoints

void Run::save(const std::string& path) {
  CheckpointInfo info;
  info.block_strings = spec_.block_strings;
  info.params = spec_.params;
  info.config = c_;
  info.step = step_;
  info.total_steps = total_steps_;
  info.has_ema = ema_.has_value();
  info.train_image_size = size_at(step_ > 0 ? ((step_ - 1) * accum_) / micro_per_epoch_ : 0);
  info.train_loss = last_loss_;
  save_checkpoint(path, info, {*net_, ema_ ? &**ema_ : nullptr, *opt_});
}

void Run::restore(const std::string& path) {
  const CheckpointInfo info = restore_checkpoint(path, spec_.block_strings, {*net_, ema_ ? &**ema_ : nullptr, *opt_});
  step_ = info.step;
  last_loss_ = info.train_loss;
}

// ---------------------------------------------------------------- the loop

struct Run::Feed {
  PipelineOptions options;
  std::optional<BatchStream> stream;
  int64_t epoch = -1;  // of `stream`
};

TrainResult Run::already_done(int64_t end) const {
  TrainResult r;
  r.total_steps = total_steps_;
  r.status = TrialStatus::kOk;
  r.message = "the checkpoint is already at step " + std::to_string(step_) + ", at or past the end step " +
              std::to_string(end) + (c_.max_steps > 0 && c_.max_steps < total_steps_ ? " (max_steps)" : "") +
              ": no step was run; train_loss is the checkpoint's";
  r.steps = step_;
  r.train_loss = last_loss_;
  return r;
}

TrainResult Run::run(const TrainCallbacks& callbacks) {
  const int64_t end = end_step();
  if (step_ >= end) return already_done(end);
  TrainResult r;
  r.total_steps = total_steps_;
  r.status = TrialStatus::kOk;
  const auto t0 = Clock::now();
  auto last_ckpt = Clock::now();
  Feed feed;
  feed.options.image_size = c_.image_size;
  feed.options.train = true;
  feed.options.augment = parse_augment(c_.augment);
  feed.options.eval_crop = c_.dataset == "folder" ? c_.eval_crop : 1.0;
  feed.options.batch_size = micro_;
  feed.options.seed = c_.seed;
  feed.options.workers = data_.train.in_memory() ? 1 : 0;
  feed.options.max_bad_fraction = c_.max_bad_image_fraction;
  feed.options.on_warning = callbacks.on_warning;
  Window window;
  const int64_t first_step = step_;
  while (step_ < end) {
    if (!accumulate_gradients(feed, window, r)) break;  // diverged
    const double lr = schedule_.at(step_);
    update_weights(lr);
    const bool epoch_end = at_epoch_end();
    if (step_ % c_.log_every == 0 || step_ == end) {
      report_window(window, lr, feed.options.image_size, end, r, callbacks);
    }
    if (epoch_end) evaluate_epoch(callbacks);
    const bool timed_out = c_.time_limit_s > 0 && seconds_since(t0) > c_.time_limit_s;
    if (!c_.checkpoint.empty() &&
        (epoch_end || timed_out || step_ == end || seconds_since(last_ckpt) > 60 * c_.checkpoint_minutes)) {
      save(c_.checkpoint);
      last_ckpt = Clock::now();
    }
    if (timed_out && step_ < end) {
      r.status = TrialStatus::kTimeout;
      r.message = "time limit of " + std::to_string(static_cast<int64_t>(std::lround(c_.time_limit_s))) +
                  " s reached at step " + std::to_string(step_) + " of " + std::to_string(end);
      break;
    }
  }
  r.steps = step_;
  r.steps_run = step_ - first_step;
  r.train_seconds = seconds_since(t0);
  return r;
}

bool Run::accumulate_gradients(Feed& feed, Window& window, TrainResult& r) {
  namespace F = torch::nn::functional;
  net_->train();
  for (auto& p : params_) {
    if (p.grad().defined()) p.grad().zero_();
  }
  const auto ce = F::CrossEntropyFuncOptions().label_smoothing(c_.label_smoothing);
  for (int a = 0; a < accum_; ++a) {
    const int64_t m = step_ * accum_ + a;
    const int64_t epoch = m / micro_per_epoch_;
    if (epoch != feed.epoch) {
      feed.stream.reset();
      feed.options.image_size = size_at(epoch);
      feed.stream.emplace(data_.train, feed.options, epoch, m % micro_per_epoch_);
      feed.epoch = epoch;
    }
    Batch b;
    if (!feed.stream->next(b)) throw Error("internal: input stream ended early");
    if (b.size == 0) continue;  // every image of the micro-batch undecodable
    auto x = to_input(b, feed.options.image_size, data_.train.channels, c_.channels_last, device_);
    auto y = torch::from_blob(b.labels.data(), {b.size}, torch::kInt64).to(device_);
    auto logits = net_->forward(x);
    auto loss = F::cross_entropy(logits, y, ce);
    const double lv = loss.item<double>();
    if (!std::isfinite(lv)) {
      r.status = TrialStatus::kDiverged;
      r.message = "loss became " + std::string(std::isnan(lv) ? "nan" : "inf") + " at step " + std::to_string(step_);
      return false;
    }
    (accum_ > 1 ? loss / accum_ : loss).backward();
    window.loss += lv * b.size;
    window.correct += logits.argmax(1).eq(y).sum().item<int64_t>();
    window.images += b.size;
    r.images_seen += b.size;
  }
  return true;
}

void Run::update_weights(double lr) {
  {
    torch::NoGradGuard no_grad;
    // L2 1e-5 * sum 0.5 ||w||^2 over non-BN weights and biases (its
    // gradient, wd * w, added directly).
    if (c_.weight_decay > 0) {
      for (size_t i = 0; i < params_.size(); ++i) {
        if (decay_[i] && params_[i].grad().defined()) params_[i].grad().add_(params_[i], c_.weight_decay);
      }
    }
    opt_->step(lr);
  }
  ++step_;
  if (ema_) ema_update(**ema_, *net_, ema_decay_at(c_.ema_decay, step_));
}

// The window's mean loss becomes the result's train_loss; the progress
// report goes to the callback.
void Run::report_window(Window& window, double lr, int image_size, int64_t end, TrainResult& r,
                        const TrainCallbacks& callbacks) {
  const double secs = seconds_since(window.start);
  const double ips = window.images / std::max(secs, 1e-9);
  r.train_loss = window.loss / std::max<int64_t>(window.images, 1);
  last_loss_ = r.train_loss;
  if (!c_.quiet && callbacks.on_step) {
    StepProgress p;
    p.epoch = static_cast<double>(step_ * accum_) / micro_per_epoch_;
    p.epochs = c_.epochs;
    p.step = step_;
    p.end_step = end;
    p.loss = r.train_loss;
    p.accuracy = static_cast<double>(window.correct) / std::max<int64_t>(window.images, 1);
    p.lr = lr;
    p.image_size = image_size;
    p.images_per_second = ips;
    p.eta_seconds = (end - step_) * static_cast<double>(c_.batch_size) / std::max(ips, 1e-9);
    callbacks.on_step(p);
  }
  window = Window{};
}

// The held-out evaluation every eval_every_epochs epochs (progress only).
void Run::evaluate_epoch(const TrainCallbacks& callbacks) {
  if (c_.eval_every_epochs <= 0 || !data_.has_val || c_.quiet) return;
  const int64_t epoch = (step_ * accum_) / micro_per_epoch_;
  const int64_t every = std::max<int64_t>(1, std::llround(c_.eval_every_epochs));
  if (epoch % every != 0) return;
  const EvalResult e = evaluate(eval_net(), data_.val, c_, device_, callbacks.on_warning);
  if (callbacks.on_epoch_eval) callbacks.on_epoch_eval(epoch, e);
}

}  // namespace mnas::train
