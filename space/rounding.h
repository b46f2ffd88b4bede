// Width rounding of the TF reference (mnasnet_model.py round_filters), the same
// rule as torchvision _round_to_multiple_of and timm make_divisible.
#pragma once

#include "space/global_params.h"

namespace mnas::space {

// Rounds `filters * multiplier` to the nearest multiple of `divisor` (halves
// up), at least `min_depth` (0 means `divisor`), and never more than 10% below
// the scaled value. REQUIRES: filters >= 1, multiplier > 0, divisor >= 1.
int round_to_multiple(int filters, double multiplier, int divisor, int min_depth);

// round_filters of the reference: `filters` unchanged when
// params.depth_multiplier is unset, else round_to_multiple with its knobs.
int round_filters(int filters, const GlobalParams& params);

}  // namespace mnas::space
