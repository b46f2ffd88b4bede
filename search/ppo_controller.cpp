#include "search/ppo_controller.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>
#include <sstream>

#include "common/error.h"

namespace mnas::search {

void set_torch_threads(int n) {
  if (n < 1) throw ConfigError("--threads must be >= 1, got " + std::to_string(n));
  torch::set_num_threads(n);
}

std::string cuda_device_for_local_rank(int local_rank) {
  if (!torch::cuda::is_available()) return "";
  const int n = static_cast<int>(torch::cuda::device_count());
  return "cuda:" + std::to_string(local_rank % n);
}

// ---- the LSTM --------------------------------------------------------------

namespace {

struct ControllerNetImpl : torch::nn::Module {
  ControllerNetImpl(const std::vector<int>& sizes, int hidden, int embedding)
      : cell(register_module("lstm", torch::nn::LSTMCell(torch::nn::LSTMCellOptions(embedding, hidden)))),
        start(register_parameter("start", torch::zeros({1, embedding}))) {
    for (int n : sizes) {
      heads->push_back(torch::nn::Linear(hidden, n));
      embeddings->push_back(torch::nn::Embedding(n, embedding));
    }
    register_module("heads", heads);
    register_module("embeddings", embeddings);
  }

  // Logits of decision `i` and the next state, from input x [B, E].
  std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> step(size_t i, const torch::Tensor& x,
                                                                const torch::Tensor& h,
                                                                const torch::Tensor& c) {
    auto [h2, c2] = h.defined() ? cell->forward(x, std::make_tuple(h, c)) : cell->forward(x);
    auto logits = heads[i]->as<torch::nn::Linear>()->forward(h2);
    return {logits, h2, c2};
  }

  torch::Tensor embed(size_t i, const torch::Tensor& actions) {
    return embeddings[i]->as<torch::nn::Embedding>()->forward(actions);
  }

  // Teacher-forced pass over actions [B, D]: the log-probability of each
  // decision given the ones before it [B, D] (their sum over D is the
  // architecture's) and the summed entropies [B]. masks[i], when defined, is
  // added to decision i's logits (0 for a canonical choice, -1e9 for an
  // alias).
  std::pair<torch::Tensor, torch::Tensor> evaluate(const torch::Tensor& actions,
                                                   const std::vector<torch::Tensor>& masks) {
    const int64_t batch = actions.size(0);
    torch::Tensor x = start.expand({batch, start.size(1)});
    torch::Tensor h, c;
    std::vector<torch::Tensor> logps;
    torch::Tensor ent = torch::zeros({batch}, actions.options().dtype(torch::kFloat));
    for (size_t i = 0; i < heads->size(); ++i) {
      auto [logits, h2, c2] = step(i, x, h, c);
      h = h2;
      c = c2;
      auto lp = torch::log_softmax(masks[i].defined() ? logits + masks[i] : logits, 1);
      auto a = actions.select(1, static_cast<int64_t>(i));
      logps.push_back(lp.gather(1, a.unsqueeze(1)).squeeze(1));
      ent = ent - (lp.exp() * lp).sum(1);
      x = embed(i, a);
    }
    return {torch::stack(logps, 1), ent};
  }

