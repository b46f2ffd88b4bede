// ONNX, TFLite and TorchScript export of a checkpoint (train/export.h;
// library mnas::export, the only one that links libonnx, OpenCV DNN and
// Arm NN). The walk of model/network_walk.h over the eval-mode network drives
// the emitters (train/onnx_emitter.h, train/tflite_emitter.h,
// model/script_emitter.h).
#include "train/export.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <torch/script.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <opencv2/dnn.hpp>
#include <optional>

#include "common/error.h"
#include "common/files.h"
#include "model/mnasnet.h"
#include "model/network_walk.h"
#include "model/script_emitter.h"
#include "model/weights.h"
#include "space/block_codec.h"
#include "train/checkpoint_io.h"
#include "train/datasets.h"
#include "train/onnx_emitter.h"
#include "train/onnxruntime_runner.h"
#include "train/tflite_emitter.h"
#include "train/tflite_runtime.h"

namespace mnas::train {
namespace {

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


// What a classifier needs besides the graph, as model metadata_props (read
// by mnas_classify, train/classify.h): the kOnnxMeta* keys of export.h; mean
// and stddev one per input channel, class names empty when not fixed.
void add_inference_metadata(onnx::ModelProto& model, const CheckpointInfo& info) {
  const DatasetTraits t = dataset_traits(info.config.dataset);
  const int c = info.params.input_channels;
  const auto add = [&](const std::string& key, const std::string& value) {
    auto* e = model.add_metadata_props();
    e->set_key(key);
    e->set_value(value);
  };
  add(kOnnxMetaDataset, info.config.dataset);
  add(kOnnxMetaMean, nlohmann::json(std::vector<float>(t.mean.begin(), t.mean.begin() + std::min(c, 3))).dump());
  add(kOnnxMetaStddev,
      nlohmann::json(std::vector<float>(t.stddev.begin(), t.stddev.begin() + std::min(c, 3))).dump());
  add(kOnnxMetaEvalCrop, nlohmann::json(info.config.eval_crop).dump());
  add(kOnnxMetaClassNames, nlohmann::json(t.class_names).dump());
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
  if (o.onnx_path.empty() && o.torchscript_path.empty() && o.tflite_path.empty()) {
    throw ConfigError("export: nothing to write (no ONNX, TFLite or TorchScript path)");
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
  if (!o.tflite_path.empty()) {
    check_output_path(o.tflite_path, {o.checkpoint}, "--tflite");
    for (const auto& [flag, other] : {std::pair<std::string, std::string>{"--onnx", o.onnx_path},
                                      {"--torchscript", o.torchscript_path}}) {
      if (same_file(o.tflite_path, other)) {
        throw ConfigError("--tflite '" + o.tflite_path + "' and " + flag + " '" + other +
                          "' are the same file; one export would destroy the other: give two paths");
      }
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
  std::optional<AtomicFile> onnx_file, ts_file, tflite_file;
  const model::ModuleWeights weights(*net);

  if (!o.onnx_path.empty()) {
    onnx::ModelProto model;
    model.set_ir_version(onnx::IR_VERSION);
    model.set_producer_name("mnas");
    model.set_doc_string("MnasNet " + space::arch_to_string(space::decode_arch(info.block_strings)));
    auto* opset = model.add_opset_import();
    opset->set_domain("");
    opset->set_version(13);
    add_inference_metadata(model, info);
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
      report.opencv_version = CV_VERSION;
      if (!c.ok) {
        throw Error("ONNX export '" + o.onnx_path + "' not written: OpenCV DNN logits differ from LibTorch: " +
                    describe(c, o));
      }
      // The same input in ONNX Runtime (npm onnxruntime-node, 1 thread),
      // when setup could install it (it warns when npm is out of reach).
      if (!onnxruntime::installed()) {
        report.onnxruntime_skipped = "ONNX Runtime not installed in '" + onnxruntime::package_dir() +
                                     "/node_modules' (scripts/setup.sh installs it from npm)";
      } else {
      onnxruntime::Tensor in;
      in.shape.assign(xc.sizes().begin(), xc.sizes().end());
      in.data.assign(xc.data_ptr<float>(), xc.data_ptr<float>() + xc.numel());
      onnxruntime::Result ort;
      try {
        ort = onnxruntime::run(tmp, in);
      } catch (const Error& ex) {
        throw Error("ONNX export '" + o.onnx_path + "' not written: ONNX Runtime check failed: " + ex.what());
      }
      if (ort.output.data.size() != static_cast<size_t>(o.batch) * p.num_classes) {
        throw Error("ONNX export '" + o.onnx_path + "' not written: ONNX Runtime returned " +
                    std::to_string(ort.output.data.size()) + " values, expected " +
                    std::to_string(o.batch * p.num_classes));
      }
      const auto ort_logits =
          torch::from_blob(ort.output.data.data(), {o.batch, p.num_classes}, torch::kFloat32).clone();
      const Compared ct = compare(ort_logits, reference, o);
      report.onnxruntime_max_abs_diff = ct.max_abs_diff;
      report.onnxruntime_top1_agreement = ct.top1_agreement;
      report.onnxruntime_version = ort.version;
      if (!ct.ok) {
        throw Error("ONNX export '" + o.onnx_path + "' not written: ONNX Runtime " + ort.version +
                    " logits differ from LibTorch: " + describe(ct, o));
      }
      }
    }
  }

  if (!o.tflite_path.empty()) {
    TfLiteEmitter e(weights, p.bn_epsilon, o.batch, p.input_channels, p.image_size, p.num_classes);
    model::emit_network(net->layers(), p.tf_same_padding, e, e.input());
    report.tflite_operators = e.operators();
    const std::vector<uint8_t> bytes =
        e.finish("MnasNet " + space::arch_to_string(space::decode_arch(info.block_strings)) + " (mnas)");
    report.tflite_bytes = static_cast<long long>(bytes.size());
    tflite_file.emplace(o.tflite_path);
    const std::string tmp = tflite_file->temp_path();
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
      if (!out.flush()) throw Error("cannot write '" + o.tflite_path + "' (temporary '" + tmp + "')");
    }
    if (o.verify) {
      // NCHW -> NHWC, the TFLite input layout.
      const torch::Tensor nhwc = x.permute({0, 2, 3, 1}).contiguous();
      const std::vector<float> input(nhwc.data_ptr<float>(), nhwc.data_ptr<float>() + nhwc.numel());
      TfLiteRun run;
      try {
        run = run_tflite(tmp, input);
      } catch (const Error& ex) {
        throw Error("TFLite export '" + o.tflite_path + "' not written: " + ex.what());
      }
      if (run.output.size() != static_cast<size_t>(o.batch) * p.num_classes) {
        throw Error("TFLite export '" + o.tflite_path + "' not written: " + tflite_runtime_name() + " returned " +
                    std::to_string(run.output.size()) + " values, expected " + std::to_string(o.batch * p.num_classes));
      }
      const auto got = torch::from_blob(run.output.data(), {o.batch, p.num_classes}, torch::kFloat32).clone();
      const Compared c = compare(got, reference, o);
      report.tflite_max_abs_diff = c.max_abs_diff;
      report.tflite_top1_agreement = c.top1_agreement;
      report.allowed_diff = c.allowed;
      if (!c.ok) {
        throw Error("TFLite export '" + o.tflite_path + "' not written: " + tflite_runtime_name() +
                    " logits differ from LibTorch: " + describe(c, o));
      }
    }
  }

  if (!o.torchscript_path.empty()) {
    model::ScriptOptions so;
    so.fold_bn = true;
    model::ScriptEmitter e(weights, p.bn_epsilon, so);
    model::emit_network(net->layers(), p.tf_same_padding, e, e.input());
    torch::jit::Module m = e.build("__torch__.mnas.MnasNet");
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
  if (tflite_file) tflite_file->commit();
  return report;
}

nlohmann::json export_report_json(const ExportReport& r, const ExportOptions& o) {
  nlohmann::json out = {{"checkpoint", o.checkpoint}};
  // -1 = not verified (--no-verify) -> null.
  auto verified = [](double v) { return v >= 0 ? nlohmann::json(v) : nlohmann::json(nullptr); };
  if (!o.onnx_path.empty()) {
    // The worst of the runtimes, then each runtime.
    const double diff = std::max(r.onnx_max_abs_diff, r.onnxruntime_max_abs_diff);
    const double agree = r.onnxruntime_top1_agreement >= 0
                             ? std::min(r.onnx_top1_agreement, r.onnxruntime_top1_agreement)
                             : r.onnx_top1_agreement;
    nlohmann::json runtimes = nlohmann::json::array();
    if (r.onnx_max_abs_diff >= 0) {
      runtimes.push_back({{"runtime", "OpenCV DNN " + r.opencv_version},
                          {"max_abs_diff", r.onnx_max_abs_diff},
                          {"top1_agreement", r.onnx_top1_agreement}});
    }
    if (r.onnxruntime_max_abs_diff >= 0) {
      runtimes.push_back({{"runtime", "ONNX Runtime " + r.onnxruntime_version},
                          {"max_abs_diff", r.onnxruntime_max_abs_diff},
                          {"top1_agreement", r.onnxruntime_top1_agreement}});
    }
    out["onnx"] = {{"path", o.onnx_path},
                   {"nodes", r.onnx_nodes},
                   {"max_abs_diff", verified(diff)},
                   {"top1_agreement", verified(agree)},
                   {"verified_in", runtimes}};
    if (!r.onnxruntime_skipped.empty()) out["onnx"]["not_verified_in"] = {r.onnxruntime_skipped};
  }
  if (!o.torchscript_path.empty()) {
    out["torchscript"] = {{"path", o.torchscript_path},
                          {"max_abs_diff", verified(r.torchscript_max_abs_diff)},
                          {"top1_agreement", verified(r.torchscript_top1_agreement)}};
  }
  if (!o.tflite_path.empty()) {
    out["tflite"] = {{"path", o.tflite_path},
                     {"operators", r.tflite_operators},
                     {"bytes", r.tflite_bytes},
                     {"runtime", o.verify ? nlohmann::json(tflite_runtime_name()) : nlohmann::json(nullptr)},
                     {"max_abs_diff", verified(r.tflite_max_abs_diff)},
                     {"top1_agreement", verified(r.tflite_top1_agreement)}};
  }
  out["allowed_diff"] = verified(r.allowed_diff);
  return out;
}

}  // namespace mnas::train
