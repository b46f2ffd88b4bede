// The training loop of the MnasNet recipe (reference section 8), the proxy
// child trainer and the checkpoint format. The only Torch translation unit of
// training besides export.cpp.
#include "train/trainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <optional>
#include <set>

#include "common/error.h"
#include "common/files.h"
#include "common/json_file.h"
#include "common/malloc_tuning.h"
#include "model/mnasnet.h"
#include "space/block_codec.h"
#include "train/datasets.h"
#include "train/optim.h"

namespace mnas::train {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
constexpr const char* kCheckpointFormat = "mnas-checkpoint-v1";

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string format_duration(double s) {
  const int64_t t = static_cast<int64_t>(s);
  char buf[64];
  if (t >= 3600) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", (long long)(t / 3600), (long long)(t % 3600 / 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", (long long)(t / 60), (long long)(t % 60));
  }
  return buf;
}

torch::Device parse_device(const std::string& name) {
  try {
    torch::Device d(name);
    if (d.is_cuda() && !torch::cuda::is_available()) {
      throw ConfigError("device '" + name + "': CUDA is not available in this LibTorch build/machine");
    }
    return d;
  } catch (const c10::Error&) {
    throw ConfigError("device '" + name + "': expected cpu or cuda[:N]");
  }
}

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

// ---------------------------------------------------------------- checkpoint

