#include "train/onnx_emitter.h"

namespace mnas::train {
namespace {

void set_shape(onnx::ValueInfoProto* v, std::vector<int64_t> dims) {
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
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
                         int channels, int size, int classes)
    : g_(g), weights_(weights), bn_epsilon_(bn_epsilon) {
  auto* in = g_->add_input();
  in->set_name("input");
  set_shape(in, {batch, channels, size, size});
  auto* out = g_->add_output();
  out->set_name("logits");
  set_shape(out, {batch, classes});
}

std::string OnnxEmitter::conv(const std::string& x, const model::ConvStep& c) {
  const model::FoldedConv f = model::fold_conv_bn(weights_, c.module, bn_epsilon_);
  return conv(x, f.weight, f.bias, c.strides, c.pad, c.groups, c.relu);
}

std::string OnnxEmitter::conv(const std::string& x, const torch::Tensor& weight, const torch::Tensor& bias,
                              std::array<int, 2> strides, const model::Padding& pad, int groups, bool relu) {
  const std::string w = init("w", weight), b = init("b", bias);
  auto* n = node("Conv", {x, w, b});
  ints(n, "strides", {strides[0], strides[1]});
  ints(n, "pads", {pad.top, pad.left, pad.bottom, pad.right});
  ints(n, "kernel_shape", {static_cast<int>(weight.size(2)), static_cast<int>(weight.size(3))});
  ints(n, "dilations", {1, 1});
  int_attr(n, "group", groups);
  std::string y = n->output(0);
  if (relu) y = node("Relu", {y})->output(0);
  return y;
}

std::string OnnxEmitter::squeeze_excite(const std::string& x, const model::SqueezeExciteStep& se) {
  auto at = [&](const char* leaf) { return weights_.at(model::weight_key(se.module, leaf)); };
  std::string s = node("GlobalAveragePool", {x})->output(0);
  s = conv(s, at("reduce.weight"), at("reduce.bias"), {1, 1}, {}, 1, true);
  s = node("Sigmoid", {conv(s, at("expand.weight"), at("expand.bias"), {1, 1}, {}, 1, false)})->output(0);
  return node("Mul", {x, s})->output(0);
}

std::string OnnxEmitter::residual(const std::string& y, const std::string& input, const model::ResidualStep& r) {
  std::string skip = input;
  if (r.skip == space::SkipOp::kPool) {
    auto* n = node("AveragePool", {input});
    ints(n, "kernel_shape", {r.pool_kernel, r.pool_kernel});
    ints(n, "strides", {r.strides[0], r.strides[1]});
    ints(n, "pads", {r.pool_pad, r.pool_pad, r.pool_pad, r.pool_pad});
    int_attr(n, "count_include_pad", 0);
    skip = n->output(0);
  }
  return node("Add", {y, skip})->output(0);
}

std::string OnnxEmitter::classifier(const std::string& x, const model::ClassifierStep& c) {
  const std::string p = node("GlobalAveragePool", {x})->output(0);
  auto* flat = node("Flatten", {p});
  int_attr(flat, "axis", 1);
  const std::string w = init("w", weights_.at(model::weight_key(c.module, "fc.weight")));
  const std::string b = init("b", weights_.at(model::weight_key(c.module, "fc.bias")));
  auto* gemm = node("Gemm", {flat->output(0), w, b}, "logits");
  int_attr(gemm, "transB", 1);
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

onnx::NodeProto* OnnxEmitter::node(const std::string& op, std::vector<std::string> inputs, std::string output) {
  auto* n = g_->add_node();
  n->set_op_type(op);
  n->set_name(op + "_" + std::to_string(counter_));
  for (const auto& i : inputs) n->add_input(i);
  n->add_output(output.empty() ? "t" + std::to_string(counter_++) : output);
  return n;
}

}  // namespace mnas::train
