// Checkpoints (format: train/checkpoint.h): the meta JSON, the pickled
// tensor dict, and the checks that keep an edited checkpoint from loading
// silently.
#include "train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <cmath>
#include <fstream>
#include <optional>
#include <set>
#include <utility>

#include "common/error.h"
#include "common/files.h"
#include "common/json_file.h"
#include "space/block_codec.h"
#include "space/describe.h"
#include "train/checkpoint_io.h"
#include "train/torch_support.h"

namespace mnas::train {
namespace {

using nlohmann::json;
constexpr const char* kCheckpointFormat = "mnas-checkpoint-v1";

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

json meta_from_info(const CheckpointInfo& info) {
  json meta;
  meta["format"] = kCheckpointFormat;
  meta["block_strings"] = info.block_strings;
  meta["global_params"] = space::params_to_json(info.params);
  meta["config"] = to_json(info.config);
  meta["step"] = info.step;
  meta["total_steps"] = info.total_steps;
  meta["has_ema"] = info.has_ema;
  meta["train_image_size"] = info.train_image_size;
  meta["train_loss"] = std::isfinite(info.train_loss) ? json(info.train_loss) : json(nullptr);
  return meta;
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

// Copies the optimizer slots "opt/<i>/<slot>" of a checkpoint into `opt`.
void load_slots(Optimizer& opt, const std::map<std::string, torch::Tensor>& t, const std::string& path) {
  torch::NoGradGuard no_grad;
  for (auto& [slot, ts] : opt.slots()) {
    for (size_t i = 0; i < ts.size(); ++i) {
      const auto key = "opt/" + std::to_string(i) + "/" + slot;
      auto it = t.find(key);
      if (it == t.end()) throw Error("'" + path + "': missing optimizer slot '" + key + "'");
      if (it->second.sizes() != ts[i].sizes()) {
        throw ConfigError("checkpoint '" + path + "': optimizer slot '" + key + "' has shape " +
                          shape_string(it->second.sizes()) + ", expected " + shape_string(ts[i].sizes()));
      }
      ts[i].copy_(it->second);
    }
  }
}

void write_bytes(const std::string& path, const std::vector<char>& bytes) {
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

}  // namespace

CheckpointInfo read_checkpoint_info(const std::string& path) {
  return info_from_meta(load_checkpoint(path).meta, path);
}

nlohmann::json describe_checkpoint(const CheckpointInfo& info) {
  return {{"arch", space::arch_to_string(space::decode_arch(info.block_strings))},
          {"block_strings", info.block_strings},
          {"global_params", space::params_to_json(info.params)},
          {"step", info.step},
          {"total_steps", info.total_steps},
          {"has_ema", info.has_ema}};
}

void save_checkpoint(const std::string& path, const CheckpointInfo& info, const TrainingState& state) {
  const json meta = meta_from_info(info);
  c10::impl::GenericDict tensors(c10::StringType::get(), c10::TensorType::get());
  auto put = [&](const std::string& key, const torch::Tensor& t) {
    tensors.insert(key, t.detach().to(torch::kCPU).contiguous().clone());
  };
  auto put_module = [&](const std::string& prefix, torch::nn::Module& m) {
    for (auto& item : m.named_parameters()) put(prefix + item.key(), item.value());
    for (auto& item : m.named_buffers()) put(prefix + item.key(), item.value());
  };
  put_module("model/", state.model);
  if (state.ema) put_module("ema/", *state.ema);
  for (auto& [slot, ts] : state.optimizer.slots()) {
    for (size_t i = 0; i < ts.size(); ++i) put("opt/" + std::to_string(i) + "/" + slot, ts[i]);
  }
  put("rng/cpu", at::detail::getDefaultCPUGenerator().get_state());
  c10::impl::GenericDict root(c10::StringType::get(), c10::AnyType::get());
  root.insert("meta", meta.dump());
  root.insert("tensors", tensors);
  write_bytes(path, torch::pickle_save(root));
}

CheckpointInfo restore_checkpoint(const std::string& path, const std::vector<std::string>& block_strings,
                                  const TrainingState& state) {
  const auto l = load_checkpoint(path);
  const auto info = info_from_meta(l.meta, path);
  if (info.block_strings != block_strings) {
    throw ConfigError("checkpoint '" + path + "' holds another architecture (" +
                      space::arch_to_string(space::decode_arch(info.block_strings)) + ")");
  }
  load_into(state.model, l.tensors, "model/", path);
  if (state.ema) {
    if (!info.has_ema) throw ConfigError("checkpoint '" + path + "' has no EMA but ema_decay > 0");
    load_into(*state.ema, l.tensors, "ema/", path);
  }
  load_slots(state.optimizer, l.tensors, path);
  auto rng = l.tensors.find("rng/cpu");
  if (rng != l.tensors.end()) {
    auto gen = at::detail::getDefaultCPUGenerator();
    gen.set_state(rng->second);
  }
  return info;
}

std::map<std::string, torch::Tensor> read_checkpoint_tensors(const std::string& path) {
  return load_checkpoint(path).tensors;
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

}  // namespace mnas::train
