#include "search/evaluator.h"

#include <chrono>
#include <set>

#include "common/error.h"
#include "space/block_codec.h"
#include "space/counters.h"
#include "space/layer_spec.h"

namespace mnas::search {

namespace {

void check_keys(const nlohmann::json& j, const char* what, const std::set<std::string>& allowed) {
  if (!j.is_object()) throw ParseError(std::string(what) + " must be a JSON object");
  for (const auto& [key, value] : j.items()) {
    (void)value;
    if (!allowed.count(key)) throw ParseError(std::string("unknown key '") + key + "' in " + what);
  }
}

template <class T>
T get(const nlohmann::json& j, const char* what, const char* key) {
  if (!j.contains(key)) throw ParseError(std::string(what) + " lacks key '" + key + "'");
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw ParseError(std::string(what) + " key '" + key + "' has the wrong type: " +
                     j.at(key).dump());
  }
}

}  // namespace

nlohmann::json to_json(const TrialRequest& r) {
  return {{"trial", r.trial},         {"arch", r.arch},
          {"seed", r.seed},           {"attempt", r.attempt},
          {"rung", r.stage.rung},     {"max_steps", r.stage.max_steps},
          {"checkpoint", r.stage.checkpoint}};
}

TrialRequest trial_request_from_json(const nlohmann::json& j) {
  const char* what = "trial request";
  check_keys(j, what, {"trial", "arch", "seed", "attempt", "rung", "max_steps", "checkpoint"});
  TrialRequest r;
  r.trial = get<int64_t>(j, what, "trial");
  r.arch = get<std::string>(j, what, "arch");
  r.seed = get<uint64_t>(j, what, "seed");
  r.attempt = get<int>(j, what, "attempt");
  r.stage.rung = get<int>(j, what, "rung");
  r.stage.max_steps = get<int64_t>(j, what, "max_steps");
  r.stage.checkpoint = get<std::string>(j, what, "checkpoint");
  if (r.stage.rung < 0 || r.stage.max_steps < 0) {
    throw ParseError("trial request: rung and max_steps must be >= 0, got " + j["rung"].dump() +
                     " and " + j["max_steps"].dump());
  }
  return r;
}

nlohmann::json to_json(const TrialResult& r) {
  nlohmann::json j = {{"trial", r.trial},
                      {"rung", r.rung},
                      {"steps", r.steps},
                      {"status", to_string(r.status)},
                      {"accuracy", r.accuracy},
                      {"loss", r.loss},
                      {"latency_ms", r.latency_ms},
                      {"measured_latency_ms", nullptr},
                      {"params", r.params},
                      {"macs", r.macs},
                      {"train_seconds", r.train_seconds},
                      {"eval_seconds", r.eval_seconds},
                      {"seconds", r.seconds},
                      {"worker", r.worker},
                      {"message", r.message}};
  if (r.measured_latency_ms) j["measured_latency_ms"] = *r.measured_latency_ms;
  return j;
}

TrialResult trial_result_from_json(const nlohmann::json& j) {
  const char* what = "trial result";
  check_keys(j, what,
             {"trial", "rung", "steps", "status", "accuracy", "loss", "latency_ms", "measured_latency_ms", "params",
              "macs", "train_seconds", "eval_seconds", "seconds", "worker", "message"});
  TrialResult r;
  r.trial = get<int64_t>(j, what, "trial");
  r.rung = get<int>(j, what, "rung");
  r.steps = get<int64_t>(j, what, "steps");
  r.status = trial_status_from_string(get<std::string>(j, what, "status"));
  r.accuracy = get<double>(j, what, "accuracy");
  r.loss = get<double>(j, what, "loss");
  r.latency_ms = get<double>(j, what, "latency_ms");
  if (!j.contains("measured_latency_ms")) {
    throw ParseError("trial result lacks key 'measured_latency_ms'");
  }
  if (!j["measured_latency_ms"].is_null()) {
    r.measured_latency_ms = get<double>(j, what, "measured_latency_ms");
  }
  r.params = get<int64_t>(j, what, "params");
  r.macs = get<int64_t>(j, what, "macs");
  r.train_seconds = get<double>(j, what, "train_seconds");
  r.eval_seconds = get<double>(j, what, "eval_seconds");
  r.seconds = get<double>(j, what, "seconds");
  r.worker = get<std::string>(j, what, "worker");
  r.message = get<std::string>(j, what, "message");
  return r;
}

void add_deploy_metrics(TrialResult& r, const space::ArchSpec& arch, const LatencyFn& latency,
                        const space::GlobalParams& deploy) {
  const auto cost = space::model_cost(space::expand_layers(arch, deploy));
  r.params = cost.total.params;
  r.macs = cost.total.macs;
  r.latency_ms = latency(arch);
}

InProcessEvaluator::InProcessEvaluator(AccuracyFn accuracy, LatencyFn latency,
                                       space::GlobalParams deploy, std::string worker)
    : accuracy_(std::move(accuracy)),
      latency_(std::move(latency)),
      deploy_(std::move(deploy)),
      worker_(std::move(worker)) {}

void InProcessEvaluator::submit(const TrialRequest& request) { queue_.push_back(request); }

TrialResult InProcessEvaluator::poll() {
  if (queue_.empty()) throw Error("InProcessEvaluator::poll() with no trial in flight");
  const TrialRequest req = queue_.front();
  queue_.pop_front();
  const auto start = std::chrono::steady_clock::now();
  TrialResult r;
  r.trial = req.trial;
  r.rung = req.stage.rung;
  r.worker = worker_;
  try {
    const auto arch = space::decode_arch(space::split_block_strings(req.arch));
    add_deploy_metrics(r, arch, latency_, deploy_);
    const ChildOutcome out = accuracy_(arch, req.seed, req.stage);
    r.status = out.status;
    r.steps = out.steps;
    r.accuracy = out.accuracy;
    r.loss = out.loss;
    r.train_seconds = out.train_seconds;
    r.eval_seconds = out.eval_seconds;
    r.message = out.message;
  } catch (const std::exception& e) {
    r.status = TrialStatus::kFailed;
    r.message = e.what();
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace mnas::search