  torch::nn::LSTMCell cell;
  torch::Tensor start;
  torch::nn::ModuleList heads;
  torch::nn::ModuleList embeddings;
};
TORCH_MODULE(ControllerNet);

torch::Device choose_device(const std::string& name) {
  if (name == "auto") return torch::cuda::is_available() ? torch::Device("cuda") : torch::kCPU;
  if (name.rfind("cuda", 0) == 0 && !torch::cuda::is_available()) {
    throw ConfigError("strategy.ppo.device is '" + name + "' but CUDA is not available");
  }
  return torch::Device(name);
}

struct Pending {
  std::vector<int> decisions;
  double old_logp = 0;             // of the architecture: the sum of old_logps
  std::vector<double> old_logps;   // of each decision given the ones before it
};

struct Sample {
  std::vector<int> decisions;
  double old_logp = 0;
  // Empty for a sample restored from a checkpoint written before they were
  // kept (usable only by the per-architecture ratio).
  std::vector<double> old_logps;
  double advantage = 0;  // reward - baseline when observed; unused when failed
  bool failed = false;   // no reward (failed, diverged, timeout)
};

// A large negative logit offset: exp() of it is 0 in float and double, and
// 0 * it stays 0 (not NaN, as 0 * -inf would) in the entropy.
constexpr double kMaskedLogit = -1e9;

}  // namespace

struct PpoController::Impl {
  std::vector<int> sizes;
  std::vector<std::vector<int>> canon;  // canonical choice of each choice
  std::vector<torch::Tensor> masks;     // per decision: [1, n] offsets, or undefined
  PpoConfig config;
  torch::Device device;
  ControllerNet net;
  std::unique_ptr<torch::optim::Adam> optimizer;
  std::mt19937_64 rng;
  std::map<int64_t, Pending> pending;  // proposed, reward not yet observed
  std::vector<Sample> buffer;          // observed, not yet used for an update
  bool has_baseline = false;
  double baseline = 0;
  int64_t updates = 0;
  nlohmann::json last_update;

  Impl(std::vector<int> s, std::vector<std::vector<int>> aliases, PpoConfig c, uint64_t seed)
      : sizes(std::move(s)),
        canon(std::move(aliases)),
        config(std::move(c)),
        device(choose_device(config.device)),
        net(sizes, config.lstm_hidden, config.embedding_size),
        rng(seed) {
    // U(-r, r) from our own RNG (bit-identical on every device and build).
    torch::NoGradGuard no_grad;
    std::uniform_real_distribution<float> u(static_cast<float>(-config.init_range),
                                            static_cast<float>(config.init_range));
    for (auto& p : net->parameters()) {
      std::vector<float> v(static_cast<size_t>(p.numel()));
      for (auto& x : v) x = u(rng);
      p.copy_(torch::from_blob(v.data(), p.sizes(), torch::kFloat).clone());
    }
    net->to(device);
    for (size_t i = 0; i < sizes.size(); ++i) {
      std::vector<float> offsets(static_cast<size_t>(sizes[i]), 0.0f);
      bool any = false;
      for (int k = 0; k < sizes[i]; ++k) {
        if (canon[i][static_cast<size_t>(k)] != k) {
          offsets[static_cast<size_t>(k)] = static_cast<float>(kMaskedLogit);
          any = true;
        }
      }
      masks.push_back(any ? torch::tensor(offsets).reshape({1, sizes[i]}).to(device)
                          : torch::Tensor());
    }
    optimizer = std::make_unique<torch::optim::Adam>(
        net->parameters(), torch::optim::AdamOptions(config.learning_rate));
  }

  struct Walk {
    std::vector<int> decisions;
    std::vector<double> logps;  // of each decision given the ones before it
    double logp = 0;            // their sum
    double entropy = 0;         // summed over the decisions
  };

  // Walks the LSTM choosing each decision with `choose(probs)`.
  template <class Choose>
  Walk walk(Choose&& choose, std::vector<std::vector<double>>* probs_out) {
    torch::NoGradGuard no_grad;
    net->eval();
    torch::Tensor x = net->start;
    torch::Tensor h, c;
    Walk w;
    for (size_t i = 0; i < sizes.size(); ++i) {
      auto [logits, h2, c2] = net->step(i, x, h, c);
      h = h2;
      c = c2;
      if (masks[i].defined()) logits = logits + masks[i];
      auto lp = torch::log_softmax(logits.to(torch::kCPU).to(torch::kDouble), 1).squeeze(0);
      std::vector<double> lpv(lp.data_ptr<double>(), lp.data_ptr<double>() + lp.numel());
      std::vector<double> p(lpv.size());
      for (size_t k = 0; k < p.size(); ++k) {
        p[k] = std::exp(lpv[k]);
        w.entropy -= p[k] * lpv[k];
      }
      const int a = choose(p);
      w.decisions.push_back(a);
      w.logps.push_back(lpv[static_cast<size_t>(a)]);
      w.logp += w.logps.back();
      if (probs_out) probs_out->push_back(p);
      x = net->embed(i, torch::tensor({static_cast<int64_t>(a)}, torch::kLong).to(device));
    }
    return w;
  }

