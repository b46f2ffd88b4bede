// ONNX and TorchScript export of a checkpoint (train/export.h). One walk over
// the eval-mode network (model/blocks.cpp semantics) drives two emitters.
#include "train/export.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <torch/script.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <fstream>
#include <opencv2/dnn.hpp>
#include <sstream>

#include "common/error.h"
#include "common/files.h"
#include "model/mnasnet.h"
#include "space/block_codec.h"
#include "train/optim.h"
#include "train/trainer.h"

namespace mnas::train {
namespace {

// A convolution with its BatchNorm folded in (eval mode).
struct FoldedConv {
  torch::Tensor weight, bias;  // float32, contiguous, CPU
  int stride_h = 1, stride_w = 1;
  std::array<int, 4> pads{0, 0, 0, 0};  // top, left, bottom, right
  int groups = 1;
  bool relu = false;
  int out_h = 0, out_w = 0;
};

int same_pad_total(int in, int stride, int k) {
  const int out = (in + stride - 1) / stride;
  return std::max((out - 1) * stride + k - in, 0);
}

FoldedConv fold(model::ConvBnImpl& m, int in_h, int in_w) {
  torch::NoGradGuard no_grad;
  FoldedConv f;
  auto& bn = *m.bn;
  const auto scale = bn.weight / (bn.running_var + bn.options.eps()).sqrt();
  f.weight = (m.conv->weight * scale.view({-1, 1, 1, 1})).contiguous().to(torch::kFloat32).cpu();
  f.bias = (bn.bias - bn.running_mean * scale).contiguous().to(torch::kFloat32).cpu();
  f.stride_h = m.strides[0];
  f.stride_w = m.strides[1];
  f.groups = static_cast<int>(m.conv->options.groups());
  f.relu = m.relu;
  const int k = m.kernel_size;
  if (m.tf_same) {
    const int ph = same_pad_total(in_h, f.stride_h, k), pw = same_pad_total(in_w, f.stride_w, k);
    f.pads = {ph / 2, pw / 2, ph - ph / 2, pw - pw / 2};
  } else {
    f.pads = {k / 2, k / 2, k / 2, k / 2};
  }
  f.out_h = (in_h + f.pads[0] + f.pads[2] - k) / f.stride_h + 1;
  f.out_w = (in_w + f.pads[1] + f.pads[3] - k) / f.stride_w + 1;
  return f;
}

torch::Tensor plain(const torch::Tensor& t) { return t.detach().contiguous().to(torch::kFloat32).cpu(); }

// The eval-mode forward of model/blocks.cpp, expressed as emitter calls.
// Emitter: std::string input(); conv(x, FoldedConv); se(x, w1, b1, w2, b2);
// add(a, b); avg_pool(x, stride_h, stride_w); classifier(x, w, b).
template <class Emitter>
void walk(model::MnasNetImpl& net, Emitter& e) {
  int h = net.params().image_size, w = net.params().image_size;
  auto conv = [&](const std::string& x, model::ConvBn& m) {
    FoldedConv f = fold(*m, h, w);
    h = f.out_h;
    w = f.out_w;
    return e.conv(x, f);
  };
  std::string x = conv(e.input(), net.stem);
  for (const auto& item : *net.blocks) {
    auto* b = item->as<model::Block>();
    const auto& spec = b->spec;
    const std::string in = x;
    auto se = [&](const std::string& v) {
      return e.se(v, plain(b->se->reduce->weight), plain(b->se->reduce->bias), plain(b->se->expand->weight),
                  plain(b->se->expand->bias));
    };
    if (spec.op == space::ConvOp::kConv) {
      x = conv(x, b->project);
      if (b->se) x = se(x);
    } else {
      if (b->expand) x = conv(x, b->expand);
      x = conv(x, b->depthwise);
      if (b->se) x = se(x);
      x = conv(x, b->project);
    }
    if (spec.residual) {
      if (spec.skip == space::SkipOp::kPool) {
        x = e.add(x, e.avg_pool(in, spec.strides[0], spec.strides[1]));
      } else {
        x = e.add(x, in);
      }
    }
  }
  x = conv(x, net.head);
  e.classifier(x, plain(net.classifier->fc->weight), plain(net.classifier->fc->bias));
}

// ------------------------------------------------------------------ ONNX

class OnnxEmitter {
 public:
  OnnxEmitter(onnx::GraphProto* g, int batch, int channels, int size, int classes) : g_(g) {
    auto* in = g_->add_input();
    in->set_name("input");
    set_shape(in, {batch, channels, size, size});
    auto* out = g_->add_output();
    out->set_name("logits");
    set_shape(out, {batch, classes});
  }
  std::string input() { return "input"; }