// The first line of a LibTorch message (c10::Error texts can run to many
// lines of context).
std::string first_line(const std::string& s) {
  const auto nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

c10::IValue read_pickle(const std::string& path) {
  const std::string text = read_file(path, "checkpoint");
  const std::vector<char> bytes(text.begin(), text.end());
  try {
    return torch::pickle_load(bytes);
  } catch (const c10::Error& e) {
    throw Error("'" + path + "' is not an mnas checkpoint: " + e.what_without_backtrace());
  }
}

struct Loaded {
  json meta;
  std::map<std::string, torch::Tensor> tensors;
};

Loaded load_checkpoint(const std::string& path) {
  const auto v = read_pickle(path);
  Loaded l;
  if (!v.isGenericDict()) throw Error("'" + path + "' is not an mnas checkpoint (not a dict)");
  const auto d = v.toGenericDict();
  if (!d.contains("meta") || !d.contains("tensors")) {
    throw Error("'" + path + "' is not an mnas checkpoint (no meta/tensors)");
  }
  if (!d.at("meta").isString() || !d.at("tensors").isGenericDict()) {
    throw Error("'" + path + "' is not an mnas checkpoint (meta/tensors of the wrong type)");
  }
  l.meta = parse_json(d.at("meta").toStringRef(), "checkpoint '" + path + "' meta");
  if (!l.meta.is_object()) throw Error("'" + path + "': checkpoint meta is not a JSON object");
  if (l.meta.value("format", "") != kCheckpointFormat) {
    throw Error("'" + path + "': unknown checkpoint format (expected " + kCheckpointFormat + ")");
  }
  for (const auto& item : d.at("tensors").toGenericDict()) {
    if (!item.key().isString() || !item.value().isTensor()) {
      throw Error("'" + path + "' is not an mnas checkpoint (a tensor entry of the wrong type)");
    }
    l.tensors[item.key().toStringRef()] = item.value().toTensor();
  }
  return l;
}

CheckpointInfo info_from_meta(const json& meta, const std::string& path) {
  try {
    CheckpointInfo info;
    info.block_strings = meta.at("block_strings").get<std::vector<std::string>>();
    info.params = global_params_from_json(meta.at("global_params"));
    info.config = train_config_from_json(meta.at("config"));
    info.step = meta.at("step").get<int64_t>();
    info.total_steps = meta.at("total_steps").get<int64_t>();
    info.has_ema = meta.at("has_ema").get<bool>();
    if (meta.contains("train_image_size")) {
      info.train_image_size = meta.at("train_image_size").get<int>();
    } else {
      // Older checkpoints: the low-resolution phase covers the first
      // low_res_epochs / epochs of the steps.
      const auto& c = info.config;
      const bool low = c.low_res_size > 0 &&
                       static_cast<double>(info.step) < info.total_steps * (c.low_res_epochs / c.epochs);
      info.train_image_size = low ? c.low_res_size : c.image_size;
    }
    if (meta.contains("train_loss") && meta.at("train_loss").is_number()) {
      info.train_loss = meta.at("train_loss").get<double>();
    }
    return info;
  } catch (const json::exception& e) {
    throw Error("'" + path + "': bad checkpoint meta: " + e.what());
  } catch (const ConfigError& e) {
    throw Error("'" + path + "': bad checkpoint meta: " + e.what());
  }
}

std::string shape_string(c10::IntArrayRef sizes) {
  std::string s = "[";
  for (size_t i = 0; i < sizes.size(); ++i) s += (i ? ", " : "") + std::to_string(sizes[i]);
  return s + "]";
}

// Checks every name, shape and dtype kind under `prefix` against `m` (both
// ways: nothing missing, nothing extra) before copying anything.
void load_into(torch::nn::Module& m, const std::map<std::string, torch::Tensor>& t,
               const std::string& prefix, const std::string& path) {
  torch::NoGradGuard no_grad;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;
  std::set<std::string> expected;
  auto check = [&](const std::string& name, torch::Tensor& dst) {
    const std::string key = prefix + name;
    expected.insert(key);
    auto it = t.find(key);
    if (it == t.end()) {
      throw ConfigError("checkpoint '" + path + "': missing tensor '" + key +
                        "' of the stored architecture (was the architecture edited?)");
    }
    if (it->second.sizes() != dst.sizes() || it->second.is_floating_point() != dst.is_floating_point()) {
      throw ConfigError("checkpoint '" + path + "': tensor '" + key + "' has shape " +
                        shape_string(it->second.sizes()) + ", the stored architecture expects " +
                        shape_string(dst.sizes()) + " (was the architecture edited?)");
    }
    copies.emplace_back(dst, it->second);
  };
  for (auto& item : m.named_parameters()) check(item.key(), item.value());
  for (auto& item : m.named_buffers()) check(item.key(), item.value());
  for (auto it = t.lower_bound(prefix); it != t.end() && it->first.rfind(prefix, 0) == 0; ++it) {
    if (!expected.count(it->first)) {
      throw ConfigError("checkpoint '" + path + "': tensor '" + it->first +
                        "' is not part of the stored architecture (was the architecture edited?)");
    }
  }
  for (auto& [dst, src] : copies) dst.copy_(src);
}

// ------------------------------------------------------------------- the run

struct Data {
  Dataset train, val, test;
  bool has_val = false;
};

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
                    const WarningFn& on_warning = {}) {
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

class Run {
 public:
  Run(const TrainConfig& c, const Data& data)
      : c_(c),
        data_(data),
        device_(parse_device(c.device)),
        spec_(resolve_model(c, data.train.num_classes, data.train.channels)),
        net_(spec_.arch, spec_.params) {
    if (c.classifier_init == "zero") {
      torch::NoGradGuard no_grad;
      for (auto& m : net_->modules(/*include_self=*/false)) {
        if (auto* fc = m->as<torch::nn::Linear>()) {
          fc->weight.zero_();
          if (fc->bias.defined()) fc->bias.zero_();
        }
      }
    }
    if (c.ema_decay > 0) {
      ema_ = model::MnasNet(spec_.arch, spec_.params);
      copy_module_state(**ema_, *net_);
    }
    net_->to(device_);
    if (ema_) (*ema_)->to(device_);
    if (c.channels_last) {
      model::to_channels_last(*net_);
      if (ema_) model::to_channels_last(**ema_);
    }
    std::vector<torch::Tensor> params;
    for (auto& item : net_->named_parameters()) {
      params.push_back(item.value());
      decay_.push_back(!is_bn(item.key()));
    }
    params_ = params;
    if (c.optimizer == "rmsprop") {
      opt_ = std::make_unique<RmsPropTF>(params, c.rms_decay, c.momentum, c.rms_epsilon);
    } else {
      opt_ = std::make_unique<SgdNesterov>(params, c.momentum);
    }
    micro_ = c.micro_batch > 0 ? c.micro_batch : c.batch_size;
    accum_ = c.batch_size / micro_;
    micro_per_epoch_ = batches_per_epoch(data.train.size(), micro_, true);
    if (micro_per_epoch_ < accum_) {
      throw ConfigError("training set has " + std::to_string(data.train.size()) +
                        " images, fewer than one batch of " + std::to_string(c.batch_size));
    }
    const double steps_per_epoch = static_cast<double>(data.train.size()) / c.batch_size;
    schedule_ = LrSchedule::from_config(c, steps_per_epoch);
    // 2^62 micro-batches: the step count and step * accum fit an int64.
    const double micro_total = c.epochs * static_cast<double>(micro_per_epoch_);
    if (!(micro_total < 4.6e18)) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "train config 'epochs': %g epochs of %lld batches is too many steps; expected "
                    "at most %g epochs", c.epochs, static_cast<long long>(micro_per_epoch_ / accum_),
                    4.6e18 / static_cast<double>(micro_per_epoch_));
      throw ConfigError(buf);
    }
    total_steps_ = static_cast<int64_t>(micro_total) / accum_;
    if (total_steps_ < 1) total_steps_ = 1;
    schedule_.total_steps = total_steps_;
  }

  void save(const std::string& path) {
    json meta;
    meta["format"] = kCheckpointFormat;
    meta["block_strings"] = spec_.block_strings;
    meta["global_params"] = to_json(spec_.params);
    meta["config"] = to_json(c_);
    meta["step"] = step_;
    meta["total_steps"] = total_steps_;
    meta["has_ema"] = ema_.has_value();
    meta["train_image_size"] = size_at(step_ > 0 ? ((step_ - 1) * accum_) / micro_per_epoch_ : 0);
    meta["train_loss"] = std::isfinite(last_loss_) ? json(last_loss_) : json(nullptr);
    c10::impl::GenericDict tensors(c10::StringType::get(), c10::TensorType::get());
    auto put = [&](const std::string& key, const torch::Tensor& t) {
      tensors.insert(key, t.detach().to(torch::kCPU).contiguous().clone());
    };
    for (auto& item : net_->named_parameters()) put("model/" + item.key(), item.value());
    for (auto& item : net_->named_buffers()) put("model/" + item.key(), item.value());
    if (ema_) {
      for (auto& item : (*ema_)->named_parameters()) put("ema/" + item.key(), item.value());
      for (auto& item : (*ema_)->named_buffers()) put("ema/" + item.key(), item.value());
    }
    for (auto& [slot, ts] : opt_->slots()) {
      for (size_t i = 0; i < ts.size(); ++i) put("opt/" + std::to_string(i) + "/" + slot, ts[i]);
    }
    put("rng/cpu", at::detail::getDefaultCPUGenerator().get_state());
    c10::impl::GenericDict root(c10::StringType::get(), c10::AnyType::get());
    root.insert("meta", meta.dump());
    root.insert("tensors", tensors);
    const std::vector<char> bytes = torch::pickle_save(root);
    AtomicFile file(path);
    {
      std::ofstream out(file.temp_path(), std::ios::binary | std::ios::trunc);
      if (!out) throw Error("cannot write checkpoint '" + path + "' (temporary '" + file.temp_path() + "')");
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      out.flush();
      if (!out) throw Error("cannot write checkpoint '" + path + "' (disk full?)");
    }
    file.commit();
  }

  void restore(const std::string& path) {
    const auto l = load_checkpoint(path);
    const auto info = info_from_meta(l.meta, path);
    if (info.block_strings != spec_.block_strings) {
      throw ConfigError("checkpoint '" + path + "' holds another architecture (" +
                        space::arch_to_string(space::decode_arch(info.block_strings)) + ")");
    }
    load_into(*net_, l.tensors, "model/", path);
    if (ema_) {
      if (!info.has_ema) throw ConfigError("checkpoint '" + path + "' has no EMA but ema_decay > 0");
      load_into(**ema_, l.tensors, "ema/", path);
    }
    torch::NoGradGuard no_grad;
    for (auto& [slot, ts] : opt_->slots()) {
      for (size_t i = 0; i < ts.size(); ++i) {
        const auto key = "opt/" + std::to_string(i) + "/" + slot;
        auto it = l.tensors.find(key);
        if (it == l.tensors.end()) throw Error("'" + path + "': missing optimizer slot '" + key + "'");
        if (it->second.sizes() != ts[i].sizes()) {
          throw ConfigError("checkpoint '" + path + "': optimizer slot '" + key + "' has shape " +
                            shape_string(it->second.sizes()) + ", expected " + shape_string(ts[i].sizes()));
        }
        ts[i].copy_(it->second);
      }
    }
    auto rng = l.tensors.find("rng/cpu");
    if (rng != l.tensors.end()) {
      auto gen = at::detail::getDefaultCPUGenerator();
      gen.set_state(rng->second);
    }
    step_ = info.step;
    last_loss_ = info.train_loss;
  }

  TrainResult run(bool quiet, const WarningFn& on_warning) {
    TrainResult r;
    r.total_steps = total_steps_;
    const auto t0 = Clock::now();
    auto last_ckpt = Clock::now();
    const int channels = data_.train.channels;
    PipelineOptions popt;
    popt.image_size = c_.image_size;
    popt.train = true;
    popt.augment = parse_augment(c_.augment);
    popt.eval_crop = c_.dataset == "folder" ? c_.eval_crop : 1.0;
    popt.batch_size = micro_;
    popt.seed = c_.seed;
    popt.workers = data_.train.in_memory() ? 1 : 0;
    popt.max_bad_fraction = c_.max_bad_image_fraction;
    popt.on_warning = on_warning;
    std::optional<BatchStream> stream;
    int64_t stream_epoch = -1;
    double window_loss = 0;
    int64_t window_correct = 0, window_images = 0;
    auto window_start = Clock::now();
    const int64_t end_step = c_.max_steps > 0 ? std::min(total_steps_, c_.max_steps) : total_steps_;
    namespace F = torch::nn::functional;
    const auto ce = F::CrossEntropyFuncOptions().label_smoothing(c_.label_smoothing);
    r.status = TrialStatus::kOk;
    if (step_ >= end_step) {
      r.message = "the checkpoint is already at step " + std::to_string(step_) + ", at or past the end step " +
                  std::to_string(end_step) + (c_.max_steps > 0 && c_.max_steps < total_steps_ ? " (max_steps)" : "") +
                  ": no step was run; train_loss is the checkpoint's";
      r.steps = step_;
      r.train_loss = last_loss_;
      return r;
    }
    const int64_t first_step = step_;
    while (step_ < end_step) {
      net_->train();
      for (auto& p : params_) {
        if (p.grad().defined()) p.grad().zero_();
      }
      for (int a = 0; a < accum_; ++a) {
        const int64_t m = step_ * accum_ + a;
        const int64_t epoch = m / micro_per_epoch_;
        if (epoch != stream_epoch) {
          stream.reset();
          popt.image_size = size_at(epoch);
          stream.emplace(data_.train, popt, epoch, m % micro_per_epoch_);
          stream_epoch = epoch;
        }
        Batch b;
        if (!stream->next(b)) throw Error("internal: input stream ended early");
        if (b.size == 0) continue;  // every image of the micro-batch undecodable
        auto x = to_input(b, popt.image_size, channels, c_.channels_last, device_);
        auto y = torch::from_blob(b.labels.data(), {b.size}, torch::kInt64).to(device_);
        auto logits = net_->forward(x);
        auto loss = F::cross_entropy(logits, y, ce);
        const double lv = loss.item<double>();
        if (!std::isfinite(lv)) {
          r.status = TrialStatus::kDiverged;
          r.message = "loss became " + std::string(std::isnan(lv) ? "nan" : "inf") + " at step " +
                      std::to_string(step_);
          r.steps = step_;
          r.steps_run = step_ - first_step;
          r.train_seconds = seconds_since(t0);
          return r;
        }
        (accum_ > 1 ? loss / accum_ : loss).backward();
        window_loss += lv * b.size;
        window_correct += logits.argmax(1).eq(y).sum().item<int64_t>();
        window_images += b.size;
        r.images_seen += b.size;
      }
      {
        torch::NoGradGuard no_grad;
        // L2 1e-5 * sum 0.5 ||w||^2 over non-BN weights and biases (its
        // gradient, wd * w, added directly).
        if (c_.weight_decay > 0) {
          for (size_t i = 0; i < params_.size(); ++i) {
            if (decay_[i] && params_[i].grad().defined()) params_[i].grad().add_(params_[i], c_.weight_decay);
          }
        }
      }
      const double lr = schedule_.at(step_);
      {
        torch::NoGradGuard no_grad;
        opt_->step(lr);
      }
      ++step_;
      if (ema_) ema_update(**ema_, *net_, ema_decay_at(c_.ema_decay, step_));

      const bool epoch_end = (step_ * accum_) % micro_per_epoch_ < accum_;
      if (step_ % c_.log_every == 0 || step_ == end_step) {
        const double secs = seconds_since(window_start);
        const double ips = window_images / std::max(secs, 1e-9);
        const double eta = (end_step - step_) * static_cast<double>(c_.batch_size) / std::max(ips, 1e-9);
        r.train_loss = window_loss / std::max<int64_t>(window_images, 1);
        last_loss_ = r.train_loss;
        if (!quiet) {
          const double epoch_f = static_cast<double>(step_ * accum_) / micro_per_epoch_;
          std::fprintf(stderr,
                       "epoch %.2f/%g  step %lld/%lld  loss %.4f  acc %.3f  lr %.5f  %d px  %.0f img/s  ETA %s\n",
                       epoch_f, c_.epochs, (long long)step_, (long long)end_step, r.train_loss,
                       static_cast<double>(window_correct) / std::max<int64_t>(window_images, 1), lr,
                       popt.image_size, ips, format_duration(eta).c_str());
        }
        window_loss = 0;
        window_correct = window_images = 0;
        window_start = Clock::now();
      }
      if (epoch_end && c_.eval_every_epochs > 0 && data_.has_val && !quiet) {
        const int64_t epoch = (step_ * accum_) / micro_per_epoch_;
        const int64_t every = std::max<int64_t>(1, std::llround(c_.eval_every_epochs));
        if (epoch % every == 0) {
          auto e = evaluate(eval_net(), data_.val, c_, device_, on_warning);
          std::fprintf(stderr, "epoch %lld  val top1 %.4f  top5 %.4f  loss %.4f\n", (long long)epoch, e.top1,
                       e.top5, e.loss);
        }
      }
      const bool timed_out = c_.time_limit_s > 0 && seconds_since(t0) > c_.time_limit_s;
      if (!c_.checkpoint.empty() &&
          (epoch_end || timed_out || step_ == end_step || seconds_since(last_ckpt) > 60 * c_.checkpoint_minutes)) {
        save(c_.checkpoint);
        last_ckpt = Clock::now();
      }
      if (timed_out && step_ < end_step) {
        r.status = TrialStatus::kTimeout;
        r.message = "time limit of " + std::to_string(static_cast<int64_t>(std::lround(c_.time_limit_s))) + " s reached at step " +
                    std::to_string(step_) + " of " + std::to_string(end_step);
        break;
      }
    }
    r.steps = step_;
    r.steps_run = step_ - first_step;
    r.train_seconds = seconds_since(t0);
    return r;
  }

  model::MnasNet& eval_net() { return ema_ ? *ema_ : net_; }
  // Training input size of `epoch` (progressive resizing).
  int size_at(int64_t epoch) const {
    return c_.low_res_size > 0 && epoch < c_.low_res_epochs ? c_.low_res_size : c_.image_size;
  }
  torch::Device device() const { return device_; }

 private:
  const TrainConfig& c_;
  const Data& data_;
  torch::Device device_;
  ModelSpec spec_;
  model::MnasNet net_;
  std::optional<model::MnasNet> ema_;
  std::vector<torch::Tensor> params_;
  std::vector<bool> decay_;
  std::unique_ptr<Optimizer> opt_;
  LrSchedule schedule_;
  int micro_ = 1, accum_ = 1;
  int64_t micro_per_epoch_ = 1;
  int64_t total_steps_ = 1;
  int64_t step_ = 0;
  double last_loss_ = std::numeric_limits<double>::quiet_NaN();
};

