// Read-only views of an experiment database: trial listings (table, CSV,
// JSON), best-k, the Pareto front, the end-of-search summary, the mnas_train
// configuration of a trial (the HTML report is html_report.h). None of these
// write to the database.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/experiment_store.h"

namespace mnas::experiments {

enum class Format { kTable, kCsv, kJson };
// "table", "csv", "json"; throws ConfigError naming the bad word.
Format format_from_string(const std::string& s);

// The experiment's trials, each with the accuracy, loss, reward and seconds of
// the highest rung it finished (multi-fidelity children, search/asha.h) and
// TrialRecord::rung saying which; a trial never promoted keeps its rung-0
// row. Without rungs: store.trials(experiment) as stored.
std::vector<db::TrialRecord> trials_at_highest_rung(db::ExperimentStore& store, int64_t experiment);

// The trials that finished with status done, by rung descending (a result of
// a higher rung, i.e. a longer training, ranks above any lower-rung one),
// then reward descending (ties by index), at most k (k <= 0: all).
std::vector<db::TrialRecord> best_trials(const std::vector<db::TrialRecord>& trials, int k);
// The done trials on the accuracy/latency Pareto front, by latency.
std::vector<db::TrialRecord> pareto_trials(const std::vector<db::TrialRecord>& trials);

// One row per trial: index, status, reward, accuracy, latency, params, MACs,
// seconds, compact architecture (table) or canonical block strings (CSV,
// JSON). JSON: an array of objects with every stored field (decisions as an
// array) and "rung". Table and CSV get a "rung" column when any trial's
// result is from a rung above 0.
std::string format_trials(const std::vector<db::TrialRecord>& trials, Format format);
nlohmann::json trial_to_json(const db::TrialRecord& trial);

// `v` with `precision` digits after the point; "" for no value (the listings'
// and the HTML report's number format).
std::string fixed_or_empty(const std::optional<double>& v, int precision);
// `s` as one CSV field: quoted (quotes doubled) when it holds a comma, a
// quote or a newline.
std::string csv_field(const std::string& s);

// A compact one-word-per-block summary of a canonical architecture string:
// op (c conv, s sepconv, m<e> MBConv with expansion e), kernel, "e" when SE,
// skip (i identity, p pool, n none), "x" repeats, e.g. "m6k5ei.x3".
std::string arch_summary(const std::string& arch);

// The mnas_train configuration (`mnas_train --config FILE`) that trains
// `trial`'s architecture on the experiment's proxy task: every TrainConfig
// key, with "arch" as an array of block strings, the space's stem width and
// width divisor, the proxy's dataset, subsets and recipe
// (train::child_train_config), no time limit, progress lines on, test-split
// evaluation at the end, and "source" naming the database, experiment,
// trial, reward, proxy accuracy and predicted latency. Flags given to
// mnas_train after --config override any key (--epochs 30, --set ...).
nlohmann::json train_config(const db::TrialRecord& trial, const db::ExperimentRecord& experiment,
                            const std::string& db_path);

// Which device the experiment's latencies are for, and how they were got:
// latency::latency_source of its deploy configuration, e.g.
// "pixel1 (estimate, fitted profile: held-out mean error 3.6 %, 224 px)",
// or "synthetic (...)" for the synthetic objective.
std::string latency_description(const db::ExperimentRecord& experiment);

// The end-of-search text: the latency device, counts, top-k with block strings ready for
// mnas_decode, the Pareto front and the commands that train the best trial.
std::string summary_text(db::ExperimentStore& store, const db::ExperimentRecord& experiment,
                         int top_k);


}  // namespace mnas::experiments
