#include "experiments/final_plan.h"

#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

#include "common/error.h"
#include "experiments/report.h"
#include "space/block_codec.h"
#include "space/named_archs.h"

namespace mnas::experiments {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

// "0.35", "1", "1.4": the shortest form of a multiplier.
std::string short_number(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

}  // namespace

train::TrainConfig default_final_recipe() {
  train::TrainConfig c;
  c.arch = "mnasnet-a1";
  c.image_size = 32;
  c.dropout = 0.2;
  c.bn_decay = 0.9;
  c.classifier_init = "zero";
  c.dataset = "fashion-mnist";
  c.augment = "flip";
  c.epochs = 2;
  c.batch_size = 128;
  c.optimizer = "sgd";
  c.base_lr = 0.1;
  c.lr_batch_base = 128;
  c.schedule = "cosine";
  c.warmup_epochs = 0.3;
  c.momentum = 0.9;
  c.weight_decay = 4e-4;
  c.label_smoothing = 0.1;
  c.ema_decay = 0;
  c.seed = 0;
  c.threads = 2;
  c.checkpoint_minutes = 2;
  c.log_every = 100;
  c.eval_test = true;
  return c;
}

std::string final_recipe_key(const train::TrainConfig& recipe) {
  nlohmann::json j = train::to_json(recipe);
  for (const char* k : {"arch", "depth_multiplier", "stem_size", "depth_divisor", "seed", "threads",
                        "device", "channels_last", "checkpoint", "checkpoint_minutes",
                        "time_limit_s", "log_every", "quiet", "eval_every_epochs", "source"}) {
    j.erase(k);
  }
  const std::string text = j.dump();  // keys sorted: the same recipe, the same text
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char ch : text) {
    h ^= ch;
    h *= 0x100000001b3ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::vector<Baseline> default_baselines() {
  return {{"mobilenet-v2", 0.35}, {"mobilenet-v2", 0.5}, {"mobilenet-v2", 0.75},
          {"mobilenet-v2", 1.0},  {"mobilenet-v2", 1.4}, {"mnasnet-a1", 1.0},
          {"mnasnet-b1", 1.0},    {"mnasnet-small", 1.0}};
}

std::vector<Baseline> parse_baselines(const std::string& text) {
  const std::string t = trim(text);
  if (t == "all") return default_baselines();
  if (t == "none") return {};
  std::vector<Baseline> out;
  std::stringstream ss(t);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item = trim(item);
    const std::string what = "--baselines: '" + item + "'";
    if (item.empty()) throw ConfigError("--baselines: an empty item in '" + text + "' (expected NAME or NAME@MULTIPLIER, comma-separated, or all | none)");
    Baseline b;
    const auto at = item.find('@');
    b.arch = item.substr(0, at);
    if (!space::is_named_arch(b.arch)) {
      std::string names;
      for (const auto& n : space::named_arch_names()) names += (names.empty() ? "" : ", ") + n;
      throw ConfigError(what + ": unknown model '" + b.arch + "' (known: " + names + ")");
    }
    if (at != std::string::npos) {
      const std::string m = item.substr(at + 1);
      char* end = nullptr;
      b.depth_multiplier = std::strtod(m.c_str(), &end);
      if (m.empty() || end != m.c_str() + m.size() || !std::isfinite(b.depth_multiplier) ||
          b.depth_multiplier <= 0 || b.depth_multiplier > 4) {
        throw ConfigError(what + ": the multiplier should be a number in (0, 4], got '" + m + "'");
      }
    }
    out.push_back(b);
  }
  if (out.empty()) throw ConfigError("--baselines: nothing in '" + text + "' (expected all, none or NAME[@MULTIPLIER],...)");
  return out;
}

std::string baseline_name(const Baseline& b) {
  if (b.arch == "mobilenet-v2" || b.depth_multiplier != 1.0) {
    return b.arch + " x" + short_number(b.depth_multiplier);
  }
  return b.arch;
}

std::vector<FinalModel> plan_final_models(const db::ExperimentRecord& experiment,
                                          const std::vector<db::TrialRecord>& trials,
                                          const FinalPlanOptions& o) {
  if (o.top_k < 0) throw ConfigError("--final must be >= 0, got " + std::to_string(o.top_k));
  if (o.seeds < 1) throw ConfigError("--final-seeds must be >= 1, got " + std::to_string(o.seeds));
  const ExperimentConfig config = stored_experiment_from_json(nlohmann::json::parse(experiment.config));
  const space::GlobalParams widths = config.space.global_params({});
  const std::string key = final_recipe_key(o.recipe);
  const std::string recipe_tag = key.substr(0, 8);

  // The top-K distinct architectures by reward, then the front's others.
  std::vector<db::TrialRecord> chosen;
  std::set<std::string> seen;
  for (const auto& t : best_trials(trials, 0)) {
    if (static_cast<int>(chosen.size()) >= o.top_k) break;
    if (seen.insert(t.arch).second) chosen.push_back(t);
  }
  if (o.pareto) {
    for (const auto& t : pareto_trials(trials)) {
      if (seen.insert(t.arch).second) chosen.push_back(t);
    }
  }

  std::vector<FinalModel> out;
  for (const auto& t : chosen) {
    for (int s = 0; s < o.seeds; ++s) {
      FinalModel m;
      m.config = o.recipe;
      m.config.arch = t.arch;
      m.config.depth_multiplier = 0;
      m.config.stem_size = widths.stem_size;
      m.config.depth_divisor = widths.depth_divisor;
      m.config.seed = o.recipe.seed + static_cast<uint64_t>(s);
      m.config.threads = o.threads;
      m.config.quiet = false;
      m.config.time_limit_s = 0;
      m.config.source = {{"experiment", experiment.id}, {"trial", t.index}};
      train::validate(m.config);
      db::FinalRecord& r = m.record;
      r.key = {experiment.id, "found", t.arch, 1.0, key, static_cast<int64_t>(m.config.seed)};
      r.name = "trial " + std::to_string(t.index);
      r.trial_index = t.index;
      r.proxy_accuracy = t.accuracy;
      r.search_reward = t.reward;
      nlohmann::json recipe = train::to_json(m.config);
      recipe["arch"] = space::split_block_strings(t.arch);
      r.recipe = recipe.dump();
      m.dir_name = "exp" + std::to_string(experiment.id) + "-trial" + std::to_string(t.index) +
                   "-" + recipe_tag + "-seed" + std::to_string(m.config.seed);
      out.push_back(std::move(m));
    }
  }
  for (const auto& b : o.baselines) {
    FinalModel m;
    m.config = o.recipe;
    m.config.arch = b.arch;
    m.config.depth_multiplier = b.depth_multiplier;
    m.config.stem_size = 0;
    m.config.depth_divisor = 0;
    m.config.threads = o.threads;
    m.config.quiet = false;
    m.config.time_limit_s = 0;
    m.config.source = {{"baseline", baseline_name(b)}};
    train::validate(m.config);
    db::FinalRecord& r = m.record;
    r.key = {experiment.id, "baseline", b.arch, b.depth_multiplier, key,
             static_cast<int64_t>(m.config.seed)};
    r.name = baseline_name(b);
    r.recipe = train::to_json(m.config).dump();
    m.dir_name = "baseline-" + b.arch + "-x" + short_number(b.depth_multiplier) + "-" +
                 recipe_tag + "-seed" + std::to_string(m.config.seed);
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace mnas::experiments
