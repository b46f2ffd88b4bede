#include "model/script_emitter.h"

namespace mnas::model {
namespace {

std::string num(double v) {
  std::ostringstream s;
  s.precision(9);
  s << v;
  return s.str();
}

std::string pair(int a, int b) { return "[" + std::to_string(a) + ", " + std::to_string(b) + "]"; }

}  // namespace

ScriptEmitter::ScriptEmitter(const ModuleWeights& weights, double bn_epsilon, ScriptOptions options)
    : weights_(weights), bn_epsilon_(bn_epsilon), options_(options) {}

void ScriptEmitter::line(const std::string& s) { body_ << "    " << s << "\n"; }

// NOTE: the weights of one line are numbered from its last argument to its
// first (batch_norm(x, w5, w4, w3, w2)): the order in which g++ evaluated the
// operands of the `+` chain that built each line in the generator this
// replaces (latency/measure.cpp's ScriptBuilder), kept so that the source of
// latency measurements stays byte for byte the same.
std::string ScriptEmitter::param(const torch::Tensor& t, bool buffer) {
  std::string name = "w" + std::to_string(slots_.size());
  slots_.push_back({name, options_.fold_bn ? plain(t) : t.detach().clone(), buffer});
  return "self." + name;
}

std::string ScriptEmitter::conv(const std::string& x, const ConvStep& c) {
  std::string v = x;
  int pad = 0;
  if (c.tf_same) {
    if (c.pad.any()) {
      line("x = torch.constant_pad_nd(" + v + ", [" + std::to_string(c.pad.left) + ", " +
           std::to_string(c.pad.right) + ", " + std::to_string(c.pad.top) + ", " +
           std::to_string(c.pad.bottom) + "], 0.0)");
      v = "x";
    }
  } else {
    pad = c.pad.top;  // symmetric
  }
  const std::string tail = ", " + pair(c.strides[0], c.strides[1]) + ", " + pair(pad, pad) + ", [1, 1], " +
                           std::to_string(c.groups) + ")";
  if (options_.fold_bn) {
    const FoldedConv f = fold_conv_bn(weights_, c.module, bn_epsilon_);
    const std::string b = param(f.bias);
    const std::string w = param(f.weight);
    line("x = torch.conv2d(" + v + ", " + w + ", " + b + tail);
  } else {
    auto at = [&](const char* leaf) { return weights_.at(weight_key(c.module, leaf)); };
    const std::string w = param(at("conv.weight"));
    line("x = torch.conv2d(" + v + ", " + w + ", None" + tail);
    const std::string var = param(at("bn.running_var"), true);
    const std::string mean = param(at("bn.running_mean"), true);
    const std::string beta = param(at("bn.bias"));
    const std::string gamma = param(at("bn.weight"));
    line("x = torch.batch_norm(x, " + gamma + ", " + beta + ", " + mean + ", " + var + ", False, 0.1, " +
         num(bn_epsilon_) + ", True)");
  }
  if (c.relu) line("x = torch.relu(x)");
  return "x";
}

std::string ScriptEmitter::squeeze_excite(const std::string& x, const SqueezeExciteStep& se) {
  auto at = [&](const char* leaf) { return weights_.at(weight_key(se.module, leaf)); };
  line("s = torch.mean(" + x + ", [2, 3], True)");
  const std::string b1 = param(at("reduce.bias"));
  const std::string w1 = param(at("reduce.weight"));
  line("s = torch.conv2d(s, " + w1 + ", " + b1 + ", [1, 1], [0, 0], [1, 1], 1)");
  line("s = torch.relu(s)");
  const std::string b2 = param(at("expand.bias"));
  const std::string w2 = param(at("expand.weight"));
  line("s = torch.conv2d(s, " + w2 + ", " + b2 + ", [1, 1], [0, 0], [1, 1], 1)");
  // NOTE: gate first. After ConvertFrozenOpsToMKLDNN, `a * b` becomes an
  // in-place multiply into the broadcast copy of `b`: with `x` second the
  // result keeps x's blocked oneDNN layout; with the [N, C, 1, 1] gate
  // second it comes out in a plain layout that every following op reorders
  // or runs slowly on (a k3 conv + SE + add stage at 112 px: 4.1 against
  // 1.9 ms, 2026-12-02). Same values either way.
  line("x = torch.sigmoid(s) * " + x);
  return "x";
}

std::string ScriptEmitter::keep(const std::string& x) {
  line("r = " + x);
  return "r";
}

std::string ScriptEmitter::residual(const std::string& y, const std::string& input, const ResidualStep& r) {
  if (r.skip != space::SkipOp::kPool) {
    line("x = " + y + " + " + input);
    return "x";
  }
  // (2 is torch.channels_last: Module::define resolves no torch.* constants.)
  const std::string src = options_.dense_pool_skip ? input + ".contiguous(memory_format=2)" : input;
  line("x = " + y + " + torch.avg_pool2d(" + src + ", " + pair(r.pool_kernel, r.pool_kernel) + ", " +
       pair(r.strides[0], r.strides[1]) + ", " + pair(r.pool_pad, r.pool_pad) + ", False, False, None)");
  return "x";
}

std::string ScriptEmitter::classifier(const std::string& x, const ClassifierStep& c) {
  line("x = torch.mean(" + x + ", [2, 3], False)");
  const std::string b = param(weights_.at(weight_key(c.module, "fc.bias")));
  const std::string w = param(weights_.at(weight_key(c.module, "fc.weight")));
  line("x = torch.linear(x, " + w + ", " + b + ")");
  return "x";
}

void ScriptEmitter::identity_prologue(int channels) {
  const auto w = torch::eye(channels).reshape({channels, channels, 1, 1});
  line("x = torch.conv2d(x, " + param(w) + ", None, [1, 1], [0, 0], [1, 1], 1)");
}

std::string ScriptEmitter::source() const {
  return "def forward(self, x: Tensor) -> Tensor:\n" + body_.str() + "    return x\n";
}

torch::jit::Module ScriptEmitter::build(const std::string& name) const {
  torch::jit::Module m(name);
  for (const auto& s : slots_) {
    if (s.buffer) m.register_buffer(s.name, s.tensor);
    else m.register_parameter(s.name, s.tensor, /*is_buffer=*/false);
  }
  m.define(source());
  m.eval();
  return m;
}

}  // namespace mnas::model
