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
#include "train/calibrate.h"
#include "train/checkpoint_io.h"
#include "train/datasets.h"
#include "train/onnx_emitter.h"
#include "train/onnxruntime_runner.h"
#include "train/tflite_emitter.h"
#include "train/tflite_model.h"
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


// What a classifier needs besides the graph (read by mnas_classify,
// train/classify.h): {"dataset", "mean", "stddev" (one per input channel),
// "eval_crop", "class_names" (empty when not fixed)}. The TFLite files carry
// this object (kTfLiteMetadataName), the ONNX files each value under its
// kOnnxMeta* key of export.h ("mnas." + the name).
nlohmann::json inference_metadata(const CheckpointInfo& info) {
  const DatasetTraits t = dataset_traits(info.config.dataset);
  const int c = std::min(static_cast<int>(info.params.input_channels), 3);
  return {{"dataset", info.config.dataset},
          {"mean", std::vector<float>(t.mean.begin(), t.mean.begin() + c)},
          {"stddev", std::vector<float>(t.stddev.begin(), t.stddev.begin() + c)},
          {"eval_crop", info.config.eval_crop},
          {"class_names", t.class_names}};
}

void add_inference_metadata(onnx::ModelProto& model, const CheckpointInfo& info) {
  const nlohmann::json meta = inference_metadata(info);
  const auto add = [&](const std::string& key, const std::string& value) {
    auto* e = model.add_metadata_props();
    e->set_key(key);
    e->set_value(value);
  };
  add(kOnnxMetaDataset, meta["dataset"].get<std::string>());
  add(kOnnxMetaMean, meta["mean"].dump());
  add(kOnnxMetaStddev, meta["stddev"].dump());
  add(kOnnxMetaEvalCrop, meta["eval_crop"].dump());
  add(kOnnxMetaClassNames, meta["class_names"].dump());
}

// The TFLite file of `net` (float, or int8 with `int8` ranges) with the
// inference metadata; its operator count in `operators`.
std::vector<uint8_t> make_tflite(model::MnasNet& net, const model::ModuleWeights& weights,
                                 const CheckpointInfo& info, int batch, const quant::Ranges* int8, bool int8_io,
                                 int* operators) {
  const auto& p = info.params;
  TfLiteEmitter e(weights, p.bn_epsilon, batch, p.input_channels, p.image_size, p.num_classes, int8, int8_io);
  model::emit_network(net->layers(), p.tf_same_padding, e, e.input());
  *operators = e.operators();
  return e.finish("MnasNet " + space::arch_to_string(space::decode_arch(info.block_strings)) +
                      (int8 ? std::string(" (mnas, int8 post-training") + (int8_io ? ", int8 I/O)" : ")") : " (mnas)"),
                  {{kTfLiteMetadataName, inference_metadata(info).dump()}});
}

// Float logits of an int8 file from its runtime's float or int8 output
// (quantized I/O: dequantized with the logits' parameters).
torch::Tensor logits_of(const std::vector<float>& f, const std::vector<int8_t>& q, const quant::Params& lp,
                        int64_t n, int64_t classes) {
  std::vector<float> v = q.empty() ? f : quant::dequantize_values(q, lp);
  if (static_cast<int64_t>(v.size()) != n * classes) return torch::empty({0});
  return torch::from_blob(v.data(), {n, classes}, torch::kFloat32).clone();
}

// The ONNX model of `net` (float, or int8 QDQ with `int8` ranges).
onnx::ModelProto make_onnx(model::MnasNet& net, const model::ModuleWeights& weights, const CheckpointInfo& info,
                           int batch, const quant::Ranges* int8, bool int8_io, int* nodes) {
  const auto& p = info.params;
  onnx::ModelProto model;
  model.set_ir_version(onnx::IR_VERSION);
  model.set_producer_name("mnas");
  model.set_doc_string("MnasNet " + space::arch_to_string(space::decode_arch(info.block_strings)) +
                       (int8 ? std::string(" (int8 QDQ, post-training quantization") + (int8_io ? ", int8 I/O)" : ")")
                             : std::string()));
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(13);
  add_inference_metadata(model, info);
  auto* graph = model.mutable_graph();
  graph->set_name("mnasnet");
  OnnxEmitter e(graph, weights, p.bn_epsilon, batch, p.input_channels, p.image_size, p.num_classes, int8, int8_io);
  model::emit_network(net->layers(), p.tf_same_padding, e, e.input());
  *nodes = e.nodes();
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& ex) {
    throw Error("ONNX checker rejected the exported graph: " + std::string(ex.what()));
  }
  return model;
}

