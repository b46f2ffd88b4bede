// The self-contained HTML report of one experiment (inline SVG, no
// scripts): accuracy vs latency of all trials with the Pareto front and the
// target line, reward and best-so-far per trial, policy entropy per trial and
// per update, per-decision choice frequencies (first and second half of the
// search), the top trials. Reads the database, never writes it.
#pragma once

#include <string>

#include "db/experiment_store.h"

namespace mnas::experiments {

std::string html_report(db::ExperimentStore& store, const db::ExperimentRecord& experiment);

}  // namespace mnas::experiments
