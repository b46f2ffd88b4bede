#include "train/onnx_emitter.h"

#include "common/error.h"

namespace mnas::train {
namespace {

void set_shape(onnx::ValueInfoProto* v, std::vector<int64_t> dims, int type = onnx::TensorProto::FLOAT) {
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(type);
  for (int64_t d : dims) t->mutable_shape()->add_dim()->set_dim_value(d);
}

void ints(onnx::NodeProto* n, const std::string& name, std::vector<int> v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int i : v) a->add_ints(i);
}

void int_attr(onnx::NodeProto* n, const std::string& name, int v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

}  // namespace

OnnxEmitter::OnnxEmitter(onnx::GraphProto* g, const model::ModuleWeights& weights, double bn_epsilon, int batch,
                         int channels, int size, int classes, const quant::Ranges* int8, bool int8_io)
    : g_(g), weights_(weights), bn_epsilon_(bn_epsilon), int8_(int8), int8_io_(int8_io) {
  if (int8_io && !int8) throw Error("ONNX export: quantized I/O needs an int8 model (calibrated ranges)");
  const int io_type = int8_io ? onnx::TensorProto::INT8 : onnx::TensorProto::FLOAT;
  auto* in = g_->add_input();
  in->set_name("input");
  set_shape(in, {batch, channels, size, size}, io_type);
  auto* out = g_->add_output();
  out->set_name("logits");
  set_shape(out, {batch, classes}, io_type);
  if (int8_io) {
    // The int8 "input" is the first quantized value: only its DequantizeLinear.
    const quant::Params q = quant::activation_params(quant::at(*int8_, quant::kInputKey));
    const auto [scale, zero] = qparam_inits(q);
    input_ = node("DequantizeLinear", {"input", scale, zero})->output(0);
    qparams_[input_] = q;
  } else {
    input_ = qdq("input", quant::kInputKey);
  }
}

std::string OnnxEmitter::conv(const std::string& x, const model::ConvStep& c) {
  const model::FoldedConv f = model::fold_conv_bn(weights_, c.module, bn_epsilon_);
  return conv(x, f.weight, f.bias, c.strides, c.pad, c.groups, c.relu, c.module);
}

std::string OnnxEmitter::conv(const std::string& x, const torch::Tensor& weight, const torch::Tensor& bias,
                              std::array<int, 2> strides, const model::Padding& pad, int groups, bool relu,
                              const std::string& out_key) {
  const auto [w, b] = weight_bias(x, weight, bias);
  auto* n = node("Conv", {x, w, b});
  ints(n, "strides", {strides[0], strides[1]});
  ints(n, "pads", {pad.top, pad.left, pad.bottom, pad.right});
  ints(n, "kernel_shape", {static_cast<int>(weight.size(2)), static_cast<int>(weight.size(3))});
  ints(n, "dilations", {1, 1});
  int_attr(n, "group", groups);
  std::string y = n->output(0);
  if (relu) y = node("Relu", {y})->output(0);
  return qdq(y, out_key);
}

std::string OnnxEmitter::squeeze_excite(const std::string& x, const model::SqueezeExciteStep& se) {
  auto at = [&](const char* leaf) { return weights_.at(model::weight_key(se.module, leaf)); };
  const auto k = [&](const char* point) { return quant::key(se.module, point); };
  std::string s = qdq(node("GlobalAveragePool", {x})->output(0), k("pool"));
  s = conv(s, at("reduce.weight"), at("reduce.bias"), {1, 1}, {}, 1, true, k("reduce"));
  s = conv(s, at("expand.weight"), at("expand.bias"), {1, 1}, {}, 1, false, k("expand"));
  s = qdq(node("Sigmoid", {s})->output(0), k("gate"));
  return qdq(node("Mul", {x, s})->output(0), k("out"));
}

std::string OnnxEmitter::residual(const std::string& y, const std::string& input, const model::ResidualStep& r) {
  const std::string key = quant::residual_key(residuals_++);
  std::string skip = input;
  if (r.skip == space::SkipOp::kPool) {
    auto* n = node("AveragePool", {input});
    ints(n, "kernel_shape", {r.pool_kernel, r.pool_kernel});
    ints(n, "strides", {r.strides[0], r.strides[1]});
    ints(n, "pads", {r.pool_pad, r.pool_pad, r.pool_pad, r.pool_pad});
    int_attr(n, "count_include_pad", 0);
    skip = qdq(n->output(0), quant::key(key, "pool"));
  }
  return qdq(node("Add", {y, skip})->output(0), key);
}

std::string OnnxEmitter::classifier(const std::string& x, const model::ClassifierStep& c) {
  const std::string p = qdq(node("GlobalAveragePool", {x})->output(0), quant::key(c.module, "pool"));
  auto* flat = node("Flatten", {p});
  int_attr(flat, "axis", 1);
  // Flatten keeps the values, so the pool's parameters are the input's.
  if (int8_) qparams_[flat->output(0)] = qparams_.at(p);
  const auto [w, b] = weight_bias(flat->output(0), weights_.at(model::weight_key(c.module, "fc.weight")),
                                  weights_.at(model::weight_key(c.module, "fc.bias")));
  auto* gemm = node("Gemm", {flat->output(0), w, b}, int8_io_ ? "" : "logits");
  int_attr(gemm, "transB", 1);
  if (int8_io_) {
    // The int8 "logits": one QuantizeLinear with the classifier's output range.
    const quant::Params q = quant::activation_params(quant::at(*int8_, quant::key(c.module, "logits")));
    const auto [scale, zero] = qparam_inits(q);
    node("QuantizeLinear", {gemm->output(0), scale, zero}, "logits");
  }
  return "logits";
}

std::string OnnxEmitter::init(const std::string& prefix, const torch::Tensor& t) {
  const std::string name = prefix + std::to_string(counter_++);
  auto* p = g_->add_initializer();
  p->set_name(name);
  p->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : t.sizes()) p->add_dims(d);
  const torch::Tensor c = model::plain(t);
  p->set_raw_data(std::string(static_cast<const char*>(c.data_ptr()), c.numel() * sizeof(float)));
  return name;
}