  std::string conv(const std::string& x, const FoldedConv& f) {
    const std::string w = init("w", f.weight), b = init("b", f.bias);
    auto* n = node("Conv", {x, w, b});
    ints(n, "strides", {f.stride_h, f.stride_w});
    ints(n, "pads", {f.pads[0], f.pads[1], f.pads[2], f.pads[3]});
    ints(n, "kernel_shape", {static_cast<int>(f.weight.size(2)), static_cast<int>(f.weight.size(3))});
    ints(n, "dilations", {1, 1});
    int_attr(n, "group", f.groups);
    std::string y = n->output(0);
    if (f.relu) y = node("Relu", {y})->output(0);
    return y;
  }
  std::string se(const std::string& x, const torch::Tensor& w1, const torch::Tensor& b1, const torch::Tensor& w2,
                 const torch::Tensor& b2) {
    std::string s = node("GlobalAveragePool", {x})->output(0);
    FoldedConv c1{w1, b1, 1, 1, {0, 0, 0, 0}, 1, true, 1, 1};
    FoldedConv c2{w2, b2, 1, 1, {0, 0, 0, 0}, 1, false, 1, 1};
    s = conv(s, c1);
    s = node("Sigmoid", {conv(s, c2)})->output(0);
    return node("Mul", {x, s})->output(0);
  }
  std::string add(const std::string& a, const std::string& b) { return node("Add", {a, b})->output(0); }
  std::string avg_pool(const std::string& x, int sh, int sw) {
    auto* n = node("AveragePool", {x});
    ints(n, "kernel_shape", {3, 3});
    ints(n, "strides", {sh, sw});
    ints(n, "pads", {1, 1, 1, 1});
    int_attr(n, "count_include_pad", 0);
    return n->output(0);
  }
  void classifier(const std::string& x, const torch::Tensor& w, const torch::Tensor& b) {
    const std::string p = node("GlobalAveragePool", {x})->output(0);
    auto* flat = node("Flatten", {p});
    int_attr(flat, "axis", 1);
    auto* gemm = node("Gemm", {flat->output(0), init("w", w), init("b", b)}, "logits");
    int_attr(gemm, "transB", 1);
  }
  int nodes() const { return g_->node_size(); }

 private:
  static void set_shape(onnx::ValueInfoProto* v, std::vector<int64_t> dims) {
    auto* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) t->mutable_shape()->add_dim()->set_dim_value(d);
  }
  std::string init(const std::string& prefix, const torch::Tensor& t) {
    const std::string name = prefix + std::to_string(counter_++);
    auto* p = g_->add_initializer();
    p->set_name(name);
    p->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : t.sizes()) p->add_dims(d);
    const torch::Tensor c = plain(t);
    p->set_raw_data(std::string(static_cast<const char*>(c.data_ptr()), c.numel() * sizeof(float)));
    return name;
  }
  onnx::NodeProto* node(const std::string& op, std::vector<std::string> inputs, std::string output = "") {
    auto* n = g_->add_node();
    n->set_op_type(op);
    n->set_name(op + "_" + std::to_string(counter_));
    for (const auto& i : inputs) n->add_input(i);
    n->add_output(output.empty() ? "t" + std::to_string(counter_++) : output);
    return n;
  }
  static void ints(onnx::NodeProto* n, const std::string& name, std::vector<int> v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int i : v) a->add_ints(i);
  }
  static void int_attr(onnx::NodeProto* n, const std::string& name, int v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }

  onnx::GraphProto* g_;
  int counter_ = 0;
};

// ----------------------------------------------------------- TorchScript

class ScriptEmitter {
 public:
  explicit ScriptEmitter(torch::jit::Module& m) : m_(m) {}
  std::string input() { return "x"; }

