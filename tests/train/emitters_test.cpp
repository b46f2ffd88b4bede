// Every representation of a network computes the same function: the eager
// module, latency's TorchScript (BN unfolded, with and without the dense
// pooling skip), export's TorchScript (BN folded) and the ONNX graph run in
// OpenCV DNN, all emitted from the walk of model/network_walk.h with the same
// weights.
#include <onnx/checker.h>
#include <torch/script.h>

#include <gtest/gtest.h>

#include <opencv2/dnn.hpp>

#include "common/error.h"
#include "model/mnasnet.h"
#include "model/network_walk.h"
#include "model/script_emitter.h"
#include "model/weights.h"
#include "space/block_codec.h"
#include "space/named_archs.h"
#include "train/onnx_emitter.h"

namespace mnas::train {
namespace {

struct Case {
  std::string name;
  space::ArchSpec arch;
  space::GlobalParams params;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const char* name : {"mnasnet-a1", "mnasnet-b1", "mnasnet-small", "mobilenet-v2"}) {
    space::GlobalParams p = space::named_arch(name).params;
    p.image_size = 32;
    p.num_classes = 10;
    out.push_back({name, space::named_arch_spec(name), p});
  }
  // SE, both skips, SepConv, Conv, k5 and k7, stride 2 on odd sizes
  // (35 -> 18 -> 9 -> 5 -> 3).
  const auto mixed = space::decode_arch({"r1_k3_s11_e1_i32_o16_noskip", "r2_k7_s22_e6_i16_o24_se0.25_poolskip",
                                         "ds_r2_k5_s22_i24_o24_se0.25_poolskip",
                                         "cn_r1_k3_s22_i24_o24_se0.25_poolskip", "r2_k7_s22_e3_i24_o32"});
  for (int size : {35, 33}) {
    space::GlobalParams p;
    p.image_size = size;
    p.num_classes = 7;
    out.push_back({"mixed@" + std::to_string(size), mixed, p});
    p.tf_same_padding = true;
    out.push_back({"mixed@" + std::to_string(size) + "/tf_same", mixed, p});
  }
  return out;
}

// Random weights and BN statistics, so that folding is exercised.
model::MnasNet random_net(const Case& c) {
  torch::manual_seed(0);
  model::MnasNet net(c.arch, c.params);
  torch::NoGradGuard no_grad;
  for (auto& item : net->named_buffers()) {
    const auto& k = item.key();
    if (k.size() > 12 && k.compare(k.size() - 12, 12, "running_mean") == 0) item.value().normal_(0.0, 0.1);
    if (k.size() > 11 && k.compare(k.size() - 11, 11, "running_var") == 0) item.value().uniform_(0.5, 1.5);
  }
  for (auto& item : net->named_parameters()) {
    const auto& k = item.key();
    if (k.find(".bn.") != std::string::npos) item.value().uniform_(0.5, 1.5);
  }
  net->eval();
  return net;
}

double relative_error(const torch::Tensor& ref, const torch::Tensor& got) {
  EXPECT_EQ(ref.sizes(), got.sizes());
  const double scale = std::max(1.0, ref.abs().max().item<double>());
  return (ref - got).abs().max().item<double>() / scale;
}

torch::Tensor run_script(model::MnasNet& net, const model::ScriptOptions& o, const torch::Tensor& x) {
  const model::ModuleWeights w(*net);
  model::ScriptEmitter e(w, net->params().bn_epsilon, o);
  model::emit_network(net->layers(), net->params().tf_same_padding, e, e.input());
  auto m = e.build("MnasLayers");
  return m.forward({x}).toTensor();
}

torch::Tensor run_onnx(model::MnasNet& net, const torch::Tensor& x) {
  const auto& p = net->params();
  onnx::ModelProto model;
  model.set_ir_version(onnx::IR_VERSION);
  model.add_opset_import()->set_version(13);
  model.mutable_graph()->set_name("mnasnet");
  const model::ModuleWeights w(*net);
  OnnxEmitter e(model.mutable_graph(), w, p.bn_epsilon, static_cast<int>(x.size(0)), p.input_channels,
                p.image_size, p.num_classes);
  model::emit_network(net->layers(), p.tf_same_padding, e, e.input());
  onnx::checker::check_model(model);
  std::string bytes;
  model.SerializeToString(&bytes);
  cv::dnn::Net cvnet = cv::dnn::readNetFromONNX(bytes.data(), bytes.size());
  const auto xc = x.contiguous();
  std::vector<int> dims(xc.sizes().begin(), xc.sizes().end());
  cv::Mat blob(static_cast<int>(dims.size()), dims.data(), CV_32F, xc.data_ptr<float>());
  cvnet.setInput(blob, "input");
  cv::Mat out = cvnet.forward();
  return torch::from_blob(out.ptr<float>(), {x.size(0), p.num_classes}, torch::kFloat32).clone();
}

TEST(Emitters, EagerLatencyScriptExportScriptAndOnnxAgree) {
  constexpr double kTolerance = 1e-4;
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    auto net = random_net(c);
    torch::NoGradGuard no_grad;
    const auto x = torch::randn({2, c.params.input_channels, c.params.image_size, c.params.image_size});
    const auto eager = net->forward(x);
    ASSERT_FALSE(torch::isnan(eager).any().item<bool>());
    model::ScriptOptions latency, latency_onednn, exported;
    latency_onednn.dense_pool_skip = true;
    exported.fold_bn = true;
    EXPECT_LE(relative_error(eager, run_script(net, latency, x)), kTolerance) << "latency script";
    EXPECT_LE(relative_error(eager, run_script(net, latency_onednn, x)), kTolerance) << "latency script (onednn)";
    EXPECT_LE(relative_error(eager, run_script(net, exported, x)), kTolerance) << "export script";
    EXPECT_LE(relative_error(eager, run_onnx(net, x)), kTolerance) << "onnx";
  }
}

// The emitters read weights by checkpoint key: a module without them is a
// clear error, not a crash.
TEST(Emitters, MissingWeightsAreNamed) {
  torch::nn::Module none;
  const model::ModuleWeights w(none);
  model::ScriptEmitter e(w, 1e-3);
  model::ConvStep c;
  c.module = "blocks.0.depthwise";
  try {
    e.conv("x", c);
    FAIL() << "no throw";
  } catch (const Error& ex) {
    EXPECT_NE(std::string(ex.what()).find("blocks.0.depthwise.conv.weight"), std::string::npos) << ex.what();
  }
}

}  // namespace
}  // namespace mnas::train