  // The advantages the update uses, in buffer order (see PpoConfig):
  // successes' reward - baseline, divided by their RMS when normalising;
  // failures -failure_penalty in the same units. Also returns the RMS.
  std::pair<std::vector<float>, double> advantages() const {
    double sq = 0;
    int ok = 0;
    for (const auto& s : buffer) {
      if (!s.failed) sq += s.advantage * s.advantage, ++ok;
    }
    const double rms = ok > 0 ? std::sqrt(sq / ok) : 0.0;
    // A batch whose successes all sit on the baseline carries no signal.
    const double scale = config.normalize_advantages ? (rms > 1e-12 ? 1.0 / rms : 0.0) : 1.0;
    const double unit = config.normalize_advantages ? 1.0 : rms;
    std::vector<float> adv;
    for (const auto& s : buffer) {
      adv.push_back(static_cast<float>(s.failed ? -config.failure_penalty * unit
                                                : s.advantage * scale));
    }
    return {adv, rms};
  }

  // Mean over the batch of exp(r) - 1 - r, r = new - old log-probability: an
  // estimator of KL(old || new) that is never negative. `old` is [B] (r of
  // the architecture) or [B, D] (r of each decision, the estimates summed
  // over D).
  double approx_kl(const torch::Tensor& actions, const torch::Tensor& old) {
    torch::NoGradGuard no_grad;
    auto logp = net->evaluate(actions, masks).first;
    if (old.dim() == 1) logp = logp.sum(1);
    const auto logr = logp - old;
    auto k = torch::exp(logr) - 1 - logr;
    if (k.dim() == 2) k = k.sum(1);
    return k.mean().item<double>();
  }

