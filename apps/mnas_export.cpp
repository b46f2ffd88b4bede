// mnas_export: a trained checkpoint -> ONNX, TorchScript and/or TFLite, verified
// against LibTorch (ONNX in OpenCV DNN and ONNX Runtime, TFLite in Arm NN, TorchScript in LibTorch), or --info: the checkpoint's
// architecture as JSON (canonical block strings, GlobalParams, step). --int8: post-training int8 ONNX
// (QDQ) and TFLite, checked against the float model on test images (train/export.h); --int8-io: with
// int8 input and logits.
#include <boost/program_options.hpp>

#include <filesystem>
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
    "                  [--int8 | --onnx-int8 FILE | --tflite-int8 FILE] [--int8-io] [--calibration N]\n"
    "                  [--int8-images N]\n"
    "       mnas_export CHECKPOINT --info\n"
    "--int8 also writes int8 post-training-quantized versions of the --onnx and --tflite files next to them,\n"
    "'.int8' before the extension (a1.onnx -> a1.int8.onnx, a1.tflite -> a1.int8.tflite); --onnx-int8 and\n"
    "--tflite-int8 name int8 files explicitly (no float file needed). int8: activation ranges calibrated on N\n"
    "training images, weights per output channel; float input and logits, or with --int8-io int8 \"input\" and\n"
    "\"logits\" tensors (quantized I/O: quantize the normalised image with the input's scale and zero point,\n"
    "printed as input_quantization); verified (ONNX in ONNX Runtime, TFLite in Arm NN) on --int8-images test\n"
    "images: top-1 agreement with the float model >= 99 %, accuracy drop <= 1 point. \"io\" in the output says\n"
    "each file's input/output type.\n";

// `path` with ".int8" before its extension.
std::string int8_name(const std::string& path) {
  std::filesystem::path p(path);
  const std::string ext = p.extension().string();
  return p.replace_extension(".int8" + ext).string();
}

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
      ("int8", "also write int8 versions of the --onnx / --tflite files (FILE.int8.onnx, FILE.int8.tflite)")
      ("onnx-int8", po::value<std::string>(), "write int8 ONNX (QDQ) here, verified in ONNX Runtime")
      ("tflite-int8", po::value<std::string>(), "write int8 TFLite here, verified in Arm NN")
      ("int8-io", "int8 files with int8 input and logits (quantized I/O) instead of float ones")
      ("calibration", po::value<int>()->default_value(256), "training images calibrating the int8 ranges (>= 1)")
      ("int8-images", po::value<int>()->default_value(500), "test images verifying the int8 files (>= batch)")
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
  if (vm.count("onnx-int8")) o.onnx_int8_path = vm["onnx-int8"].as<std::string>();
  if (vm.count("tflite-int8")) o.tflite_int8_path = vm["tflite-int8"].as<std::string>();
  if (vm.count("int8")) {
    if (!o.onnx_int8_path.empty() || !o.tflite_int8_path.empty()) {
      std::cerr << "mnas_export: --int8 names the int8 files after --onnx / --tflite; with --onnx-int8 or "
                   "--tflite-int8 leave it out\n" << kUsage;
      return 2;
    }
    if (o.onnx_path.empty() && o.tflite_path.empty()) {
      std::cerr << "mnas_export: --int8 needs --onnx and/or --tflite FILE (the int8 files are named after them)\n"
                << kUsage;
      return 2;
    }
    if (!o.onnx_path.empty()) o.onnx_int8_path = int8_name(o.onnx_path);
    if (!o.tflite_path.empty()) o.tflite_int8_path = int8_name(o.tflite_path);
  }
  if (o.onnx_path.empty() && o.torchscript_path.empty() && o.tflite_path.empty() && o.onnx_int8_path.empty() &&
      o.tflite_int8_path.empty()) {
    std::cerr << "mnas_export: nothing to do: give --onnx, --torchscript, --tflite, --onnx-int8 and/or "
                 "--tflite-int8 FILE (or --info)\n" << kUsage;
    return 2;
  }
  o.int8_io = vm.count("int8-io") > 0;
  if (o.int8_io && o.onnx_int8_path.empty() && o.tflite_int8_path.empty()) {
    std::cerr << "mnas_export: --int8-io applies to the int8 files: give --int8, --onnx-int8 or --tflite-int8\n"
              << kUsage;
    return 2;
  }
  o.calibration = vm["calibration"].as<int>();
  o.int8_verify_images = vm["int8-images"].as<int>();
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