bool is_oom(const std::string& what) {
  return what.find("out of memory") != std::string::npos ||
         what.find("DefaultCPUAllocator: can't allocate") != std::string::npos;
}

}  // namespace

// ---------------------------------------------------------------- optimizers

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

std::map<std::string, torch::Tensor> read_checkpoint_tensors(const std::string& path) {
  return load_checkpoint(path).tensors;
}

// ---------------------------------------------------------------- public API

TrainResult train(const TrainConfig& config, bool resume, const WarningFn& on_warning) {
  validate(config);
  keep_freed_buffers();  // also applied at start-up (common/malloc_tuning_init.cpp)
  torch::set_num_threads(config.threads);
  torch::manual_seed(config.seed);
  const Data data = load_data(config);
  TrainResult r;
  // A network too large to build (or to run) is a failed run with LibTorch's
  // first line, not an exception with a backtrace.
  std::optional<Run> built;
  try {
    built.emplace(config, data);
  } catch (const c10::Error& e) {
    r.status = TrialStatus::kFailed;
    r.message = std::string(is_oom(e.what()) ? "out of memory: " : "") + "cannot build the model: " +
                first_line(e.what_without_backtrace());
    return r;
  } catch (const std::bad_alloc&) {
    r.status = TrialStatus::kFailed;
    r.message = "out of memory (std::bad_alloc) building the model";
    return r;
  }
  Run& run = *built;
  if (resume) {
    if (config.checkpoint.empty()) throw ConfigError("--resume needs a checkpoint path");
    if (std::filesystem::exists(config.checkpoint)) {
      run.restore(config.checkpoint);
      if (!config.quiet) std::fprintf(stderr, "resumed from %s\n", config.checkpoint.c_str());
    }
  }
  try {
    r = run.run(config.quiet, on_warning);
  } catch (const c10::Error& e) {
    r.status = TrialStatus::kFailed;
    r.message = std::string(is_oom(e.what()) ? "out of memory: " : "") + first_line(e.what_without_backtrace());
    return r;
  } catch (const std::bad_alloc&) {
    r.status = TrialStatus::kFailed;
    r.message = "out of memory (std::bad_alloc)";
    return r;
  }
  auto count_bad = [&] {
    r.bad_images = (data.train.bad_images ? data.train.bad_images->count() : 0) +
                   (data.test.bad_images ? data.test.bad_images->count() : 0);
  };
  count_bad();
  if (r.status == TrialStatus::kDiverged) return r;
  if (data.has_val && r.status == TrialStatus::kOk) {
    r.val = evaluate(run.eval_net(), data.val, config, run.device(), on_warning);
  }
  if (config.eval_test && r.status == TrialStatus::kOk &&
      (config.max_steps == 0 || r.steps >= r.total_steps)) {
    r.test = evaluate(run.eval_net(), data.test, config, run.device(), on_warning);
  }
  count_bad();
  return r;
}

