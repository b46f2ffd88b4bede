// Small deploy configurations and GlobalParams for the LibTorch tests of
// latency/ (fast: tens of pixels, ten classes).
#pragma once

#include "latency/deploy_config.h"
#include "space/global_params.h"

namespace mnas::latency {

inline DeployConfig small_deploy(int image_size) {
  DeployConfig d;
  d.image_size = image_size;
  d.num_classes = 10;
  return d;
}

inline space::GlobalParams small_params(int image_size) {
  space::GlobalParams p;
  p.image_size = image_size;
  p.num_classes = 10;
  return p;
}

}  // namespace mnas::latency
