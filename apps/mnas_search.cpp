// mnas_search: platform-aware architecture search (MnasNet, arXiv:1807.11626).
//
//   mnas_search --target-latency 75ms
//   mnas_search --config experiments/search-default.json --strategy evolution --db evo.db
//   mnas_search --resume --db mnas-search.db
//
// Exit codes: 0 ok, 2 bad input (message on stderr, nothing on stdout),
// 1 internal error. docs/search.md describes the flags and formats.
#include <boost/program_options.hpp>

#include <iostream>
#include <string>

#include "common/error.h"
#include "experiments/search_run.h"

namespace po = boost::program_options;
using namespace mnas;

int main(int argc, char** argv) {
  po::options_description visible(
      "Usage: mnas_search [options]\n\n"
      "Searches the MnasNet space for the architecture with the best reward\n"
      "ACC * (LAT/T)^w and records every trial in an SQLite database that\n"
      "mnas_report reads. Kill it at any time and continue with --resume.\n\nOptions");
  visible.add_options()
      ("help,h", "show this help")
      ("config", po::value<std::string>(), "experiment JSON file (e.g. experiments/search-default.json)")
      ("target-latency", po::value<std::string>(), "target latency T with its unit: 75ms, 0.075s, 75000us")
      ("budget", po::value<int64_t>(), "total number of trials")
      ("strategy", po::value<std::string>(), "ppo | random | evolution")
      ("reward", po::value<std::string>(), "soft (alpha = beta = -0.07) | hard (alpha 0, beta -1)")
      ("alpha", po::value<double>(), "custom reward exponent when LAT <= T (<= 0)")
      ("beta", po::value<double>(), "custom reward exponent when LAT > T (<= 0)")
      ("objective", po::value<std::string>(), "synthetic | proxy (see docs/search.md)")
      ("seed", po::value<uint64_t>(), "experiment seed (strategy and child seeds derive from it)")
      ("db", po::value<std::string>()->default_value("mnas-search.db"), "experiment database")
      ("resume", "continue the experiment stored in --db")
      ("threads", po::value<int>()->default_value(1), "LibTorch threads")
      ("top", po::value<int>()->default_value(5), "architectures listed at the end")
      ("train-config", po::value<std::string>(), "also write the best trial's mnas_train config here")
      ("delay-ms", po::value<int>()->default_value(0),
       "synthetic objective only: sleep this long per trial (demos, kill tests)")
      ("quiet", "no per-trial progress lines");
  try {
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, visible), vm);
    po::notify(vm);
    if (vm.count("help")) {
      std::cout << visible << "\n";
      return 0;
    }
    experiments::ConfigOverrides o;
    if (vm.count("config")) o.config_file = vm["config"].as<std::string>();
    if (vm.count("target-latency")) o.target_latency = vm["target-latency"].as<std::string>();
    if (vm.count("budget")) o.budget = vm["budget"].as<int64_t>();
    if (vm.count("strategy")) o.strategy = vm["strategy"].as<std::string>();
    if (vm.count("reward")) o.reward = vm["reward"].as<std::string>();
    if (vm.count("alpha")) o.alpha = vm["alpha"].as<double>();
    if (vm.count("beta")) o.beta = vm["beta"].as<double>();
    if (vm.count("objective")) o.objective = vm["objective"].as<std::string>();
    if (vm.count("seed")) o.seed = vm["seed"].as<uint64_t>();
    experiments::RunOptions r;
    r.db_path = vm["db"].as<std::string>();
    r.resume = vm.count("resume") > 0;
    r.threads = vm["threads"].as<int>();
    r.top_k = vm["top"].as<int>();
    r.delay_ms = vm["delay-ms"].as<int>();
    r.quiet = vm.count("quiet") > 0;
    if (vm.count("train-config")) r.train_config_path = vm["train-config"].as<std::string>();
    if (r.threads < 1) throw ConfigError("--threads must be >= 1");
    if (r.delay_ms < 0) throw ConfigError("--delay-ms must be >= 0");
    experiments::run_search(o, r, std::cout);
    return 0;
  } catch (const po::error& e) {
    std::cerr << "mnas_search: " << e.what() << "\n(see mnas_search --help)\n";
    return 2;
  } catch (const Error& e) {
    std::cerr << "mnas_search: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "mnas_search: internal error: " << e.what() << "\n";
    return 1;
  }
}
