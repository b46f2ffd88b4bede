// mnas_classify: image files -> top-5 labels with probabilities, with a
// checkpoint (LibTorch), an exported ONNX file (ONNX Runtime) or an exported
// TFLite file (Arm NN).
#include <boost/program_options.hpp>

#include <iostream>
#include <string>
#include <vector>

#include "train/classify.h"

namespace po = boost::program_options;

namespace {

constexpr const char* kUsage =
    "Usage: mnas_classify MODEL IMAGE... [--labels FILE] [--top K] [--json] [--no-ema]\n"
    "  MODEL: an mnas checkpoint (LibTorch), an exported .onnx file (ONNX Runtime) or .tflite file (Arm NN);\n"
    "         float or int8, with float or int8 (--int8-io) input and output\n";

int run(int argc, char** argv) {
  po::options_description opts("Options");
  opts.add_options()
      ("help,h", "show this help")
      ("model", po::value<std::string>(), "mnas checkpoint, .onnx or .tflite file (mnas_export)")
      ("images", po::value<std::vector<std::string>>(), "image files (PNG, JPEG, ...; any size)")
      ("labels", po::value<std::string>(), "one label per line, line i = class i (default: the model's class names)")
      ("top", po::value<int>()->default_value(5), "labels per image")
      ("no-ema", "checkpoint: the training weights instead of the EMA")
      ("json", "print JSON");
  po::positional_options_description pos;
  pos.add("model", 1).add("images", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(opts).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "mnas_classify: " << e.what() << "\n" << kUsage;
    return 2;
  }
  if (vm.count("help")) {
    std::cout << kUsage << opts;
    return 0;
  }
  if (!vm.count("model") || !vm.count("images")) {
    std::cerr << "mnas_classify: give a MODEL and at least one IMAGE\n" << kUsage;
    return 2;
  }
  mnas::train::ClassifyOptions o;
  o.model = vm["model"].as<std::string>();
  if (vm.count("labels")) o.labels_file = vm["labels"].as<std::string>();
  o.top_k = vm["top"].as<int>();
  o.use_ema = !vm.count("no-ema");
  const auto r = mnas::train::classify_images(o, vm["images"].as<std::vector<std::string>>());
  for (const auto& im : r.images) {
    if (!im.error.empty()) std::cerr << "mnas_classify: " << im.error << "\n";
  }
  if (vm.count("json")) {
    std::cout << mnas::train::classify_json(r).dump(2) << "\n";
  } else {
    std::cout << "# " << r.model << " in " << r.runtime << ", " << r.image_size << "x" << r.image_size << "x"
              << r.channels << (r.io == "int8" ? " int8 I/O" : "") << ", normalisation " << r.normalisation << "\n"
              << mnas::train::classify_text(r);
  }
  return r.failed() > 0 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "mnas_classify: " << e.what() << "\n";
    return 2;
  }
}