CheckpointInfo read_checkpoint_info(const std::string& path) {
  return info_from_meta(load_checkpoint(path).meta, path);
}

model::MnasNet load_checkpoint_model(const std::string& path, bool use_ema, CheckpointInfo* info_out) {
  const auto l = load_checkpoint(path);
  const auto info = info_from_meta(l.meta, path);
  std::optional<model::MnasNet> net;
  try {
    net.emplace(space::decode_arch(info.block_strings), info.params);
  } catch (const c10::Error& e) {
    throw ConfigError("checkpoint '" + path + "': the stored architecture cannot be built: " +
                      first_line(e.what_without_backtrace()));
  } catch (const std::bad_alloc&) {
    throw ConfigError("checkpoint '" + path + "': the stored architecture cannot be built: out of memory");
  } catch (const Error& e) {
    throw ConfigError("checkpoint '" + path + "': bad stored architecture: " + std::string(e.what()));
  }
  load_into(**net, l.tensors, use_ema && info.has_ema ? "ema/" : "model/", path);
  if (info_out) *info_out = info;
  return *net;
}

EvalResult evaluate_checkpoint(const std::string& path, const TrainConfig& data_config, int image_size) {
  keep_freed_buffers();
  torch::set_num_threads(data_config.threads);
  CheckpointInfo info;
  model::MnasNet net = load_checkpoint_model(path, /*use_ema=*/true, &info);
  TrainConfig c = data_config;
  c.image_size = image_size > 0 ? image_size : info.train_image_size;
  if (c.image_size < 8 || c.image_size > 4096) {
    throw ConfigError("evaluation image size " + std::to_string(c.image_size) + " px: expected 8..4096");
  }
  const torch::Device device = parse_device(c.device);
  const Dataset test = load_dataset(c.dataset, c.data_path, /*train=*/false, info.params.num_classes);
  if (test.num_classes != info.params.num_classes || test.channels != info.params.input_channels) {
    throw ConfigError("checkpoint '" + path + "' expects " + std::to_string(info.params.num_classes) +
                      " classes and " + std::to_string(info.params.input_channels) + " channels; dataset " +
                      c.dataset + " has " + std::to_string(test.num_classes) + " and " +
                      std::to_string(test.channels));
  }
  net->to(device);
  if (c.channels_last) model::to_channels_last(*net);
  return evaluate(net, test, c, device);
}

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

ChildResult train_child(const space::ArchSpec& arch, const ProxyConfig& proxy) {
  ChildResult out;
  try {
    validate(proxy);
    const TrainConfig c = child_train_config(arch, proxy);
    const TrainResult r = train(c, false);
    out.status = r.status;
    out.message = r.message;
    out.top1 = r.status == TrialStatus::kOk ? r.val.top1 : 0.0;
    out.loss = r.val.loss;
    out.train_seconds = r.train_seconds;
    out.eval_seconds = r.val.seconds;
    out.images_seen = r.images_seen;
  } catch (const c10::Error& e) {
    out.status = TrialStatus::kFailed;
    out.message = std::string(is_oom(e.what()) ? "out of memory: " : "") + first_line(e.what_without_backtrace());
  } catch (const std::bad_alloc&) {
    out.status = TrialStatus::kFailed;
    out.message = "out of memory (std::bad_alloc)";
  } catch (const std::exception& e) {
    out.status = TrialStatus::kFailed;
    out.message = first_line(e.what());
  }
  return out;
}

}  // namespace mnas::train
