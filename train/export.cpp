// ONNX and TorchScript export of a checkpoint (train/export.h). The walk of
// model/network_walk.h over the eval-mode network drives both emitters
// (train/onnx_emitter.h, model/script_emitter.h).
#include "train/export.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <torch/script.h>

#include <filesystem>
#include <fstream>
#include <opencv2/dnn.hpp>
#include <sstream>

#include "common/error.h"
#include "model/mnasnet.h"
#include "model/network_walk.h"
#include "model/script_emitter.h"
#include "model/weights.h"
#include "space/block_codec.h"
#include "train/onnx_emitter.h"
#include "train/optim.h"
#include "train/trainer.h"

namespace mnas::train {
namespace {

void rename_into_place(const std::string& tmp, const std::string& path) {
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw Error("cannot rename '" + tmp + "' to '" + path + "': " + ec.message());
}

}  // namespace

ExportReport export_checkpoint(const ExportOptions& o) {
  if (o.batch < 1) throw ConfigError("export batch must be >= 1, got " + std::to_string(o.batch));
  const CheckpointInfo info = read_checkpoint_info(o.checkpoint);
  const auto tensors = read_checkpoint_tensors(o.checkpoint);
  model::MnasNet net(space::decode_arch(info.block_strings), info.params);
  const std::string prefix = (o.use_ema && info.has_ema) ? "ema/" : "model/";
  {
    torch::NoGradGuard no_grad;
    for (auto& item : net->named_parameters()) item.value().copy_(tensors.at(prefix + item.key()));
    for (auto& item : net->named_buffers()) item.value().copy_(tensors.at(prefix + item.key()));
  }
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
  const model::ModuleWeights weights(*net);

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
    OnnxEmitter e(graph, weights, p.bn_epsilon, o.batch, p.input_channels, p.image_size, p.num_classes);
    model::emit_network(net->layers(), p.tf_same_padding, e, e.input());
    report.onnx_nodes = e.nodes();
    try {
      onnx::checker::check_model(model);
    } catch (const std::exception& ex) {
      throw Error("ONNX checker rejected the exported graph: " + std::string(ex.what()));
    }
    const std::string tmp = o.onnx_path + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out || !model.SerializeToOstream(&out)) throw Error("cannot write '" + tmp + "'");
    }
    rename_into_place(tmp, o.onnx_path);
    if (o.verify) {
      cv::dnn::Net cvnet = cv::dnn::readNetFromONNX(o.onnx_path);
      const auto xc = x.contiguous();
      std::vector<int> dims(xc.sizes().begin(), xc.sizes().end());
      cv::Mat blob(static_cast<int>(dims.size()), dims.data(), CV_32F, xc.data_ptr<float>());
      cvnet.setInput(blob, "input");
      cv::Mat out = cvnet.forward();
      auto got = torch::from_blob(out.ptr<float>(), {o.batch, p.num_classes}, torch::kFloat32).clone();
      report.onnx_max_abs_diff = (got - reference).abs().max().item<double>();
      if (!(report.onnx_max_abs_diff <= o.tolerance)) {
        throw Error("ONNX export '" + o.onnx_path + "': OpenCV DNN logits differ from LibTorch by " +
                    std::to_string(report.onnx_max_abs_diff) + " (tolerance " + std::to_string(o.tolerance) + ")");
      }
    }
  }

  if (!o.torchscript_path.empty()) {
    model::ScriptOptions so;
    so.fold_bn = true;
    model::ScriptEmitter e(weights, p.bn_epsilon, so);
    model::emit_network(net->layers(), p.tf_same_padding, e, e.input());
    torch::jit::Module m = e.build("__torch__.mnas.MnasNet");
    const std::string tmp = o.torchscript_path + ".tmp";
    m.save(tmp);
    rename_into_place(tmp, o.torchscript_path);
    if (o.verify) {
      torch::NoGradGuard no_grad;
      auto loaded = torch::jit::load(o.torchscript_path);
      const auto got = loaded.forward({x}).toTensor();
      report.torchscript_max_abs_diff = (got - reference).abs().max().item<double>();
      if (!(report.torchscript_max_abs_diff <= o.tolerance)) {
        throw Error("TorchScript export '" + o.torchscript_path + "': logits differ from LibTorch by " +
                    std::to_string(report.torchscript_max_abs_diff));
      }
    }
  }
  return report;
}

}  // namespace mnas::train