std::string OnnxEmitter::init_raw(const std::string& prefix, int data_type, const std::vector<int64_t>& dims,
                                  const void* data, size_t bytes) {
  const std::string name = prefix + std::to_string(counter_++);
  auto* p = g_->add_initializer();
  p->set_name(name);
  p->set_data_type(data_type);
  for (int64_t d : dims) p->add_dims(d);
  p->set_raw_data(std::string(static_cast<const char*>(data), bytes));
  return name;
}

std::string OnnxEmitter::qdq(const std::string& x, const std::string& key) {
  if (!int8_) return x;
  const quant::Params q = quant::activation_params(quant::at(*int8_, key));
  const auto [scale, zero] = qparam_inits(q);
  const std::string qx = node("QuantizeLinear", {x, scale, zero})->output(0);
  const std::string y = node("DequantizeLinear", {qx, scale, zero})->output(0);
  qparams_[y] = q;
  return y;
}

std::pair<std::string, std::string> OnnxEmitter::qparam_inits(const quant::Params& q) {
  const int8_t zp = static_cast<int8_t>(q.zero_point);
  return {init_raw("s", onnx::TensorProto::FLOAT, {}, &q.scale, sizeof q.scale),
          init_raw("z", onnx::TensorProto::INT8, {}, &zp, 1)};
}

std::pair<std::string, std::string> OnnxEmitter::weight_bias(const std::string& x, const torch::Tensor& weight,
                                                             const torch::Tensor& bias) {
  if (!int8_) return {init("w", weight), init("b", bias)};
  const auto in = qparams_.find(x);
  if (in == qparams_.end()) throw Error("ONNX int8 export: the input '" + x + "' of a weighted op is not quantized");
  const torch::Tensor w = model::plain(weight), b = model::plain(bias);
  const int64_t out = w.size(0), per = w.numel() / out;
  const std::vector<float> wv(w.data_ptr<float>(), w.data_ptr<float>() + w.numel());
  const std::vector<float> bv(b.data_ptr<float>(), b.data_ptr<float>() + b.numel());
  const std::vector<float> scales = quant::channel_scales(wv, out, per);
  const std::vector<int8_t> wq = quant::quantize_channels(wv, scales);
  const std::vector<int32_t> bq = quant::quantize_bias(bv, in->second.scale, scales);
  std::vector<float> bias_scales(scales.size());
  for (size_t c = 0; c < scales.size(); ++c) bias_scales[c] = in->second.scale * scales[c];
  const std::vector<int8_t> wzp(scales.size(), 0);
  const std::vector<int32_t> bzp(scales.size(), 0);
  const std::vector<int64_t> wdims(w.sizes().begin(), w.sizes().end());
  const std::string wi = init_raw("wq", onnx::TensorProto::INT8, wdims, wq.data(), wq.size());
  const std::string ws = init_raw("ws", onnx::TensorProto::FLOAT, {out}, scales.data(), scales.size() * 4);
  const std::string wz = init_raw("wz", onnx::TensorProto::INT8, {out}, wzp.data(), wzp.size());
  const std::string bi = init_raw("bq", onnx::TensorProto::INT32, {out}, bq.data(), bq.size() * 4);
  const std::string bs = init_raw("bs", onnx::TensorProto::FLOAT, {out}, bias_scales.data(), bias_scales.size() * 4);
  const std::string bz = init_raw("bz", onnx::TensorProto::INT32, {out}, bzp.data(), bzp.size() * 4);
  auto* wd = node("DequantizeLinear", {wi, ws, wz});
  int_attr(wd, "axis", 0);
  auto* bd = node("DequantizeLinear", {bi, bs, bz});
  int_attr(bd, "axis", 0);
  return {wd->output(0), bd->output(0)};
}

onnx::NodeProto* OnnxEmitter::node(const std::string& op, std::vector<std::string> inputs, std::string output) {
  auto* n = g_->add_node();
  n->set_op_type(op);
  n->set_name(op + "_" + std::to_string(counter_));
  for (const auto& i : inputs) n->add_input(i);
  n->add_output(output.empty() ? "t" + std::to_string(counter_++) : output);
  return n;
}

}  // namespace mnas::train