void write_bytes(const std::string& tmp, const std::string& path, const void* data, size_t n) {
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
  if (!out.flush()) throw Error("cannot write '" + path + "' (temporary '" + tmp + "')");
}

// The int8 file's logits against the float model's on labelled images;
// throws naming the file, the runtime and the figures when it falls short.
Int8Check check_int8(const torch::Tensor& got, const torch::Tensor& reference, const std::vector<int64_t>& labels,
                     const ExportOptions& o, const std::string& what, const std::string& runtime) {
  Int8Check c;
  c.runtime = runtime;
  const int64_t n = reference.size(0);
  if (got.sizes() != reference.sizes()) {
    throw Error(what + " not written: " + runtime + " returned " + std::to_string(got.numel()) + " values, expected " +
                std::to_string(reference.numel()));
  }
  const auto y = torch::tensor(std::vector<int64_t>(labels.begin(), labels.begin() + n));
  c.images = static_cast<int>(n);
  c.top1_agreement = got.argmax(1).eq(reference.argmax(1)).to(torch::kFloat64).mean().item<double>();
  c.accuracy = got.argmax(1).eq(y).to(torch::kFloat64).mean().item<double>();
  c.float_accuracy = reference.argmax(1).eq(y).to(torch::kFloat64).mean().item<double>();
  c.max_abs_diff = (got - reference).abs().max().item<double>();
  const bool ok = c.top1_agreement >= o.int8_min_agreement &&
                  c.float_accuracy - c.accuracy <= o.int8_max_accuracy_drop + 1e-12;  // NaN fails
  if (!ok) {
    char buf[320];
    std::snprintf(buf, sizeof buf,
                  " on %d test images: top-1 agreement with the float model %.4f (required >= %.4f), accuracy "
                  "%.4f vs float %.4f (drop allowed <= %.4f)",
                  c.images, c.top1_agreement, o.int8_min_agreement, c.accuracy, c.float_accuracy,
                  o.int8_max_accuracy_drop);
    throw Error(what + " not written: " + runtime + buf);
  }
  return c;
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
  if (o.calibration < 1) throw ConfigError("--calibration must be >= 1 image, got " + std::to_string(o.calibration));
  if (o.int8_verify_images < o.batch) {
    throw ConfigError("int8 verification needs at least one batch of test images (" + std::to_string(o.batch) +
                      "), got " + std::to_string(o.int8_verify_images));
  }
  if (!(o.int8_min_agreement >= 0 && o.int8_min_agreement <= 1)) {
    throw ConfigError("int8 minimum top-1 agreement must be in [0, 1], got " + std::to_string(o.int8_min_agreement));
  }
  if (!std::isfinite(o.int8_max_accuracy_drop) || o.int8_max_accuracy_drop < 0) {
    throw ConfigError("int8 maximum accuracy drop must be a finite share >= 0, got " +
                      std::to_string(o.int8_max_accuracy_drop));
  }
  // No output over the checkpoint or over another output (through any link).
  const std::vector<std::pair<std::string, std::string>> outputs = {
      {"--onnx", o.onnx_path},           {"--torchscript", o.torchscript_path}, {"--tflite", o.tflite_path},
      {"--onnx-int8", o.onnx_int8_path}, {"--tflite-int8", o.tflite_int8_path}};
  bool any = false;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const auto& [flag, path] = outputs[i];
    if (path.empty()) continue;
    any = true;
    check_output_path(path, {o.checkpoint}, flag);
    for (size_t j = 0; j < i; ++j) {
      if (!outputs[j].second.empty() && same_file(path, outputs[j].second)) {
        throw ConfigError(flag + " '" + path + "' and " + outputs[j].first + " '" + outputs[j].second +
                          "' are the same file; one export would destroy the other: give two paths");
      }
    }
  }
  if (!any) throw ConfigError("export: nothing to write (no ONNX, TFLite or TorchScript path)");
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
  std::optional<AtomicFile> onnx_file, ts_file, tflite_file, onnx_int8_file, tflite_int8_file;
  const model::ModuleWeights weights(*net);

  if (!o.onnx_path.empty()) {
    const onnx::ModelProto model = make_onnx(net, weights, info, o.batch, nullptr, false, &report.onnx_nodes);
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
    const std::vector<uint8_t> bytes =
        make_tflite(net, weights, info, o.batch, nullptr, false, &report.tflite_operators);
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
  if (!o.onnx_int8_path.empty() || !o.tflite_int8_path.empty()) {
    // Calibration on training images, verification on test images, both as
    // the network sees them at evaluation.
    const LabelledImages calib = checkpoint_images(info, /*train=*/true, o.calibration, /*seed=*/0);
    const quant::Ranges ranges = calibrate(net, calib.images);
    report.calibration_images = static_cast<int>(calib.images.size(0));
    // Quantized I/O: the parameters of the files' int8 "input" and "logits" (the walk names the
    // classifier module "classifier", model/network_walk.h).
    const quant::Params in_q = quant::activation_params(quant::at(ranges, quant::kInputKey));
    const quant::Params logits_q = quant::activation_params(quant::at(ranges, quant::key("classifier", "logits")));
    if (o.int8_io) {
      report.int8_input = in_q;
      report.int8_logits = logits_q;
    }
    LabelledImages test;
    torch::Tensor test_logits;
    if (o.verify) {
      test = checkpoint_images(info, /*train=*/false, o.int8_verify_images, /*seed=*/1);
      const int64_t n = test.images.size(0) / o.batch * o.batch;  // whole batches
      if (n < 1) throw Error("int8 verification: the test set has fewer images than one batch");
      test.images = test.images.slice(0, 0, n).contiguous();
      test.labels.resize(static_cast<size_t>(n));
      torch::NoGradGuard no_grad;
      test_logits = net->forward(test.images);
    }
    if (!o.onnx_int8_path.empty()) {
      const onnx::ModelProto model =
          make_onnx(net, weights, info, o.batch, &ranges, o.int8_io, &report.onnx_int8_nodes);
      onnx_int8_file.emplace(o.onnx_int8_path);
      const std::string tmp = onnx_int8_file->temp_path();
      const std::string bytes = model.SerializeAsString();
      write_bytes(tmp, o.onnx_int8_path, bytes.data(), bytes.size());
      report.onnx_int8_bytes = static_cast<long long>(bytes.size());
      if (o.verify) {
        const std::string what = "int8 ONNX export '" + o.onnx_int8_path + "'";
        if (!onnxruntime::installed()) {
          throw Error(what + " not written: verifying it needs ONNX Runtime, not installed in '" +
                      onnxruntime::package_dir() + "/node_modules' (scripts/setup.sh installs it; --no-verify skips)");
        }
        onnxruntime::Tensor in;
        in.shape = {o.batch, p.input_channels, p.image_size, p.image_size};
        if (o.int8_io) {
          in.int8 = quant::quantize_values(test.images.data_ptr<float>(), test.images.numel(), in_q);
        } else {
          in.data.assign(test.images.data_ptr<float>(), test.images.data_ptr<float>() + test.images.numel());
        }
        onnxruntime::Result ort;
        try {
          ort = onnxruntime::run(tmp, in);
        } catch (const Error& ex) {
          throw Error(what + " not written: ONNX Runtime check failed: " + ex.what());
        }
        const int64_t n = test.images.size(0);
        if (ort.output.is_int8() != o.int8_io) {
          throw Error(what + " not written: ONNX Runtime returned " + (ort.output.is_int8() ? "int8" : "float32") +
                      " logits, expected " + (o.int8_io ? "int8" : "float32"));
        }
        const auto got = logits_of(ort.output.data, ort.output.int8, logits_q, n, p.num_classes);
        if (got.numel() == 0) {
          throw Error(what + " not written: ONNX Runtime returned " +
                      std::to_string(std::max(ort.output.data.size(), ort.output.int8.size())) +
                      " values, expected " + std::to_string(n * p.num_classes));
        }
        report.onnx_int8 = check_int8(got, test_logits, test.labels, o, what, "ONNX Runtime " + ort.version);
      }
    }
    if (!o.tflite_int8_path.empty()) {
      const std::vector<uint8_t> bytes =
          make_tflite(net, weights, info, o.batch, &ranges, o.int8_io, &report.tflite_int8_operators);
      report.tflite_int8_bytes = static_cast<long long>(bytes.size());
      tflite_int8_file.emplace(o.tflite_int8_path);
      const std::string tmp = tflite_int8_file->temp_path();
      write_bytes(tmp, o.tflite_int8_path, bytes.data(), bytes.size());
      if (o.verify) {
        const std::string what = "int8 TFLite export '" + o.tflite_int8_path + "'";
        const torch::Tensor nhwc = test.images.permute({0, 2, 3, 1}).contiguous();
        TfLiteRun run;
        try {
          if (o.int8_io) {
            run = run_tflite_int8(tmp, quant::quantize_values(nhwc.data_ptr<float>(), nhwc.numel(), in_q));
          } else {
            run = run_tflite(tmp, std::vector<float>(nhwc.data_ptr<float>(), nhwc.data_ptr<float>() + nhwc.numel()));
          }
        } catch (const Error& ex) {
          throw Error(what + " not written: " + ex.what());
        }
        const int64_t n = test.images.size(0);
        const auto got = logits_of(run.output, run.output_int8, logits_q, n, p.num_classes);
        if (got.numel() == 0) {
          throw Error(what + " not written: " + tflite_runtime_name() + " returned " +
                      std::to_string(std::max(run.output.size(), run.output_int8.size())) + " values, expected " +
                      std::to_string(n * p.num_classes));
        }
        report.tflite_int8 = check_int8(got, test_logits, test.labels, o, what, tflite_runtime_name());
      }
    }
  }
  if (onnx_file) onnx_file->commit();
  if (ts_file) ts_file->commit();
  if (tflite_file) tflite_file->commit();
  if (onnx_int8_file) onnx_int8_file->commit();
  if (tflite_int8_file) tflite_int8_file->commit();
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
                   {"io", "float32"},
                   {"nodes", r.onnx_nodes},
                   {"max_abs_diff", verified(diff)},
                   {"top1_agreement", verified(agree)},
                   {"verified_in", runtimes}};
    if (!r.onnxruntime_skipped.empty()) out["onnx"]["not_verified_in"] = {r.onnxruntime_skipped};
  }
  if (!o.torchscript_path.empty()) {
    out["torchscript"] = {{"path", o.torchscript_path},
                          {"io", "float32"},
                          {"max_abs_diff", verified(r.torchscript_max_abs_diff)},
                          {"top1_agreement", verified(r.torchscript_top1_agreement)}};
  }
  if (!o.tflite_path.empty()) {
    out["tflite"] = {{"path", o.tflite_path},
                     {"io", "float32"},
                     {"operators", r.tflite_operators},
                     {"bytes", r.tflite_bytes},
                     {"runtime", o.verify ? nlohmann::json(tflite_runtime_name()) : nlohmann::json(nullptr)},
                     {"max_abs_diff", verified(r.tflite_max_abs_diff)},
                     {"top1_agreement", verified(r.tflite_top1_agreement)}};
  }
  auto quantization = [](const quant::Params& q) {
    return nlohmann::json{{"scale", q.scale}, {"zero_point", q.zero_point}};
  };
  auto int8 = [&](const Int8Check& c, const std::string& path, const char* count_key, int count, long long bytes) {
    nlohmann::json j{{"path", path},
                     {"io", o.int8_io ? "int8" : "float32"},
                     {count_key, count},
                     {"bytes", bytes},
                     {"calibration_images", r.calibration_images},
                     {"runtime", c.images > 0 ? nlohmann::json(c.runtime) : nlohmann::json(nullptr)},
                     {"images", c.images},
                     {"top1_agreement", verified(c.top1_agreement)},
                     {"accuracy", verified(c.accuracy)},
                     {"float_accuracy", verified(c.float_accuracy)},
                     {"max_abs_diff", verified(c.max_abs_diff)}};
    if (o.int8_io) {
      j["input_quantization"] = quantization(r.int8_input);
      j["logits_quantization"] = quantization(r.int8_logits);
    }
    return j;
  };
  if (!o.onnx_int8_path.empty()) {
    out["onnx_int8"] = int8(r.onnx_int8, o.onnx_int8_path, "nodes", r.onnx_int8_nodes, r.onnx_int8_bytes);
  }
  if (!o.tflite_int8_path.empty()) {
    out["tflite_int8"] =
        int8(r.tflite_int8, o.tflite_int8_path, "operators", r.tflite_int8_operators, r.tflite_int8_bytes);
  }
  out["allowed_diff"] = verified(r.allowed_diff);
  return out;
}

}  // namespace mnas::train