  std::string conv(const std::string& x, const FoldedConv& f) {
    const std::string w = param(f.weight), b = param(f.bias);
    std::string in = x;
    std::string pad = "[0, 0]";
    if (f.pads[0] == f.pads[2] && f.pads[1] == f.pads[3]) {
      pad = "[" + std::to_string(f.pads[0]) + ", " + std::to_string(f.pads[1]) + "]";
    } else {
      in = var();
      line(in + " = torch.constant_pad_nd(" + x + ", [" + std::to_string(f.pads[1]) + ", " +
           std::to_string(f.pads[3]) + ", " + std::to_string(f.pads[0]) + ", " + std::to_string(f.pads[2]) +
           "], 0.0)");
    }
    const std::string y = var();
    std::string call = "torch.conv2d(" + in + ", self." + w + ", self." + b + ", [" + std::to_string(f.stride_h) +
                       ", " + std::to_string(f.stride_w) + "], " + pad + ", [1, 1], " + std::to_string(f.groups) +
                       ")";
    line(y + " = " + (f.relu ? "torch.relu(" + call + ")" : call));
    return y;
  }
  std::string se(const std::string& x, const torch::Tensor& w1, const torch::Tensor& b1, const torch::Tensor& w2,
                 const torch::Tensor& b2) {
    const std::string s = var();
    line(s + " = torch.mean(" + x + ", [2, 3], True)");
    FoldedConv c1{w1, b1, 1, 1, {0, 0, 0, 0}, 1, true, 1, 1};
    FoldedConv c2{w2, b2, 1, 1, {0, 0, 0, 0}, 1, false, 1, 1};
    const std::string e = conv(conv(s, c1), c2);
    const std::string y = var();
    // Gate first: through oneDNN (optimize_for_inference) the product then
    // keeps x's blocked layout (see latency/measure.cpp, ScriptBuilder::se).
    line(y + " = torch.sigmoid(" + e + ") * " + x);
    return y;
  }
  std::string add(const std::string& a, const std::string& b) {
    const std::string y = var();
    line(y + " = " + a + " + " + b);
    return y;
  }
  std::string avg_pool(const std::string& x, int sh, int sw) {
    const std::string y = var();
    line(y + " = torch.avg_pool2d(" + x + ", [3, 3], [" + std::to_string(sh) + ", " + std::to_string(sw) +
         "], [1, 1], False, False)");
    return y;
  }
  void classifier(const std::string& x, const torch::Tensor& w, const torch::Tensor& b) {
    const std::string pw = param(w), pb = param(b);
    line("return torch.linear(torch.mean(" + x + ", [2, 3]), self." + pw + ", self." + pb + ")");
  }
  std::string source() const { return "def forward(self, x):\n" + body_.str(); }

 private:
  std::string var() { return "v" + std::to_string(vars_++); }
  std::string param(const torch::Tensor& t) {
    const std::string name = "p" + std::to_string(params_++);
    m_.register_parameter(name, plain(t), /*is_buffer=*/false);
    return name;
  }
  void line(const std::string& s) { body_ << "    " << s << "\n"; }

  torch::jit::Module& m_;
  std::ostringstream body_;
  int vars_ = 0, params_ = 0;
};

// max|got - reference|, top-1 agreement and the verdict of the tolerance
// atol + rtol * max|reference logit|.
struct Compared {
  double max_abs_diff = 0;
  double top1_agreement = 0;
  double allowed = 0;
  bool ok = false;
};
Compared compare(const torch::Tensor& got, const torch::Tensor& reference, const ExportOptions& o) {
  Compared c;
  if (got.sizes() != reference.sizes()) return c;
  c.max_abs_diff = (got - reference).abs().max().item<double>();
  c.top1_agreement = got.argmax(1).eq(reference.argmax(1)).to(torch::kFloat64).mean().item<double>();
  c.allowed = o.tolerance + o.rtol * reference.abs().max().item<double>();
  c.ok = c.max_abs_diff <= c.allowed;  // false for NaN
  return c;
}

std::string describe(const Compared& c, const ExportOptions& o) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "max |logit difference| %.3g, allowed %.3g (tolerance %.3g + rtol %.3g x max |logit|), "
                "top-1 agreement %.3f",
                c.max_abs_diff, c.allowed, o.tolerance, o.rtol, c.top1_agreement);
  return buf;
}

}  // namespace

