// TorchScript source for a network or single layers, emitted from the walk
// of model/network_walk.h, with the weights of an eager module registered on
// a torch::jit::Module. One emitter for both users:
//  - latency measurement (latency/measure.cpp): BatchNorm as torch.batch_norm
//    over the module's statistics (the engines' freeze passes fold it), the
//    pooling skip optionally over a dense channels-last copy (oneDNN);
//  - export (train/export.cpp): BatchNorm folded into the conv weights.
// The source is written in place (`x = f(x)`), with `s` for the SE branch and
// `r` for a residual's input, e.g. for an MBConv e1 k3 with SE and identity
// skip, unfolded:
//     r = x
//     x = torch.conv2d(x, self.w0, None, [1, 1], [1, 1], [1, 1], 16)
//     x = torch.batch_norm(x, self.w1, self.w2, self.w3, self.w4, False, 0.1, 0.001, True)
//     x = torch.relu(x)
//     s = torch.mean(x, [2, 3], True)
//     ... (reduce conv, relu, expand conv)
//     x = torch.sigmoid(s) * x
//     x = torch.conv2d(x, self.w9, None, [1, 1], [0, 0], [1, 1], 1)
//     x = torch.batch_norm(...)
//     x = x + r
// NOTE: latency tables hold times of these graphs; a change of the emitted
// ops, their order or layouts changes what the tables measure.
#pragma once

#include <torch/script.h>

#include <sstream>
#include <string>
#include <vector>

#include "model/network_walk.h"
#include "model/weights.h"

namespace mnas::model {

struct ScriptOptions {
  // BatchNorm folded into the conv's weight and bias (export), else a
  // torch.batch_norm call on the statistics, registered as buffers (latency).
  bool fold_bn = false;
  // The pooling skip pools `r.contiguous(memory_format=2)` (channels-last)
  // instead of `r`. NOTE: oneDNN's average pooling excluding padding is slow
  // on LibTorch 1.13 (4.4 ms for 3x3 over 112x112x24 when its input comes
  // from an SE gate, 3x the rest of the layer); on a dense channels-last
  // tensor LibTorch's own vectorised kernel does it. The copy makes the
  // layer's cost independent of the layout its input arrives in, so the
  // table (layers alone) and the network agree. Same values.
  bool dense_pool_skip = false;
};

class ScriptEmitter : public Emitter<std::string> {
 public:
  // `weights` must outlive the emitter; bn_epsilon is GlobalParams'.
  ScriptEmitter(const ModuleWeights& weights, double bn_epsilon, ScriptOptions options = {});

  // The value name of the forward's input.
  std::string input() const { return "x"; }

  std::string conv(const std::string& x, const ConvStep& step) override;
  std::string squeeze_excite(const std::string& x, const SqueezeExciteStep& step) override;
  std::string keep(const std::string& x) override;
  std::string residual(const std::string& y, const std::string& input, const ResidualStep& step) override;
  std::string classifier(const std::string& x, const ClassifierStep& step) override;

  // An exact identity 1x1 convolution over `channels` channels on `x`
  // (latency's in-context profiling: it hands a layer measured alone its
  // input the way the previous layer of a network does, as a oneDNN
  // convolution's output in its blocked layout). Not a step of any network.
  void identity_prologue(int channels);

  // "def forward(self, x: Tensor) -> Tensor:" and the lines so far, returning x.
  std::string source() const;
  // A module `name` with the weights registered and forward defined, in eval mode.
  torch::jit::Module build(const std::string& name) const;

 private:
  struct Slot {
    std::string name;
    torch::Tensor tensor;
    bool buffer;
  };
  std::string param(const torch::Tensor& t, bool buffer = false);
  void line(const std::string& s);

  const ModuleWeights& weights_;
  double bn_epsilon_;
  ScriptOptions options_;
  std::ostringstream body_;
  std::vector<Slot> slots_;
};

}  // namespace mnas::model
