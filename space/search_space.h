// MnasNet's factorized hierarchical search space (paper section 4.1, Fig. 4).
//
// The network is a fixed skeleton of blocks (MobileNetV2's seven by default:
// widths 16/24/32/64/96/160/320, repeats 1/2/3/4/3/3/1, strides
// 1/2/2/2/1/2/1, stem 32, head 1280). Each block searches ONE layer design
// that is repeated N_i times, with six decisions per block, in this order:
//   conv_op       {conv, sepconv, mbconv3, mbconv6}  (mbconv<e> for any e)
//   kernel_size   {3, 5}
//   se_ratio      {0, 0.25}
//   skip          {pool, identity, none}
//   filters       {0.75, 1.0, 1.25} x the skeleton width, rounded to the
//                 divisor (round_to_multiple)
//   repeats       skeleton repeats + {-1, 0, +1}, at least 1
// so the default space has 432 choices per block and 432^7 ~ 2.8e18
// architectures. A block's input filters are the previous block's output
// (the stem's for the first block). Skip ops that cannot apply (the first
// layer of a block changes width or, for identity, strides) give no residual
// for that layer, as space::expand_layers decides.
//
// Defined in JSON so users can change the skeleton and the choice lists:
//   {
//     "stem_size": 32,
//     "depth_divisor": 8,
//     "skeleton": [{"filters": 16, "repeats": 1, "stride": 1}, ...],
//     "choices": {"conv_op": [...], "kernel_size": [...], "se_ratio": [...],
//                 "skip": [...], "filter_multiplier": [...], "repeat_delta": [...]}
//   }
// A skeleton entry may carry its own "choices" object overriding some lists
// for that block. Unknown keys are rejected by name.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "space/block_args.h"
#include "space/global_params.h"
#include "space/layer_spec.h"

namespace mnas::space {

// The per-block choice lists.
struct BlockChoices {
  std::vector<std::string> conv_op = {"conv", "sepconv", "mbconv3", "mbconv6"};
  std::vector<int> kernel_size = {3, 5};
  std::vector<double> se_ratio = {0.0, 0.25};
  std::vector<std::string> skip = {"pool", "identity", "none"};
  std::vector<double> filter_multiplier = {0.75, 1.0, 1.25};
  std::vector<int> repeat_delta = {-1, 0, 1};
};

struct SkeletonBlock {
  int filters = 16;   // base output width
  int repeats = 1;    // base number of layers
  int stride = 1;     // stride of the block's first layer
  BlockChoices choices;
};

// One decision of the controller: a name such as "block3.kernel_size" and the
// printable labels of its choices.
struct Decision {
  std::string name;
  std::vector<std::string> labels;
  int size() const { return static_cast<int>(labels.size()); }
};

class SearchSpace {
 public:
  // The paper's space over the MobileNetV2 skeleton.
  static SearchSpace mnasnet_default();
  // Strict JSON parsing; throws ConfigError naming the bad key or value.
  static SearchSpace from_json(const nlohmann::json& j);
  // from_json of a file; throws ConfigError naming the file on I/O or JSON
  // syntax errors.
  static SearchSpace from_file(const std::string& path);
  nlohmann::json to_json() const;

  int stem_size() const { return stem_size_; }
  int depth_divisor() const { return depth_divisor_; }
  const std::vector<SkeletonBlock>& skeleton() const { return skeleton_; }

  // All decisions, block by block (six per block, in the order above).
  const std::vector<Decision>& decisions() const { return decisions_; }
  // decisions()[i].size() for every i: what a controller needs.
  std::vector<int> choice_sizes() const;
  // log10 of the number of architectures (the product of the choice sizes).
  double log10_size() const;

  // The architecture for one choice per decision. Throws ConfigError when the
  // vector has the wrong length or a choice is out of range (naming it).
  ArchSpec decode(const std::vector<int>& actions) const;

  // Every distinct layer (by space::layer_key) that some architecture of this
  // space can contain under `params` (image size, classes, input channels),
  // including stem, head and classifier variants. Deterministic order.
  std::vector<LayerSpec> enumerate_layers(const GlobalParams& params) const;

  // GlobalParams for models of this space: stem size and divisor from the
  // space, the rest from `base` (depth_multiplier is left unset: the space
  // already rounds widths).
  GlobalParams global_params(GlobalParams base) const;

 private:
  void build_decisions();
  int block_filters(int block, int choice) const;

  int stem_size_ = kDefaultStemSize;
  int depth_divisor_ = kDefaultDepthDivisor;
  std::vector<SkeletonBlock> skeleton_;
  std::vector<Decision> decisions_;
};

// Number of decisions per block (conv_op, kernel_size, se_ratio, skip,
// filters, repeats).
constexpr int kDecisionsPerBlock = 6;

}  // namespace mnas::space