  void update() {
    net->train();
    const auto n = static_cast<int64_t>(buffer.size());
    const auto d = static_cast<int64_t>(sizes.size());
    const bool per_decision = config.per_decision_ratio;
    std::vector<int64_t> flat;
    std::vector<float> old_logp;  // [n] or, per decision, [n, d]
    int failures = 0;
    double raw_sum = 0;
    for (const auto& s : buffer) {
      flat.insert(flat.end(), s.decisions.begin(), s.decisions.end());
      if (per_decision) {
        if (s.old_logps.size() != s.decisions.size()) {
          throw Error("PPO controller: a sample has no per-decision log-probabilities "
                      "(restored from a checkpoint without them), which per_decision_ratio needs");
        }
        old_logp.insert(old_logp.end(), s.old_logps.begin(), s.old_logps.end());
      } else {
        old_logp.push_back(static_cast<float>(s.old_logp));
      }
      if (s.failed) ++failures;
      else raw_sum += s.advantage;
    }
    auto [adv, rms] = advantages();
    const auto actions_all =
        torch::from_blob(flat.data(), {n, d}, torch::kLong).clone().to(device);
    const auto old_all =
        torch::from_blob(old_logp.data(), per_decision ? std::vector<int64_t>{n, d}
                                                       : std::vector<int64_t>{n},
                         torch::kFloat)
            .clone()
            .to(device);
    const auto adv_all = torch::from_blob(adv.data(), {n}, torch::kFloat).clone().to(device);
    double loss_sum = 0, ent_sum = 0, clipped = 0, grad_sum = 0;
    int steps = 0, epochs_run = 0;
    double kl = 0;
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    for (int epoch = 0; epoch < config.epochs; ++epoch) {
      std::shuffle(order.begin(), order.end(), rng);
      for (int64_t b = 0; b < n; b += config.minibatch_size) {
        const int64_t e = std::min(n, b + config.minibatch_size);
        std::vector<int64_t> ids(order.begin() + b, order.begin() + e);
        const auto idx = torch::from_blob(ids.data(), {e - b}, torch::kLong).clone().to(device);
        const auto actions = actions_all.index_select(0, idx);
        const auto old = old_all.index_select(0, idx);
        const auto a = adv_all.index_select(0, idx);
        auto [logps, ent] = net->evaluate(actions, masks);
        // Per architecture: one ratio [B]. Per decision: a ratio per
        // decision [B, D], each clipped alone, the surrogates summed over D.
        const auto logp = per_decision ? logps : logps.sum(1);
        const auto adv_b = per_decision ? a.unsqueeze(1) : a;
        const auto ratio = torch::exp(logp - old);
        const auto surr1 = ratio * adv_b;
        const auto surr2 =
            torch::clamp(ratio, 1.0 - config.clip_epsilon, 1.0 + config.clip_epsilon) * adv_b;
        auto surr = torch::min(surr1, surr2);
        if (per_decision) surr = surr.sum(1);
        const auto loss = -surr.mean() - config.entropy_weight * ent.mean();
        optimizer->zero_grad();
        loss.backward();
        if (config.max_grad_norm > 0) {
          grad_sum += torch::nn::utils::clip_grad_norm_(net->parameters(), config.max_grad_norm);
        }
        optimizer->step();
        loss_sum += loss.item<double>();
        ent_sum += ent.mean().item<double>();
        clipped += (torch::abs(ratio - 1.0) > config.clip_epsilon)
                       .to(torch::kFloat)
                       .mean()
                       .item<double>();
        ++steps;
      }
      ++epochs_run;
      // KL early stop: the policy has moved far enough from the one that
      // sampled the batch; further epochs would only overfit its noise.
      if (config.target_kl > 0 || epoch + 1 == config.epochs) {
        kl = approx_kl(actions_all, old_all);
        if (config.target_kl > 0 && kl > config.target_kl) break;
      }
    }
    const int ok = static_cast<int>(n) - failures;
    ++updates;
    last_update = {{"update", updates},
                   {"samples", n},
                   {"failures", failures},
                   {"loss", loss_sum / steps},
                   {"entropy", ent_sum / steps},
                   {"clip_fraction", clipped / steps},
                   {"epochs_run", epochs_run},
                   {"approx_kl", kl},
                   {"baseline", baseline},
                   {"mean_advantage", ok > 0 ? raw_sum / ok : 0.0},
                   {"advantage_rms", rms}};
    if (config.max_grad_norm > 0) last_update["grad_norm"] = grad_sum / steps;
    buffer.clear();
  }

  // `decisions` with every alias replaced by its canonical choice.
  std::vector<int> canonical(std::vector<int> decisions) const {
    for (size_t i = 0; i < decisions.size(); ++i) {
      decisions[i] = canon[i][static_cast<size_t>(decisions[i])];
    }
    return decisions;
  }

  // The pending proposal of `trial` (checked against `decisions`), removed.
  Pending take_pending(int64_t trial, const std::vector<int>& decisions) {
    check_decisions(decisions, sizes);
    auto it = pending.find(trial);
    if (it == pending.end() || it->second.decisions != decisions) {
      throw Error("PPO controller: trial " + std::to_string(trial) +
                  " was not proposed by this controller (or with other decisions)");
    }
    Pending p = std::move(it->second);
    pending.erase(it);
    return p;
  }

