// mnas_train: train a MnasNet with the reference recipe, evaluate a
// checkpoint, or run one proxy child training (the search's inner loop).
// argv -> TrainConfig (defaults -> --config file -> flags) -> one library
// call -> JSON result on stdout, progress on stderr.
//
// Exit codes: 0 done, 1 diverged/failed, 2 bad input, 3 time limit reached
// (resume with --resume).
#include <boost/program_options.hpp>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/json_file.h"
#include "space/block_codec.h"
#include "space/named_archs.h"
#include "train/child_trainer.h"
#include "train/trainer.h"

namespace po = boost::program_options;
using nlohmann::json;
using namespace mnas;

namespace {

constexpr const char* kUsage =
    "Usage: mnas_train [--config FILE] [options]\n"
    "       mnas_train --eval CHECKPOINT [--dataset D] [--data PATH]\n"
    "       mnas_train --proxy [--proxy-config FILE] --arch ARCH\n"
    "Trains a MnasNet (reference recipe by default: experiments/a1.json), prints the\n"
    "result as JSON on stdout and progress on stderr.\n";

// Warnings of the library (undecodable images), one line each on stderr.
void print_warning(const std::string& message) {
  std::fprintf(stderr, "mnas_train: warning: %s\n", message.c_str());
}

// Progress of the library, one line each on stderr.
void print_line(const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); }

train::TrainCallbacks printing_callbacks() {
  train::TrainCallbacks cb;
  cb.on_warning = print_warning;
  cb.on_step = [](const train::StepProgress& p) { print_line(train::format_progress(p)); };
  cb.on_epoch_eval = [](int64_t epoch, const train::EvalResult& e) {
    print_line(train::format_epoch_eval(epoch, e));
  };
  cb.on_resumed = [](const std::string& checkpoint) { print_line(train::format_resumed(checkpoint)); };
  return cb;
}

// Sets one config key from a flag value: JSON when it parses, else a string.
train::TrainConfig set_key(const train::TrainConfig& c, const std::string& key, const std::string& value) {
  json v;
  try {
    v = json::parse(value);
  } catch (const json::exception&) {
    v = value;
  }
  return train::train_config_from_json(json{{key, v}}, c);
}

po::options_description options(std::vector<std::string>* sets) {
  po::options_description opts("Options");
  opts.add_options()
      ("help,h", "show this help")
      ("config", po::value<std::string>(), "JSON file of TrainConfig keys (docs/training.md)")
      ("arch", po::value<std::string>(), "named architecture or block strings")
      ("data", po::value<std::string>(), "dataset path (folder: contains train/ and val/)")
      ("dataset", po::value<std::string>(), "fashion-mnist | cifar10 | folder | synthetic")
      ("epochs", po::value<std::string>(), "training epochs")
      ("batch-size", po::value<std::string>(), "global batch per optimizer step")
      ("micro-batch", po::value<std::string>(), "images per forward pass (gradient accumulation)")
      ("image-size", po::value<std::string>(), "network input size")
      ("threads", po::value<std::string>(), "intra-op threads")
      ("device", po::value<std::string>(), "cpu | cuda[:N]")
      ("seed", po::value<std::string>(), "random seed")
      ("checkpoint", po::value<std::string>(), "checkpoint path (written atomically)")
      ("resume", "continue from --checkpoint when it exists")
      ("max-steps", po::value<std::string>(), "stop after this many optimizer steps")
      ("time-limit", po::value<std::string>(), "stop (with a checkpoint) after this many seconds")
      ("set", po::value<std::vector<std::string>>(sets), "KEY=VALUE: any config key (repeatable)")
      ("quiet,q", "no progress lines")
      ("eval", po::value<std::string>(), "evaluate this checkpoint on the test split")
      ("proxy", "run one proxy child training of --arch (train_child)")
      ("proxy-config", po::value<std::string>(), "JSON file of ProxyConfig keys (with --proxy)");
  return opts;
}

// --proxy-config, then the flags that override it.
train::ProxyConfig proxy_config(const po::variables_map& vm) {
  json pj = json::object();
  if (vm.count("proxy-config")) {
    const auto path = vm["proxy-config"].as<std::string>();
    pj = load_json_file(path, "proxy config");
    try {
      (void)train::proxy_config_from_json(pj);  // names the file in errors
    } catch (const ConfigError& e) {
      throw ConfigError("proxy config '" + path + "': " + e.what());
    }
  }
  // Flags override the file, through the same typed reader (a negative
  // --seed is rejected, not wrapped).
  if (vm.count("data")) pj["data_path"] = vm["data"].as<std::string>();
  if (vm.count("dataset")) pj["dataset"] = vm["dataset"].as<std::string>();
  if (vm.count("device")) pj["device"] = vm["device"].as<std::string>();
  for (const auto& [flag, key] : {std::pair{"seed", "seed"}, std::pair{"threads", "threads"}}) {
    if (!vm.count(flag)) continue;
    const auto value = vm[flag].as<std::string>();
    try {
      pj[key] = json::parse(value);
    } catch (const json::exception&) {
      pj[key] = value;
    }
  }
  const train::ProxyConfig proxy = train::proxy_config_from_json(pj);
  train::validate(proxy);
  return proxy;
}

