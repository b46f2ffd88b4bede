#include "space/rounding.h"

#include <algorithm>

namespace mnas::space {

int round_to_multiple(int filters, double multiplier, int divisor, int min_depth) {
  const double scaled = filters * multiplier;
  const int floor_depth = min_depth > 0 ? min_depth : divisor;
  // int() truncation then floor division, exactly as the reference (all
  // values are positive, so this is round-half-up to a multiple).
  int rounded = static_cast<int>(scaled + divisor / 2.0) / divisor * divisor;
  rounded = std::max(floor_depth, rounded);
  if (rounded < 0.9 * scaled) rounded += divisor;
  return rounded;
}

int round_filters(int filters, const GlobalParams& params) {
  if (!params.depth_multiplier || *params.depth_multiplier == 0.0) return filters;
  return round_to_multiple(filters, *params.depth_multiplier,
                           params.depth_divisor, params.min_depth);
}

}  // namespace mnas::space