  bool add(Sample s) {
    // NOTE: a proposal from a checkpoint written before aliases were masked
    // may hold one; it is the same architecture as its canonical choice.
    s.decisions = canonical(std::move(s.decisions));
    buffer.push_back(std::move(s));
    if (static_cast<int>(buffer.size()) >= config.batch_size) {
      update();
      return true;
    }
    return false;
  }
};

PpoController::PpoController(std::vector<int> choice_sizes, PpoConfig config, uint64_t seed,
                             std::vector<std::vector<int>> canonical) {
  if (choice_sizes.empty()) throw ConfigError("search space has no decisions");
  validate(config);
  if (canonical.empty()) {
    for (int n : choice_sizes) {
      canonical.emplace_back(static_cast<size_t>(std::max(n, 0)));
      std::iota(canonical.back().begin(), canonical.back().end(), 0);
    }
  }
  if (canonical.size() != choice_sizes.size()) {
    throw ConfigError("PPO controller: canonical choices for " + std::to_string(canonical.size()) +
                      " decisions, the search space has " + std::to_string(choice_sizes.size()));
  }
  for (size_t i = 0; i < choice_sizes.size(); ++i) {
    const auto& c = canonical[i];
    bool ok = static_cast<int>(c.size()) == choice_sizes[i];
    for (size_t k = 0; ok && k < c.size(); ++k) {
      // Each choice maps to a canonical one at or before it, which maps to itself.
      ok = c[k] >= 0 && c[k] <= static_cast<int>(k) && c[static_cast<size_t>(c[k])] == c[k];
    }
    if (!ok) {
      throw ConfigError("PPO controller: canonical choices of decision " + std::to_string(i) +
                        " are not a map of its " + std::to_string(choice_sizes[i]) +
                        " choices onto their first equivalents");
    }
  }
  impl_ = std::make_unique<Impl>(std::move(choice_sizes), std::move(canonical), std::move(config),
                                 seed);
}

PpoController::~PpoController() = default;

Proposal PpoController::propose(int64_t trial) {
  auto& rng = impl_->rng;
  auto w = impl_->walk(
      [&rng](const std::vector<double>& p) {
        const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
        double acc = 0;
        for (size_t k = 0; k < p.size(); ++k) {
          acc += p[k];
          if (u < acc) return static_cast<int>(k);
        }
        // Rounding left u above the sum: the last choice that can be drawn.
        int last = static_cast<int>(p.size()) - 1;
        while (last > 0 && p[static_cast<size_t>(last)] == 0) --last;
        return last;
      },
      nullptr);
  impl_->pending[trial] = {w.decisions, w.logp, w.logps};
  return {w.decisions, w.entropy};
}

bool PpoController::observe(int64_t trial, const std::vector<int>& decisions, double reward) {
  const Pending p = impl_->take_pending(trial, decisions);
  if (!std::isfinite(reward)) {
    throw Error("PPO controller: trial " + std::to_string(trial) + " has reward " +
                std::to_string(reward) + " (report a child without a reward with observe_failure)");
  }
  auto& m = *impl_;
  // The baseline starts at the first successful reward and follows
  // successful rewards only.
  if (!m.has_baseline) {
    m.baseline = reward;
    m.has_baseline = true;
  }
  const double advantage = reward - m.baseline;
  const double d = m.config.baseline_decay;
  m.baseline = d * m.baseline + (1 - d) * reward;
  return m.add({p.decisions, p.old_logp, p.old_logps, advantage, false});
}

bool PpoController::observe_failure(int64_t trial, const std::vector<int>& decisions) {
  const Pending p = impl_->take_pending(trial, decisions);
  return impl_->add({p.decisions, p.old_logp, p.old_logps, 0.0, true});
}

nlohmann::json PpoController::state() const {
  nlohmann::json pending = nlohmann::json::array();
  for (const auto& [trial, p] : impl_->pending) {
    pending.push_back({{"trial", trial},
                       {"decisions", p.decisions},
                       {"old_logp", p.old_logp},
                       {"old_logps", p.old_logps}});
  }
  nlohmann::json buffer = nlohmann::json::array();
  for (const auto& s : impl_->buffer) {
    buffer.push_back({{"decisions", s.decisions},
                      {"old_logp", s.old_logp},
                      {"old_logps", s.old_logps},
                      {"advantage", s.advantage},
                      {"failed", s.failed}});
  }
  return {{"strategy", "ppo"},
          {"rng", rng_to_string(impl_->rng)},
          {"has_baseline", impl_->has_baseline},
          {"baseline", impl_->baseline},
          {"updates", impl_->updates},
          {"last_update", impl_->last_update},
          {"pending", pending},
          {"buffer", buffer}};
}

std::string PpoController::weights() const {
  torch::serialize::OutputArchive root, net, opt;
  impl_->net->save(net);
  impl_->optimizer->save(opt);
  root.write("controller", net);
  root.write("optimizer", opt);
  std::ostringstream os;
  root.save_to(os);
  return os.str();
}

void PpoController::restore(const nlohmann::json& state, const std::string& weights) {
  // "old_logps" is absent from checkpoints written before the per-decision
  // ratio: fine for the per-architecture one, refused for the other.
  const auto old_logps = [this](const nlohmann::json& entry, const std::string& what) {
    std::vector<double> v;
    if (entry.contains("old_logps")) v = entry.at("old_logps").get<std::vector<double>>();
    const size_t d = impl_->sizes.size();
    if (!v.empty() && v.size() != d) {
      throw ConfigError("malformed PPO checkpoint: " + what + " has " + std::to_string(v.size()) +
                        " per-decision log-probabilities, the search space has " +
                        std::to_string(d) + " decisions");
    }
    if (v.empty() && impl_->config.per_decision_ratio) {
      throw ConfigError("PPO checkpoint: " + what +
                        " has no per-decision log-probabilities ('old_logps'), which "
                        "strategy.ppo.per_decision_ratio needs");
    }
    return v;
  };
  try {
    if (state.at("strategy") != "ppo") throw ConfigError("checkpoint is not a PPO controller's");
    if (!weights.empty()) {
      std::istringstream is(weights);
      torch::serialize::InputArchive root, net, opt;
      root.load_from(is, impl_->device);
      root.read("controller", net);
      root.read("optimizer", opt);
      impl_->net->load(net);
      impl_->optimizer->load(opt);
    }
    impl_->rng = rng_from_string(state.at("rng").get<std::string>());
    impl_->has_baseline = state.at("has_baseline").get<bool>();
    impl_->baseline = state.at("baseline").get<double>();
    impl_->updates = state.at("updates").get<int64_t>();
    impl_->last_update = state.at("last_update");
    impl_->pending.clear();
    for (const auto& p : state.at("pending")) {
      Pending pend{p.at("decisions").get<std::vector<int>>(), p.at("old_logp").get<double>(),
                   old_logps(p, "pending trial " + std::to_string(p.at("trial").get<int64_t>()))};
      check_decisions(pend.decisions, impl_->sizes);
      impl_->pending[p.at("trial").get<int64_t>()] = pend;
    }
    impl_->buffer.clear();
    for (const auto& s : state.at("buffer")) {
      // "failed" is absent from checkpoints written before failures were
      // told apart: those stored failures as reward 0.
      Sample sample{s.at("decisions").get<std::vector<int>>(), s.at("old_logp").get<double>(),
                    old_logps(s, "a buffered sample"), s.at("advantage").get<double>(),
                    s.value("failed", false)};
      check_decisions(sample.decisions, impl_->sizes);
      sample.decisions = impl_->canonical(std::move(sample.decisions));
      impl_->buffer.push_back(sample);
    }
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(std::string("malformed PPO checkpoint: ") + e.what());
  } catch (const c10::Error& e) {
    throw ConfigError(std::string("PPO checkpoint does not fit this controller: ") +
                      e.what_without_backtrace());
  }
}

nlohmann::json PpoController::last_update() const { return impl_->last_update; }

std::vector<std::vector<double>> PpoController::greedy_probabilities() const {
  std::vector<std::vector<double>> probs;
  impl_->walk(
      [](const std::vector<double>& p) {
        return static_cast<int>(std::max_element(p.begin(), p.end()) - p.begin());
      },
      &probs);
  return probs;
}

std::vector<int> PpoController::greedy_decisions() const {
  return impl_->walk(
                  [](const std::vector<double>& p) {
                    return static_cast<int>(std::max_element(p.begin(), p.end()) - p.begin());
                  },
                  nullptr)
      .decisions;
}

}  // namespace mnas::search
