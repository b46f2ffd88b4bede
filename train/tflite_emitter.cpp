#include "train/tflite_emitter.h"

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "common/error.h"
#include "train/tflite_schema_generated.h"

namespace mnas::train {

namespace tfl = mnas::tflite;

struct TfLiteEmitter::State {
  flatbuffers::FlatBufferBuilder fbb{1 << 20};
  std::vector<flatbuffers::Offset<tfl::Tensor>> tensors;
  std::vector<std::vector<int>> shapes;  // of each tensor, NHWC
  std::vector<flatbuffers::Offset<tfl::Operator>> operators;
  std::vector<flatbuffers::Offset<tfl::Buffer>> buffers;
  std::vector<tfl::BuiltinOperator> codes;  // operator_codes, by opcode index
  std::map<tfl::BuiltinOperator, uint32_t> code_index;
  int batch = 1, classes = 0;
  int output = -1;
  int input = 0;
  const quant::Ranges* int8 = nullptr;
  bool int8_io = false;
  std::vector<quant::Params> qparams;  // of each tensor (int8 activations)
  int residuals = 0;
  bool finished = false;
  int names = 0;

  int tensor(std::vector<int> shape, tfl::TensorType type, uint32_t buffer, const std::string& name,
             flatbuffers::Offset<tfl::QuantizationParameters> q = 0, quant::Params params = {}) {
    tensors.push_back(tfl::CreateTensorDirect(fbb, &shape, type, buffer, name.c_str(), q));
    shapes.push_back(std::move(shape));
    qparams.push_back(params);
    return static_cast<int>(tensors.size()) - 1;
  }
  flatbuffers::Offset<tfl::QuantizationParameters> quantization(const std::vector<float>& scales,
                                                                const std::vector<int64_t>& zero_points,
                                                                int dimension = 0) {
    return tfl::CreateQuantizationParametersDirect(fbb, nullptr, nullptr, &scales, &zero_points,
                                                   tfl::QuantizationDetails::NONE, 0, dimension);
  }
  // An activation (no data): buffer 0, the empty sentinel; int8 with
  // `params` in an int8 model.
  int activation(std::vector<int> shape, const std::string& name, quant::Params params = {}) {
    const std::string n = name + ":" + std::to_string(names++);
    if (!int8) return tensor(std::move(shape), tfl::TensorType::FLOAT32, 0, n);
    return tensor(std::move(shape), tfl::TensorType::INT8, 0, n, quantization({params.scale}, {params.zero_point}),
                  params);
  }
  // The int8 parameters of range `key` (default parameters for float).
  quant::Params params(const std::string& key) const {
    return int8 ? quant::activation_params(quant::at(*int8, key)) : quant::Params{};
  }
  uint32_t buffer(const void* data, size_t bytes) {
    fbb.ForceVectorAlignment(bytes, 1, 16);  // the schema's force_align: 16
    const auto v = fbb.CreateVector(static_cast<const uint8_t*>(data), bytes);
    buffers.push_back(tfl::CreateBuffer(fbb, v));
    return static_cast<uint32_t>(buffers.size()) - 1;
  }
  // A float32 constant of `shape` holding `t` (any layout with that many
  // elements, made contiguous).
  int constant(const torch::Tensor& t, std::vector<int> shape, const std::string& name) {
    const torch::Tensor c = model::plain(t);
    int64_t n = 1;
    for (int d : shape) n *= d;
    if (c.numel() != n) throw Error("TFLite export: constant '" + name + "' has " + std::to_string(c.numel()) +
                                    " elements, its shape needs " + std::to_string(n));
    const uint32_t b = buffer(c.data_ptr(), c.numel() * sizeof(float));
    return tensor(std::move(shape), tfl::TensorType::FLOAT32, b, name);
  }
  int constant_i32(const std::vector<int32_t>& values, std::vector<int> shape, const std::string& name) {
    const uint32_t b = buffer(values.data(), values.size() * sizeof(int32_t));
    return tensor(std::move(shape), tfl::TensorType::INT32, b, name + ":" + std::to_string(names++));
  }
  void op(tfl::BuiltinOperator code, std::vector<int> inputs, std::vector<int> outputs,
          tfl::BuiltinOptions type = tfl::BuiltinOptions::NONE, flatbuffers::Offset<void> options = 0) {
    auto it = code_index.find(code);
    if (it == code_index.end()) {
      it = code_index.emplace(code, static_cast<uint32_t>(codes.size())).first;
      codes.push_back(code);
    }
    operators.push_back(tfl::CreateOperatorDirect(fbb, it->second, &inputs, &outputs, type, options));
  }
  // `x` padded with zeros by `pad` (a PAD op), or `x` when there is none.
  int pad_input(int x, const model::Padding& pad, const std::string& name) {
    if (!pad.any()) return x;
    const std::vector<int> s = shapes[x];  // a copy: adding tensors moves shapes
    const int paddings = constant_i32({0, 0, pad.top, pad.bottom, pad.left, pad.right, 0, 0}, {4, 2}, name + "/paddings");
    const std::vector<int> padded = {s[0], s[1] + pad.top + pad.bottom, s[2] + pad.left + pad.right, s[3]};
    if (!int8) {
      const int y = activation(padded, name + "/pad");
      op(tfl::BuiltinOperator::PAD, {x, paddings}, {y}, tfl::BuiltinOptions::PadOptions,
         tfl::CreatePadOptions(fbb).Union());
      return y;
    }
    // NOTE: int8 PAD must fill with the zero point (real 0); Arm NN 20.08's
    // TfLite parser fills int8 PAD with the raw value 0 (real -zero_point x
    // scale: 128 x scale after a ReLU), so the padding is done in float
    // between a DEQUANTIZE and a QUANTIZE to the same parameters (exact).
    const int f = tensor(s, tfl::TensorType::FLOAT32, 0, name + "/dequantized:" + std::to_string(names++));
    qparams.back() = {};
    op(tfl::BuiltinOperator::DEQUANTIZE, {x}, {f});
    const int fp = tensor(padded, tfl::TensorType::FLOAT32, 0, name + "/pad_float:" + std::to_string(names++));
    op(tfl::BuiltinOperator::PAD, {f, paddings}, {fp}, tfl::BuiltinOptions::PadOptions,
       tfl::CreatePadOptions(fbb).Union());
    const int y = activation(padded, name + "/pad", qparams[x]);
    op(tfl::BuiltinOperator::QUANTIZE, {fp}, {y});
    return y;
  }
  // Average pool over a window of `k` x `k`; `same` = TFLite SAME (excludes
  // the padding from the average).
  int avg_pool(int x, int kh, int kw, std::array<int, 2> strides, bool same, std::vector<int> out_shape,
               const std::string& name) {
    const int y = activation(std::move(out_shape), name, qparams[x]);  // int8: the input's parameters
    op(tfl::BuiltinOperator::AVERAGE_POOL_2D, {x}, {y}, tfl::BuiltinOptions::Pool2DOptions,
       tfl::CreatePool2DOptions(fbb, same ? tfl::Padding::SAME : tfl::Padding::VALID, strides[1], strides[0], kw, kh)
           .Union());
    return y;
  }
  int global_pool(int x, const std::string& name) {
    const std::vector<int> s = shapes[x];
    return avg_pool(x, s[1], s[2], {1, 1}, false, {s[0], 1, 1, s[3]}, name);
  }
  // A k x k conv (groups 1) or depthwise conv (groups = in channels) of
  // PyTorch weight [O, I / groups, k, k] and bias [O] on `x`, with `pad`.
  // int8: output parameters of range `out_key`.
  int conv(int x, const torch::Tensor& weight, const torch::Tensor& bias, std::array<int, 2> strides,
           const model::Padding& pad, int groups, bool relu, const std::string& name, const std::string& out_key) {
    const std::vector<int> in = shapes.at(x);
    const int out_c = static_cast<int>(weight.size(0)), k_h = static_cast<int>(weight.size(2)),
              k_w = static_cast<int>(weight.size(3));
    if (k_h != k_w) throw Error("TFLite export: '" + name + "' has a non-square kernel");
    tfl::Padding mode = tfl::Padding::VALID;
    int src = x;
    if (pad == model::conv_padding(in[1], in[2], k_h, strides, /*tf_same=*/true)) {
      mode = tfl::Padding::SAME;  // also VALID's result when that pads nothing
    } else {
      src = pad_input(x, pad, name);
    }
    const std::vector<int> p = shapes[src];
    const int out_h = mode == tfl::Padding::SAME ? (p[1] + strides[0] - 1) / strides[0] : (p[1] - k_h) / strides[0] + 1;
    const int out_w = mode == tfl::Padding::SAME ? (p[2] + strides[1] - 1) / strides[1] : (p[2] - k_w) / strides[1] + 1;
    const auto act = relu ? tfl::ActivationFunctionType::RELU : tfl::ActivationFunctionType::NONE;
    const int b = int8 ? bias_i32(bias, weight, x, name) : constant(bias, {out_c}, name + "/bias");
    const int y = activation({in[0], out_h, out_w, out_c}, name, params(out_key));
    if (groups == 1) {
      const int w = weights(weight.permute({0, 2, 3, 1}), weight, {out_c, k_h, k_w, in[3]}, 0, name);  // OHWI
      op(tfl::BuiltinOperator::CONV_2D, {src, w, b}, {y}, tfl::BuiltinOptions::Conv2DOptions,
         tfl::CreateConv2DOptions(fbb, mode, strides[1], strides[0], act).Union());
    } else if (groups == in[3] && weight.size(1) == 1 && out_c % groups == 0) {
      // [C * M, 1, k, k] -> [1, k, k, C * M]: output channel c * M + m, as TFLite's.
      const int w = weights(weight.permute({1, 2, 3, 0}), weight, {1, k_h, k_w, out_c}, 3, name);
      op(tfl::BuiltinOperator::DEPTHWISE_CONV_2D, {src, w, b}, {y}, tfl::BuiltinOptions::DepthwiseConv2DOptions,
         tfl::CreateDepthwiseConv2DOptions(fbb, mode, strides[1], strides[0], out_c / groups, act).Union());
    } else {
      throw Error("TFLite export: '" + name + "' is a grouped convolution (groups " + std::to_string(groups) +
                  " of " + std::to_string(in[3]) + " channels), which the TFLite export does not write");
    }
    return y;
  }
  // Conv weights: float32, or int8 per output channel of `pytorch` ([O, ...],
  // the channel scales) laid out as `t` with the channel at `dimension`.
  int weights(const torch::Tensor& t, const torch::Tensor& pytorch, std::vector<int> shape, int dimension,
              const std::string& name) {
    if (!int8) return constant(t, std::move(shape), name + "/weight");
    const torch::Tensor w = model::plain(pytorch);
    const int64_t out = w.size(0);
    const std::vector<float> scales =
        quant::channel_scales(std::vector<float>(w.data_ptr<float>(), w.data_ptr<float>() + w.numel()), out,
                              w.numel() / out);
    // Quantize in the TFLite layout: channel index of each element.
    const torch::Tensor c = model::plain(t);
    const float* v = c.data_ptr<float>();
    std::vector<int8_t> q(static_cast<size_t>(c.numel()));
    const int64_t inner = dimension == 0 ? c.numel() / out : 1;
    for (int64_t i = 0; i < c.numel(); ++i) {
      const int64_t ch = dimension == 0 ? i / inner : i % out;
      // As quant::quantize_channels: symmetric, ties to even, [-127, 127].
      q[static_cast<size_t>(i)] = static_cast<int8_t>(
          std::clamp(std::nearbyint(static_cast<double>(v[i]) / scales[static_cast<size_t>(ch)]), -127.0, 127.0));
    }
    const uint32_t b = buffer(q.data(), q.size());
    return tensor(std::move(shape), tfl::TensorType::INT8, b, name + "/weight",
                  quantization(scales, std::vector<int64_t>(scales.size(), 0), dimension));
  }
  // int32 bias of a conv of `weight` ([O, ...]) on int8 input `x`.
  int bias_i32(const torch::Tensor& bias, const torch::Tensor& weight, int x, const std::string& name) {
    const torch::Tensor w = model::plain(weight), b = model::plain(bias);
    const int64_t out = w.size(0);
    const std::vector<float> scales =
        quant::channel_scales(std::vector<float>(w.data_ptr<float>(), w.data_ptr<float>() + w.numel()), out,
                              w.numel() / out);
    const float in_scale = qparams[x].scale;
    const std::vector<int32_t> q = quant::quantize_bias(
        std::vector<float>(b.data_ptr<float>(), b.data_ptr<float>() + b.numel()), in_scale, scales);
    std::vector<float> bs(scales.size());
    for (size_t i = 0; i < bs.size(); ++i) bs[i] = in_scale * scales[i];
    const uint32_t buf = buffer(q.data(), q.size() * sizeof(int32_t));
    return tensor({static_cast<int>(out)}, tfl::TensorType::INT32, buf, name + "/bias",
                  quantization(bs, std::vector<int64_t>(bs.size(), 0), 0));
  }
};

TfLiteEmitter::TfLiteEmitter(const model::ModuleWeights& weights, double bn_epsilon, int batch, int channels,
                             int size, int classes, const quant::Ranges* int8, bool int8_io)
    : s_(std::make_unique<State>()), weights_(weights), bn_epsilon_(bn_epsilon) {
  if (int8_io && !int8) throw Error("TFLite export: quantized I/O needs an int8 model (calibrated ranges)");
  s_->batch = batch;
  s_->classes = classes;
  s_->buffers.push_back(tfl::CreateBuffer(s_->fbb));  // buffer 0: the empty sentinel
  s_->int8 = int8;
  s_->int8_io = int8_io;
  if (int8_io) {
    // Tensor 0 is the int8 "input" itself, with the first activation's parameters.
    const quant::Params q = s_->params(quant::kInputKey);
    s_->tensor({batch, size, size, channels}, tfl::TensorType::INT8, 0, "input",
               s_->quantization({q.scale}, {q.zero_point}), q);
    return;
  }
  s_->tensor({batch, size, size, channels}, tfl::TensorType::FLOAT32, 0, "input");
  if (int8) {
    s_->input = s_->activation({batch, size, size, channels}, "input/quantized", s_->params(quant::kInputKey));
    s_->op(tfl::BuiltinOperator::QUANTIZE, {0}, {s_->input});
  }
}

int TfLiteEmitter::input() const { return s_->input; }

TfLiteEmitter::~TfLiteEmitter() = default;

int TfLiteEmitter::operators() const { return static_cast<int>(s_->operators.size()); }

int TfLiteEmitter::conv(const int& x, const model::ConvStep& c) {
  const model::FoldedConv f = model::fold_conv_bn(weights_, c.module, bn_epsilon_);
  const int y = s_->conv(x, f.weight, f.bias, c.strides, c.pad, c.groups, c.relu, c.module, c.module);
  const std::vector<int>& s = s_->shapes[y];
  if (s[1] != c.out_h || s[2] != c.out_w) {
    throw Error("TFLite export: '" + c.module + "' would give " + std::to_string(s[1]) + "x" + std::to_string(s[2]) +
                ", the network " + std::to_string(c.out_h) + "x" + std::to_string(c.out_w));
  }
  return y;
}

int TfLiteEmitter::squeeze_excite(const int& x, const model::SqueezeExciteStep& se) {
  auto at = [&](const char* leaf) { return weights_.at(model::weight_key(se.module, leaf)); };
  const std::string name = se.module;
  int s = s_->global_pool(x, name + "/squeeze");
  s = s_->conv(s, at("reduce.weight"), at("reduce.bias"), {1, 1}, {}, 1, true, name + ".reduce",
               quant::key(se.module, "reduce"));
  s = s_->conv(s, at("expand.weight"), at("expand.bias"), {1, 1}, {}, 1, false, name + ".expand",
               quant::key(se.module, "expand"));
  // int8 LOGISTIC: output scale 1/256, zero point -128 (the TFLite int8 specification).
  const int gate = s_->activation(s_->shapes[s], name + "/sigmoid", {1.f / 256.f, -128});
  s_->op(tfl::BuiltinOperator::LOGISTIC, {s}, {gate});
  const int y = s_->activation(s_->shapes[x], name + "/excite", s_->params(quant::key(se.module, "out")));
  s_->op(tfl::BuiltinOperator::MUL, {x, gate}, {y}, tfl::BuiltinOptions::MulOptions,
         tfl::CreateMulOptions(s_->fbb).Union());
  return y;
}

int TfLiteEmitter::residual(const int& y, const int& input, const model::ResidualStep& r) {
  const std::string key = quant::residual_key(s_->residuals++);
  int skip = input;
  const std::vector<int> in = s_->shapes[input], out = s_->shapes[y];
  if (r.skip == space::SkipOp::kPool) {
    const int k = r.pool_kernel, p = r.pool_pad;
    const model::Padding pad{p, p, p, p};
    const std::string name = "skip_pool";
    if (pad == model::conv_padding(in[1], in[2], k, r.strides, /*tf_same=*/true)) {
      skip = s_->avg_pool(input, k, k, r.strides, true, {in[0], out[1], out[2], in[3]}, name);
    } else {
      // Zero padding counted by a VALID pool, then rescaled per position to
      // the average over the pixels inside the input (count_include_pad false).
      const int padded = s_->pad_input(input, pad, name);
      const std::vector<int> ps = s_->shapes[padded];
      const int oh = (ps[1] - k) / r.strides[0] + 1, ow = (ps[2] - k) / r.strides[1] + 1;
      if (oh != out[1] || ow != out[2]) {
        throw Error("TFLite export: the pooling skip gives " + std::to_string(oh) + "x" + std::to_string(ow) +
                    ", the block " + std::to_string(out[1]) + "x" + std::to_string(out[2]));
      }
      const int pooled = s_->avg_pool(padded, k, k, r.strides, false, {in[0], oh, ow, in[3]}, name);
      auto inside = [&](int o, int stride, int size) {
        const int lo = std::max(o * stride - p, 0), hi = std::min(o * stride - p + k, size);
        return std::max(hi - lo, 1);
      };
      torch::Tensor scale = torch::empty({1, oh, ow, 1});
      auto a = scale.accessor<float, 4>();
      for (int i = 0; i < oh; ++i) {
        for (int j = 0; j < ow; ++j) {
          a[0][i][j][0] = static_cast<float>(k * k) /
                          static_cast<float>(inside(i, r.strides[0], in[1]) * inside(j, r.strides[1], in[2]));
        }
      }
      const std::string cname = name + "/count_scale:" + std::to_string(s_->names++);
      int c = 0;
      if (!s_->int8) {
        c = s_->constant(scale, {1, oh, ow, 1}, cname);
      } else {
        quant::Range cr;
        cr.observe(scale.data_ptr<float>(), static_cast<size_t>(scale.numel()));
        const quant::Params cp = quant::activation_params(cr);
        std::vector<int8_t> q(static_cast<size_t>(scale.numel()));
        for (size_t i = 0; i < q.size(); ++i) q[i] = quant::quantize_int8(scale.data_ptr<float>()[i], cp);
        const uint32_t b = s_->buffer(q.data(), q.size());
        c = s_->tensor({1, oh, ow, 1}, tfl::TensorType::INT8, b, cname, s_->quantization({cp.scale}, {cp.zero_point}),
                       cp);
      }
      skip = s_->activation({in[0], oh, ow, in[3]}, name + "/average", s_->params(quant::key(key, "pool")));
      s_->op(tfl::BuiltinOperator::MUL, {pooled, c}, {skip}, tfl::BuiltinOptions::MulOptions,
             tfl::CreateMulOptions(s_->fbb).Union());
    }
  }
  const int sum = s_->activation(out, "residual", s_->params(key));
  s_->op(tfl::BuiltinOperator::ADD, {y, skip}, {sum}, tfl::BuiltinOptions::AddOptions,
         tfl::CreateAddOptions(s_->fbb).Union());
  return sum;
}

int TfLiteEmitter::classifier(const int& x, const model::ClassifierStep& c) {
  if (c.classes != s_->classes) {
    throw Error("TFLite export: the classifier has " + std::to_string(c.classes) + " classes, the model was declared with " +
                std::to_string(s_->classes));
  }
  const int pooled = s_->global_pool(x, c.module + "/pool");
  const std::vector<int> flat_shape = {s_->batch, c.in_features};
  const int flat = s_->activation(flat_shape, c.module + "/flatten", s_->qparams[pooled]);
  s_->op(tfl::BuiltinOperator::RESHAPE, {pooled}, {flat}, tfl::BuiltinOptions::ReshapeOptions,
         tfl::CreateReshapeOptionsDirect(s_->fbb, &flat_shape).Union());
  const torch::Tensor& fc_w = weights_.at(model::weight_key(c.module, "fc.weight"));
  const torch::Tensor& fc_b = weights_.at(model::weight_key(c.module, "fc.bias"));
  if (!s_->int8) {
    const int w = s_->constant(fc_w, {c.classes, c.in_features}, c.module + ".fc/weight");
    const int b = s_->constant(fc_b, {c.classes}, c.module + ".fc/bias");
    const int logits = s_->tensor({s_->batch, c.classes}, tfl::TensorType::FLOAT32, 0, "logits");
    s_->op(tfl::BuiltinOperator::FULLY_CONNECTED, {flat, w, b}, {logits}, tfl::BuiltinOptions::FullyConnectedOptions,
           tfl::CreateFullyConnectedOptions(s_->fbb).Union());
    s_->output = logits;
    return logits;
  }
  // int8: weights symmetric per tensor (one channel of everything), int32
  // bias, int8 logits, then DEQUANTIZE to the float "logits".
  const torch::Tensor w = model::plain(fc_w), b = model::plain(fc_b);
  const std::vector<float> wv(w.data_ptr<float>(), w.data_ptr<float>() + w.numel());
  const std::vector<float> ws = quant::channel_scales(wv, 1, w.numel());
  const std::vector<int8_t> wq = quant::quantize_channels(wv, ws);
  const int wt = s_->tensor({c.classes, c.in_features}, tfl::TensorType::INT8, s_->buffer(wq.data(), wq.size()),
                            c.module + ".fc/weight", s_->quantization(ws, {0}));
  const float in_scale = s_->qparams[flat].scale;
  const std::vector<int32_t> bq = quant::quantize_bias(
      std::vector<float>(b.data_ptr<float>(), b.data_ptr<float>() + b.numel()), in_scale,
      std::vector<float>(static_cast<size_t>(b.numel()), ws[0]));
  const int bt = s_->tensor({c.classes}, tfl::TensorType::INT32, s_->buffer(bq.data(), bq.size() * sizeof(int32_t)),
                            c.module + ".fc/bias", s_->quantization({in_scale * ws[0]}, {0}));
  const quant::Params lq = s_->params(quant::key(c.module, "logits"));
  const int q = s_->int8_io ? s_->tensor({s_->batch, c.classes}, tfl::TensorType::INT8, 0, "logits",
                                         s_->quantization({lq.scale}, {lq.zero_point}), lq)
                            : s_->activation({s_->batch, c.classes}, "logits/quantized", lq);
  s_->op(tfl::BuiltinOperator::FULLY_CONNECTED, {flat, wt, bt}, {q}, tfl::BuiltinOptions::FullyConnectedOptions,
         tfl::CreateFullyConnectedOptions(s_->fbb).Union());
  if (s_->int8_io) {
    s_->output = q;  // quantized I/O: the int8 logits are the output
    return q;
  }
  const int logits = s_->tensor({s_->batch, c.classes}, tfl::TensorType::FLOAT32, 0, "logits");
  s_->op(tfl::BuiltinOperator::DEQUANTIZE, {q}, {logits});
  s_->output = logits;
  return logits;
}

std::vector<uint8_t> TfLiteEmitter::finish(const std::string& description,
                                           const std::vector<std::pair<std::string, std::string>>& metadata) {
  if (s_->output < 0) throw Error("TFLite export: the network has no classifier (no \"logits\" output)");
  if (s_->finished) throw Error("TFLite export: the model was already finished");
  s_->finished = true;
  auto& fbb = s_->fbb;
  std::vector<flatbuffers::Offset<tfl::OperatorCode>> codes;
  for (tfl::BuiltinOperator c : s_->codes) {
    // deprecated_builtin_code (a byte, what readers before schema 3a read)
    // and builtin_code (int32): every code mnas writes is below 127.
    codes.push_back(tfl::CreateOperatorCode(fbb, static_cast<int8_t>(c), 0, 1, c));
  }
  const std::vector<int> inputs = {0}, outputs = {s_->output};  // "input" is always tensor 0
  const auto subgraph =
      tfl::CreateSubGraphDirect(fbb, &s_->tensors, &inputs, &outputs, &s_->operators, "main");
  const std::vector<flatbuffers::Offset<tfl::SubGraph>> subgraphs = {subgraph};
  std::vector<flatbuffers::Offset<tfl::Metadata>> entries;
  for (const auto& [name, bytes] : metadata) {
    const uint32_t b = s_->buffer(bytes.data(), bytes.size());
    entries.push_back(tfl::CreateMetadataDirect(fbb, name.c_str(), b));
  }
  const auto root = tfl::CreateModelDirect(fbb, 3, &codes, &subgraphs, description.c_str(), &s_->buffers,
                                           nullptr, metadata.empty() ? nullptr : &entries);
  tfl::FinishModelBuffer(fbb, root);
  flatbuffers::Verifier v(fbb.GetBufferPointer(), fbb.GetSize());
  if (!tfl::VerifyModelBuffer(v)) throw Error("TFLite export: the written flatbuffer does not verify");
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

}  // namespace mnas::train
