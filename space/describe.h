// Human- and machine-readable descriptions of an expanded architecture: the
// per-layer table that mnas_decode prints and its JSON form.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "space/counters.h"
#include "space/global_params.h"
#include "space/layer_spec.h"
#include "space/search_space.h"

namespace mnas::space {

// Fixed-width table: one row per layer (op, kernel, stride, expansion, SE,
// skip, input and output H x W x C, params, MACs), then the totals.
std::string format_layer_table(const std::vector<LayerSpec>& layers, const ModelCost& cost);

// {"params", "macs", "macs_breakdown", "layers": [...]}: one object per layer
// with the LayerSpec fields and its cost.
nlohmann::json layers_to_json(const std::vector<LayerSpec>& layers, const ModelCost& cost);

// The GlobalParams as JSON (depth_multiplier null when unset).
nlohmann::json params_to_json(const GlobalParams& params);

// The decisions of a search space with their choices, and its size.
std::string describe_space(const SearchSpace& space);

// "1,234,567" style grouping for counts.
std::string group_thousands(int64_t v);

}  // namespace mnas::space
