// mnas_decode: block strings or a named model -> per-layer table, params, MACs.
//
//   mnas_decode mnasnet-a1
//   mnas_decode r1_k3_s11_e1_i32_o16_noskip r2_k3_s22_e6_i16_o24 --image-size 96
//   mnas_decode mnasnet-a1 --depth-multiplier 0.5 --json
//   mnas_decode mnasnet-a1 --latency pixel1
//
// Exit codes: 0 ok, 2 bad input (message on stderr, nothing on stdout).
#include <boost/program_options.hpp>

#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "db/database.h"
#include "latency/builtin_profiles.h"
#include "latency/deploy_config.h"
#include "latency/predictor.h"
#include "latency/table_store.h"
#include "space/block_codec.h"
#include "space/counters.h"
#include "space/describe.h"
#include "space/named_archs.h"
#include "space/search_space.h"

namespace po = boost::program_options;
using namespace mnas;

int main(int argc, char** argv) {
  po::options_description visible(
      "Usage: mnas_decode [options] (MODEL | BLOCK_STRING...)\n\n"
      "Decodes MnasNet block strings (e.g. r1_k3_s11_e1_i32_o16_noskip) or a named model\n"
      "and prints every layer with its shapes, parameters and multiply-adds.\n\nOptions");
  visible.add_options()
      ("help,h", "show this help")
      ("list", "list the named models")
      ("depth-multiplier", po::value<double>(),
       "width multiplier; scales and rounds the stem and stage filters (default: none, "
       "filters as written)")
      ("image-size", po::value<int>(), "input image side in pixels (default 224)")
      ("num-classes", po::value<int>(), "classifier outputs (default 1000)")
      ("input-channels", po::value<int>(), "image channels (default 3)")
      ("stem-size", po::value<int>(), "stem width before rounding (default: the model's)")
      ("json", "print JSON instead of a table")
      ("latency-db", po::value<std::string>(),
       "also print the predicted latency from the lookup table in this database "
       "(cpu, fastest engine present, 1 thread, batch 1; see docs/latency.md)")
      ("latency", po::value<std::string>(),
       "also print the latency predicted by a device profile: a shipped one (pixel1: Pixel 1, "
       "TFLite float, 1 big core; an estimate, see docs/pixel1-profile.md) or a profile .json file")
      ("encode", "print the canonical block strings, one per line, and nothing else")
      ("space", po::value<std::string>(),
       "describe the search space in this JSON file (e.g. experiments/space-mnasnet.json): "
       "decisions, choices per decision, size; with --json as JSON");
  po::options_description hidden;
  hidden.add_options()("arch", po::value<std::vector<std::string>>(), "");
  po::options_description all;
  all.add(visible).add(hidden);
  po::positional_options_description positional;
  positional.add("arch", -1);

  try {
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    po::notify(vm);
    if (vm.count("help")) {
      std::cout << visible << "\nModels: ";
      for (const auto& n : space::named_arch_names()) std::cout << n << ' ';
      std::cout << "\nGrammar: see README.md (r k s e i o se noskip poolskip, ds_/cn_ prefixes)\n";
      return 0;
    }
    if (vm.count("list")) {
      for (const auto& n : space::named_arch_names()) {
        std::cout << n << "\t" << space::named_arch(n).description << "\n";
      }
      return 0;
    }
    if (vm.count("space")) {
      const auto space = space::SearchSpace::from_file(vm["space"].as<std::string>());
      if (vm.count("json")) {
        nlohmann::json j = space.to_json();
        j["num_decisions"] = space.decisions().size();
        j["choice_sizes"] = space.choice_sizes();
        j["log10_size"] = space.log10_size();
        std::cout << j.dump(2) << "\n";
      } else {
        std::cout << space::describe_space(space);
      }
      return 0;
    }
    if (!vm.count("arch")) throw ParseError("no architecture given (a model name or block strings)");

    std::vector<std::string> args;
    for (const auto& a : vm["arch"].as<std::vector<std::string>>()) {
      for (auto& s : space::split_block_strings(a)) args.push_back(std::move(s));
    }
    std::string title;
    space::GlobalParams params;
    space::ArchSpec arch;
    const auto ref = space::resolve_arch(args);
    arch = ref.arch;
    if (ref.named) {
      params = ref.named->params;
      title = ref.named->name;
    } else {
      title = std::to_string(arch.blocks.size()) + " stage(s)";
    }
    if (vm.count("depth-multiplier")) params.depth_multiplier = vm["depth-multiplier"].as<double>();
    if (vm.count("image-size")) params.image_size = vm["image-size"].as<int>();
    if (vm.count("num-classes")) params.num_classes = vm["num-classes"].as<int>();
    if (vm.count("input-channels")) params.input_channels = vm["input-channels"].as<int>();
    if (vm.count("stem-size")) params.stem_size = vm["stem-size"].as<int>();

    const auto layers = space::expand_layers(arch, params);
    const auto cost = space::model_cost(layers);
    std::string latency_line;
    nlohmann::json latency_json;
    if (vm.count("latency-db")) {
      db::Database db(vm["latency-db"].as<std::string>(), db::Database::Mode::kReadOnly);
      latency::DeployConfig deploy;
      deploy.image_size = params.image_size;
      deploy.num_classes = params.num_classes;
      deploy.input_channels = params.input_channels;
      const auto id = latency::find_table(db, deploy);
      // Calibration architectures are read under the default space's params.
      const auto predictor = latency::make_predictor(
          latency::load_table(db, id),
          space::SearchSpace::mnasnet_default().global_params(latency::apply_deploy({}, deploy)));
      const double ms = predictor.predict_ms(layers);
      latency_json = {{"predicted_ms", ms}, {"table", latency::to_string(id)}};
      latency_line = "predicted latency: " + std::to_string(ms) + " ms (" + latency::to_string(id) + ")\n";
    }
    if (vm.count("latency")) {
      if (vm.count("latency-db")) throw ConfigError("give --latency or --latency-db, not both");
      const auto profile = latency::load_profile(vm["latency"].as<std::string>());
      const double ms = profile.predict_ms(layers);
      latency_json = {{"device", profile.name}, {"predicted_ms", ms}};
      latency_json.update(latency::accuracy_json(profile.fit));
      std::ostringstream line;
      line << std::fixed << std::setprecision(1) << "predicted latency: " << ms << " ms on "
           << profile.name << " (estimate from a fitted profile: "
           << latency::accuracy_text(profile.fit) << ")\n";
      latency_line = line.str();
    }
    if (vm.count("encode")) {
      for (const auto& s : space::encode_arch(arch)) std::cout << s << "\n";
    } else if (vm.count("json")) {
      nlohmann::json j = space::layers_to_json(layers, cost);
      j["name"] = title;
      j["blocks"] = space::encode_arch(arch);
      j["global_params"] = space::params_to_json(params);
      if (!latency_json.is_null()) j["latency"] = latency_json;
      std::cout << j.dump(2) << "\n";
    } else {
      std::cout << title << " @" << params.image_size << "x" << params.image_size
                << ", depth multiplier "
                << (params.depth_multiplier ? std::to_string(*params.depth_multiplier) : "none")
                << ", " << params.num_classes << " classes\n\n"
                << space::format_layer_table(layers, cost) << latency_line;
    }
    return 0;
  } catch (const po::error& e) {
    std::cerr << "mnas_decode: " << e.what() << "\n(see mnas_decode --help)\n";
    return 2;
  } catch (const Error& e) {
    std::cerr << "mnas_decode: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "mnas_decode: internal error: " << e.what() << "\n";
    return 1;
  }
}
