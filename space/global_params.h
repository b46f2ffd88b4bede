// Global knobs of a MnasNet model: everything that is not a stage.
//
// Mirrors the TF reference GlobalParams (mnasnet_models.py) plus the input
// geometry, which the reference takes from the data pipeline. An experiment
// holds one GlobalParams per configuration (deploy: 224 px, 1000 classes;
// proxy: e.g. 32 px Fashion-MNIST) and expands the same ArchSpec under each.
#pragma once

#include <optional>

namespace mnas::space {

// Reference defaults (mnasnet_models.py, mnasnet_a1 and friends).
constexpr int kDefaultDepthDivisor = 8;
constexpr int kDefaultStemSize = 32;
constexpr int kHeadSize = 1280;  // head conv width, never scaled
// TF batch-norm decay 0.99 (TPU code; the paper says 0.9997). PyTorch momentum
// is 1 - TF decay, so model/ uses 0.01.
constexpr double kBnDecay = 0.99;
constexpr double kBnEpsilon = 1e-3;

struct GlobalParams {
  // Width multiplier: scales the stem and every stage's filters, which are
  // then rounded by round_filters. Unset (the reference's None) means no
  // scaling and no rounding at all: filters are used exactly as written.
  // Named "depth" as in the reference although it scales channels.
  std::optional<double> depth_multiplier;
  int depth_divisor = kDefaultDepthDivisor;  // round widths to multiples of it
  int min_depth = 0;                         // 0 means depth_divisor
  int stem_size = kDefaultStemSize;          // stem conv width, before rounding
  int head_size = kHeadSize;                 // 1x1 head conv width, not scaled
  int num_classes = 1000;
  double dropout_rate = 0.2;  // before the classifier, training only
  double bn_decay = kBnDecay;
  double bn_epsilon = kBnEpsilon;
  int image_size = 224;      // square input, pixels
  int input_channels = 3;    // 3 for RGB, 1 for Fashion-MNIST
  // Pad like TF 'same' (extra pad bottom/right for stride 2) instead of the
  // symmetric k/2 padding. Same shapes and counts; needed to load TF
  // checkpoints faithfully.
  bool tf_same_padding = false;
};

// Throws ConfigError naming the field when a value is out of range
// (multiplier <= 0, divisor < 1, widths < 1, classes < 1, dropout outside
// [0, 1), image size < 1, ...).
void validate(const GlobalParams& params);

}  // namespace mnas::space
