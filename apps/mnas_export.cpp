// mnas_export: a trained checkpoint -> ONNX, TorchScript and/or TFLite, verified
// against LibTorch (ONNX in OpenCV DNN and ONNX Runtime, TFLite in Arm NN, TorchScript in LibTorch), or --info: the checkpoint's
// architecture as JSON (canonical block strings, GlobalParams, step).
#include <boost/program_options.hpp>

#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "train/checkpoint.h"
#include "train/export.h"

namespace po = boost::program_options;
using nlohmann::json;

namespace {

constexpr const char* kUsage =
    "Usage: mnas_export CHECKPOINT [--onnx FILE] [--torchscript FILE] [--tflite FILE] [--batch N] [--no-verify]\n"
    "                  [--tolerance ATOL] [--rtol RTOL]\n"
    "       mnas_export CHECKPOINT --info\n";

int run(int argc, char** argv) {
  po::options_description opts("Options");
  opts.add_options()
      ("help,h", "show this help")
      ("checkpoint", po::value<std::string>(), "mnas checkpoint (mnas_train --checkpoint)")
      ("onnx", po::value<std::string>(), "write ONNX (opset 13) here")
      ("torchscript", po::value<std::string>(), "write TorchScript here")
      ("tflite", po::value<std::string>(), "write TFLite (float32, NHWC) here, verified in Arm NN")
      ("batch", po::value<int>()->default_value(1), "fixed batch of the ONNX input")
      ("no-ema", "export the training weights instead of the EMA")
      ("no-verify", "skip running the exports and comparing logits")
      ("tolerance", po::value<double>()->default_value(1e-4),
       "absolute part of the allowed |logit difference| when verifying (finite, >= 0)")
      ("rtol", po::value<double>()->default_value(1e-3),
       "relative part: allowed = tolerance + rtol * max |logit| (finite, >= 0)")
      ("info", "print the checkpoint's architecture and step as JSON");
  po::positional_options_description pos;
  pos.add("checkpoint", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(opts).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "mnas_export: " << e.what() << "\n" << kUsage;
    return 2;
  }
  if (vm.count("help")) {
    std::cout << kUsage << opts;
    return 0;
  }
  if (!vm.count("checkpoint")) {
    std::cerr << "mnas_export: missing CHECKPOINT\n" << kUsage;
    return 2;
  }
  const std::string ckpt = vm["checkpoint"].as<std::string>();
  if (vm.count("info")) {
    json out = mnas::train::describe_checkpoint(mnas::train::read_checkpoint_info(ckpt));
    out["checkpoint"] = ckpt;
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  mnas::train::ExportOptions o;
  o.checkpoint = ckpt;
  if (vm.count("onnx")) o.onnx_path = vm["onnx"].as<std::string>();
  if (vm.count("torchscript")) o.torchscript_path = vm["torchscript"].as<std::string>();
  if (vm.count("tflite")) o.tflite_path = vm["tflite"].as<std::string>();
  if (o.onnx_path.empty() && o.torchscript_path.empty() && o.tflite_path.empty()) {
    std::cerr << "mnas_export: nothing to do: give --onnx, --torchscript and/or --tflite FILE (or --info)\n" << kUsage;
    return 2;
  }
  o.batch = vm["batch"].as<int>();
  o.use_ema = !vm.count("no-ema");
  o.verify = !vm.count("no-verify");
  o.tolerance = vm["tolerance"].as<double>();
  o.rtol = vm["rtol"].as<double>();
  const auto r = mnas::train::export_checkpoint(o);
  const json out = mnas::train::export_report_json(r, o);
  std::cout << out.dump(2) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "mnas_export: " << e.what() << "\n";
    return 2;
  }
}
