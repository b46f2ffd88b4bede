// Analytical parameter and multiply-add counts from the per-layer specs, with
// no LibTorch: fast enough to run inside the search loop.
//
// Conventions (reference section 7; they reproduce the README's 3.9M/312M for
// MnasNet-A1 and equal the sum over the built LibTorch module's parameters):
// - parameters: every trainable tensor: conv, depthwise, SE and FC weights, SE
//   and FC biases, BN gamma and beta; BN running statistics excluded;
// - multiply-adds: one per multiply-accumulate of every regular conv
//   (Hout*Wout*k*k*Cin*Cout), depthwise conv (Hout*Wout*k*k*C), the two SE 1x1
//   convs on the pooled tensor (F*R + R*F) and the FC (in*classes). BN,
//   activations, pooling, the SE gating, residual adds and biases are not
//   counted.
#pragma once

#include <cstdint>
#include <vector>

#include "space/layer_spec.h"

namespace mnas::space {

struct LayerCost {
  int64_t params = 0;
  int64_t macs = 0;
  // The MACs split by kind of operation (they sum to macs).
  int64_t conv_macs = 0;       // stem, expansion, projection/pointwise, head
  int64_t depthwise_macs = 0;
  int64_t se_macs = 0;
  int64_t fc_macs = 0;

  LayerCost& operator+=(const LayerCost& o);
};

struct ModelCost {
  LayerCost total;
  std::vector<LayerCost> layers;  // parallel to the LayerSpec list
};

// Cost of one layer. Counts are exact 64-bit integers; a model whose counts
// do not fit throws ConfigError (only absurd sizes get there).
LayerCost layer_cost(const LayerSpec& layer);

// Cost of every layer and their sum.
ModelCost model_cost(const std::vector<LayerSpec>& layers);

}  // namespace mnas::space
