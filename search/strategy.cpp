#include "search/strategy.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

#include "common/error.h"
#include "space/search_space.h"

namespace mnas::search {

std::string rng_to_string(const std::mt19937_64& rng) {
  std::ostringstream os;
  os << rng;
  return os.str();
}

std::mt19937_64 rng_from_string(const std::string& s) {
  std::istringstream is(s);
  std::mt19937_64 rng;
  is >> rng;
  if (is.fail()) throw ConfigError("strategy checkpoint holds a malformed RNG state");
  return rng;
}

double uniform_entropy(const std::vector<int>& sizes) {
  double h = 0;
  for (int n : sizes) h += std::log(static_cast<double>(n));
  return h;
}

std::vector<std::vector<int>> canonical_choices(const std::vector<std::vector<std::string>>& labels) {
  std::vector<std::vector<int>> canon(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    for (size_t k = 0; k < labels[i].size(); ++k) {
      const auto first = std::find(labels[i].begin(), labels[i].end(), labels[i][k]);
      canon[i].push_back(static_cast<int>(first - labels[i].begin()));
    }
  }
  return canon;
}

std::vector<std::vector<int>> canonical_choices(const space::SearchSpace& space) {
  std::vector<std::vector<std::string>> labels;
  for (const auto& d : space.decisions()) labels.push_back(d.labels);
  return canonical_choices(labels);
}

void check_decisions(const std::vector<int>& decisions, const std::vector<int>& sizes) {
  if (decisions.size() != sizes.size()) {
    throw ConfigError("decision vector has " + std::to_string(decisions.size()) +
                      " entries, the search space has " + std::to_string(sizes.size()) +
                      " decisions");
  }
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (decisions[i] < 0 || decisions[i] >= sizes[i]) {
      throw ConfigError("decision " + std::to_string(i) + " is " + std::to_string(decisions[i]) +
                        ", expected 0.." + std::to_string(sizes[i] - 1));
    }
  }
}

namespace {

std::vector<int> uniform_draw(const std::vector<int>& sizes, std::mt19937_64& rng) {
  std::vector<int> d(sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) {
    d[i] = std::uniform_int_distribution<int>(0, sizes[i] - 1)(rng);
  }
  return d;
}

void check_sizes(const std::vector<int>& sizes) {
  if (sizes.empty()) throw ConfigError("search space has no decisions");
  for (int n : sizes) {
    if (n < 1) throw ConfigError("every decision needs at least one choice");
  }
}

const nlohmann::json& field(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) {
    throw ConfigError(std::string("strategy checkpoint lacks '") + key + "'");
  }
  return j.at(key);
}

}  // namespace

// ---- random ----------------------------------------------------------------

RandomSearch::RandomSearch(std::vector<int> choice_sizes, uint64_t seed)
    : sizes_(std::move(choice_sizes)), rng_(seed) {
  check_sizes(sizes_);
}

Proposal RandomSearch::propose(int64_t) {
  return {uniform_draw(sizes_, rng_), uniform_entropy(sizes_)};
}

nlohmann::json RandomSearch::state() const {
  return {{"strategy", "random"}, {"rng", rng_to_string(rng_)}};
}

void RandomSearch::restore(const nlohmann::json& state, const std::string&) {
  if (field(state, "strategy") != "random") throw ConfigError("checkpoint is not a random search's");
  rng_ = rng_from_string(field(state, "rng").get<std::string>());
}

// ---- regularized evolution -------------------------------------------------

void validate(const EvolutionConfig& c) {
  if (c.population_size < 2) {
    throw ConfigError("strategy.evolution.population_size must be >= 2, got " +
                      std::to_string(c.population_size));
  }
  if (c.sample_size < 1 || c.sample_size > c.population_size) {
    throw ConfigError("strategy.evolution.sample_size must be in 1..population_size (" +
                      std::to_string(c.population_size) + "), got " +
                      std::to_string(c.sample_size));
  }
}