ExportReport export_checkpoint(const ExportOptions& o) {
  if (o.batch < 1) throw ConfigError("export batch must be >= 1, got " + std::to_string(o.batch));
  if (!std::isfinite(o.tolerance) || o.tolerance < 0) {
    throw ConfigError("export tolerance must be a finite number >= 0, got " + std::to_string(o.tolerance));
  }
  if (!std::isfinite(o.rtol) || o.rtol < 0) {
    throw ConfigError("export rtol must be a finite number >= 0, got " + std::to_string(o.rtol));
  }
  if (o.onnx_path.empty() && o.torchscript_path.empty()) {
    throw ConfigError("export: nothing to write (no ONNX and no TorchScript path)");
  }
  // No output over an input or over the other output (through any link).
  if (!o.onnx_path.empty()) check_output_path(o.onnx_path, {o.checkpoint}, "--onnx");
  if (!o.torchscript_path.empty()) {
    check_output_path(o.torchscript_path, {o.checkpoint}, "--torchscript");
    if (same_file(o.torchscript_path, o.onnx_path)) {
      throw ConfigError("--torchscript '" + o.torchscript_path + "' and --onnx '" + o.onnx_path +
                        "' are the same file; one export would destroy the other: give two paths");
    }
  }
  CheckpointInfo info;
  model::MnasNet net = load_checkpoint_model(o.checkpoint, o.use_ema, &info);
  net->eval();
  const auto& p = info.params;
  torch::manual_seed(0);
  const auto x = torch::randn({o.batch, p.input_channels, p.image_size, p.image_size});
  torch::Tensor reference;
  {
    torch::NoGradGuard no_grad;
    reference = net->forward(x);
  }
  ExportReport report;
  // Each file is written and verified under a temporary name; both are
  // renamed into place only when every requested export passed.
  std::optional<AtomicFile> onnx_file, ts_file;

  if (!o.onnx_path.empty()) {
    onnx::ModelProto model;
    model.set_ir_version(onnx::IR_VERSION);
    model.set_producer_name("mnas");
    model.set_doc_string("MnasNet " + space::arch_to_string(space::decode_arch(info.block_strings)));
    auto* opset = model.add_opset_import();
    opset->set_domain("");
    opset->set_version(13);
    auto* graph = model.mutable_graph();
    graph->set_name("mnasnet");
    OnnxEmitter e(graph, o.batch, p.input_channels, p.image_size, p.num_classes);
    walk(*net, e);
    report.onnx_nodes = e.nodes();
    try {
      onnx::checker::check_model(model);
    } catch (const std::exception& ex) {
      throw Error("ONNX checker rejected the exported graph: " + std::string(ex.what()));
    }
    onnx_file.emplace(o.onnx_path);
    const std::string tmp = onnx_file->temp_path();
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out || !model.SerializeToOstream(&out)) throw Error("cannot write '" + o.onnx_path + "' (temporary '" + tmp + "')");
    }
    if (o.verify) {
      cv::dnn::Net cvnet = cv::dnn::readNetFromONNX(tmp);
      const auto xc = x.contiguous();
      std::vector<int> dims(xc.sizes().begin(), xc.sizes().end());
      cv::Mat blob(static_cast<int>(dims.size()), dims.data(), CV_32F, xc.data_ptr<float>());
      cvnet.setInput(blob, "input");
      cv::Mat out = cvnet.forward();
      if (out.total() != static_cast<size_t>(o.batch) * p.num_classes) {
        throw Error("ONNX export '" + o.onnx_path + "' not written: OpenCV DNN returned " +
                    std::to_string(out.total()) + " values, expected " + std::to_string(o.batch * p.num_classes));
      }
      auto got = torch::from_blob(out.ptr<float>(), {o.batch, p.num_classes}, torch::kFloat32).clone();
      const Compared c = compare(got, reference, o);
      report.onnx_max_abs_diff = c.max_abs_diff;
      report.onnx_top1_agreement = c.top1_agreement;
      report.allowed_diff = c.allowed;
      if (!c.ok) {
        throw Error("ONNX export '" + o.onnx_path + "' not written: OpenCV DNN logits differ from LibTorch: " +
                    describe(c, o));
      }
    }
  }

  if (!o.torchscript_path.empty()) {
    torch::jit::Module m("__torch__.mnas.MnasNet");
    ScriptEmitter e(m);
    walk(*net, e);
    m.define(e.source());
    m.eval();
    ts_file.emplace(o.torchscript_path);
    const std::string tmp = ts_file->temp_path();
    m.save(tmp);
    if (o.verify) {
      torch::NoGradGuard no_grad;
      auto loaded = torch::jit::load(tmp);
      const auto got = loaded.forward({x}).toTensor();
      const Compared c = compare(got, reference, o);
      report.torchscript_max_abs_diff = c.max_abs_diff;
      report.torchscript_top1_agreement = c.top1_agreement;
      report.allowed_diff = c.allowed;
      if (!c.ok) {
        throw Error("TorchScript export '" + o.torchscript_path + "' not written: logits differ from LibTorch: " +
                    describe(c, o));
      }
    }
  }
  if (onnx_file) onnx_file->commit();
  if (ts_file) ts_file->commit();
  return report;
}

}  // namespace mnas::train