int run_proxy(const po::variables_map& vm) {
  const train::ProxyConfig proxy = proxy_config(vm);
  const std::string arch = vm.count("arch") ? vm["arch"].as<std::string>() : "mnasnet-a1";
  const auto spec = space::resolve_arch(arch).arch;
  const auto r = train::train_child(spec, proxy);
  json out = train::to_json(r);
  out["arch"] = space::arch_to_string(spec);
  std::cout << out.dump(2) << "\n";
  return r.status == train::TrialStatus::kOk ? 0 : 1;
}

// Defaults -> --config -> flags -> --set, validated.
train::TrainConfig train_config(const po::variables_map& vm, const std::vector<std::string>& sets) {
  train::TrainConfig c;
  if (vm.count("config")) c = train::load_train_config(vm["config"].as<std::string>());
  const std::pair<const char*, const char*> flag_keys[] = {
      {"arch", "arch"},         {"data", "data_path"},          {"dataset", "dataset"},
      {"epochs", "epochs"},     {"batch-size", "batch_size"},   {"micro-batch", "micro_batch"},
      {"image-size", "image_size"}, {"threads", "threads"},     {"device", "device"},
      {"seed", "seed"},         {"checkpoint", "checkpoint"},   {"max-steps", "max_steps"},
      {"time-limit", "time_limit_s"}};
  for (const auto& [flag, key] : flag_keys) {
    if (!vm.count(flag)) continue;
    const auto value = vm[flag].as<std::string>();
    // Paths and names stay strings even when they look like numbers.
    const std::string k = key;
    if (k == "arch" || k == "data_path" || k == "dataset" || k == "device" || k == "checkpoint") {
      c = train::train_config_from_json(json{{key, value}}, c);
    } else {
      c = set_key(c, key, value);
    }
  }
  for (const auto& s : sets) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw ConfigError("--set '" + s + "': expected KEY=VALUE");
    }
    c = set_key(c, s.substr(0, eq), s.substr(eq + 1));
  }
  if (vm.count("quiet")) c.quiet = true;
  train::validate(c);
  return c;
}

int run_eval(const po::variables_map& vm, const train::TrainConfig& c) {
  // The resolution the checkpoint was last trained at (progressive
  // resizing trains the first epochs at low_res_size), or --image-size.
  const std::string ckpt = vm["eval"].as<std::string>();
  const bool flag = vm.count("image-size") > 0;
  const auto e = train::evaluate_checkpoint(ckpt, c, flag ? c.image_size : 0);
  const char* from = flag ? "--image-size" : "checkpoint";
  std::fprintf(stderr, "mnas_train: evaluated at %d px (%s)\n", e.image_size,
               flag ? "--image-size" : "the resolution the checkpoint was trained at");
  json test = train::to_json(e);
  test["image_size_from"] = from;
  std::cout << json{{"checkpoint", ckpt}, {"test", test}}.dump(2) << "\n";
  return 0;
}

int run_train(const po::variables_map& vm, const train::TrainConfig& c) {
  const auto r = train::train(c, vm.count("resume") > 0, printing_callbacks());
  std::cout << train::train_result_json(r, c).dump(2) << "\n";
  if (r.status == train::TrialStatus::kTimeout) return 3;
  return r.status == train::TrialStatus::kOk ? 0 : 1;
}

int run(int argc, char** argv) {
  std::vector<std::string> sets;
  const po::options_description opts = options(&sets);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(opts).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "mnas_train: " << e.what() << "\n" << kUsage;
    return 2;
  }
  if (vm.count("help")) {
    std::cout << kUsage << opts;
    return 0;
  }
  if (vm.count("proxy")) return run_proxy(vm);
  const train::TrainConfig c = train_config(vm, sets);
  return vm.count("eval") ? run_eval(vm, c) : run_train(vm, c);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const mnas::Error& e) {
    std::cerr << "mnas_train: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "mnas_train: " << e.what() << "\n";
    return 2;
  }
}