nlohmann::json to_json(const EvolutionConfig& c) {
  return {{"population_size", c.population_size}, {"sample_size", c.sample_size}};
}

EvolutionConfig evolution_config_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw ConfigError("strategy.evolution must be a JSON object");
  EvolutionConfig c;
  for (const auto& [key, value] : j.items()) {
    int* target = key == "population_size" ? &c.population_size
                  : key == "sample_size"   ? &c.sample_size
                                           : nullptr;
    if (!target) {
      throw ConfigError("unknown key 'strategy.evolution." + key +
                        "' (expected population_size, sample_size)");
    }
    if (!value.is_number_integer()) {
      throw ConfigError("strategy.evolution." + key + " must be an integer, got " + value.dump());
    }
    *target = value.get<int>();
  }
  validate(c);
  return c;
}

RegularizedEvolution::RegularizedEvolution(std::vector<int> choice_sizes, EvolutionConfig config,
                                           uint64_t seed)
    : sizes_(std::move(choice_sizes)), config_(config), rng_(seed) {
  check_sizes(sizes_);
  validate(config_);
}

Proposal RegularizedEvolution::propose(int64_t) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (proposed_ < config_.population_size || population_.empty()) {
    ++proposed_;
    return {uniform_draw(sizes_, rng_), uniform_entropy(sizes_)};
  }
  ++proposed_;
  // Tournament: sample_size distinct members (partial Fisher-Yates).
  std::vector<size_t> idx(population_.size());
  std::iota(idx.begin(), idx.end(), 0);
  const size_t s = std::min(idx.size(), static_cast<size_t>(config_.sample_size));
  size_t best = idx[0];
  for (size_t k = 0; k < s; ++k) {
    const size_t pick = std::uniform_int_distribution<size_t>(k, idx.size() - 1)(rng_);
    std::swap(idx[k], idx[pick]);
    if (k == 0 || population_[idx[k]].reward > population_[best].reward) best = idx[k];
  }
  std::vector<int> child = population_[best].decisions;
  std::vector<size_t> mutable_decisions;
  for (size_t i = 0; i < sizes_.size(); ++i) {
    if (sizes_[i] > 1) mutable_decisions.push_back(i);
  }
  if (!mutable_decisions.empty()) {
    const size_t d = mutable_decisions[std::uniform_int_distribution<size_t>(
        0, mutable_decisions.size() - 1)(rng_)];
    // A different value: draw from n-1 values and skip the current one.
    int v = std::uniform_int_distribution<int>(0, sizes_[d] - 2)(rng_);
    if (v >= child[d]) ++v;
    child[d] = v;
  }
  return {child, nan};
}

bool RegularizedEvolution::observe(int64_t, const std::vector<int>& decisions, double reward) {
  check_decisions(decisions, sizes_);
  population_.push_back({decisions, reward});
  if (static_cast<int>(population_.size()) > config_.population_size) {
    population_.erase(population_.begin());  // aging: the oldest dies
  }
  return false;
}

nlohmann::json RegularizedEvolution::state() const {
  nlohmann::json pop = nlohmann::json::array();
  for (const auto& m : population_) pop.push_back({{"decisions", m.decisions}, {"reward", m.reward}});
  return {{"strategy", "evolution"},
          {"rng", rng_to_string(rng_)},
          {"proposed", proposed_},
          {"population", pop}};
}

void RegularizedEvolution::restore(const nlohmann::json& state, const std::string&) {
  if (field(state, "strategy") != "evolution") {
    throw ConfigError("checkpoint is not a regularized evolution's");
  }
  rng_ = rng_from_string(field(state, "rng").get<std::string>());
  proposed_ = field(state, "proposed").get<int64_t>();
  population_.clear();
  for (const auto& m : field(state, "population")) {
    Member member{m.at("decisions").get<std::vector<int>>(), m.at("reward").get<double>()};
    check_decisions(member.decisions, sizes_);
    population_.push_back(std::move(member));
  }
}

}  // namespace mnas::search
