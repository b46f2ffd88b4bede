// mnas_search: platform-aware architecture search (MnasNet, arXiv:1807.11626).
//
//   mnas_search --target-latency 75ms
//   mnas_search --config experiments/search-default.json --strategy evolution --db evo.db
//   mnas_search --resume --db mnas-search.db
//   mnas_search --resume --db mnas-search.db --final 3   # train, export, compare the best 3
//
// Exit codes: 0 ok, 2 bad input (message on stderr, nothing on stdout),
// 1 internal error. docs/search.md describes the flags and formats.
#include <boost/program_options.hpp>

#include <iostream>
#include <string>

#include <charconv>
#include <optional>
#include <cstdint>
#include <cmath>
#include <thread>

#include "common/device.h"
#include "common/error.h"
#include "common/host_load.h"
#include "experiments/final_stage.h"
#include "experiments/search_command.h"
#include "train/train_config.h"

namespace po = boost::program_options;
using namespace mnas;

namespace {

// The most LibTorch threads a flag may ask for (as mnas_latency's --threads).
constexpr int kMaxThreads = 256;

// --seed as written: Boost reads "-1" as 2^64 - 1 for an unsigned option.
uint64_t parse_seed(const std::string& text) {
  uint64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end) {
    throw ConfigError("--seed must be an integer in 0.." + std::to_string(UINT64_MAX) + ", got '" +
                      text.substr(0, 40) + (text.size() > 40 ? "..." : "") + "'");
  }
  return v;
}

// Every flag, with the usage text.
po::options_description search_options() {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
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
      ("latency-device", po::value<std::string>(),
       "whose latency the reward uses: pixel1 (default; estimates from the fitted Pixel-1 "
       "profile) | cpu (this host's measured table) | cuda[:N] | remote:NAME | a profile .json")
      ("seed", po::value<std::string>(), "experiment seed (strategy and child seeds derive from it)")
      ("db", po::value<std::string>()->default_value("mnas-search.db"), "experiment database")
      ("resume", "continue the experiment stored in --db")
      ("threads", po::value<int>()->default_value(cores),
       "LibTorch threads for the controller and child training (default: all cores; per rank under mpirun)")
      ("device", po::value<std::string>(), "child training device: cpu | cuda | cuda:N (default: the proxy's; "
       "under mpirun one GPU per rank when CUDA is available)")
      ("worker-timeout", po::value<double>()->default_value(3600),
       "under mpirun: seconds a worker may stay silent on one trial before it is written off")
      ("top", po::value<int>()->default_value(5), "architectures listed at the end")
      ("measure-top", po::value<int>()->default_value(3),
       "measure the best K trials end to end at the end (0 = none)")
      ("train-config", po::value<std::string>(), "also write the best trial's mnas_train config here")
      ("delay-ms", po::value<int>()->default_value(0),
       "synthetic objective only: sleep this long per trial (demos, kill tests)")
      ("quiet", "no per-trial progress lines");
  po::options_description final_stage("Final stage (after the search; docs/search.md)");
  final_stage.add_options()
      ("final", po::value<int>(),
       "train the K best distinct architectures with the final recipe, evaluate them on the test "
       "split, export ONNX + TorchScript + TFLite, and compare them with the baselines (0 = baselines only)")
      ("final-recipe", po::value<std::string>(),
       "mnas_train config of the final recipe (default: the built-in experiments/final-fashion.json)")
      ("final-seeds", po::value<int>()->default_value(1),
       "train each found architecture with this many seeds (measures the recipe's seed noise)")
      ("final-pareto", "also train every architecture on the search's accuracy/latency front")
      ("baselines", po::value<std::string>()->default_value("all"),
       "all (mobilenet-v2 x0.35..x1.4, mnasnet-a1, mnasnet-b1, mnasnet-small) | none | "
       "NAME[@MULTIPLIER],...")
      ("baselines-db", po::value<std::string>(),
       "a database shared between searches where baseline results are kept and reused "
       "(default: --db)")
      ("final-dir", po::value<std::string>(), "folder of the checkpoints and exports (default: DB.final)")
      ("no-host-latency", "final stage: do not measure host latency");
  visible.add(final_stage);
  return visible;
}

// The parsed flags as the library's command; throws ConfigError for a value
// out of range.
experiments::SearchCommand to_command(const po::variables_map& vm) {
  experiments::SearchCommand command;
  experiments::ConfigOverrides& o = command.overrides;
  if (vm.count("config")) o.config_file = vm["config"].as<std::string>();
  if (vm.count("target-latency")) o.target_latency = vm["target-latency"].as<std::string>();
  if (vm.count("budget")) o.budget = vm["budget"].as<int64_t>();
  if (vm.count("strategy")) o.strategy = vm["strategy"].as<std::string>();
  if (vm.count("reward")) o.reward = vm["reward"].as<std::string>();
  if (vm.count("alpha")) o.alpha = vm["alpha"].as<double>();
  if (vm.count("beta")) o.beta = vm["beta"].as<double>();
  if (vm.count("objective")) o.objective = vm["objective"].as<std::string>();
  if (vm.count("latency-device")) o.latency_device = vm["latency-device"].as<std::string>();
  if (vm.count("seed")) o.seed = parse_seed(vm["seed"].as<std::string>());
  experiments::RunOptions& r = command.run;
  r.db_path = vm["db"].as<std::string>();
  r.resume = vm.count("resume") > 0;
  r.threads = vm["threads"].as<int>();
  r.top_k = vm["top"].as<int>();
  r.measure_top = vm["measure-top"].as<int>();
  if (r.measure_top < 0) {
    throw ConfigError("--measure-top should be >= 0, got " + std::to_string(r.measure_top));
  }
  r.delay_ms = vm["delay-ms"].as<int>();
  r.quiet = vm.count("quiet") > 0;
  if (vm.count("train-config")) r.train_config_path = vm["train-config"].as<std::string>();
  if (r.threads < 1 || r.threads > kMaxThreads) {
    throw ConfigError("--threads must be in 1.." + std::to_string(kMaxThreads) + ", got " +
                      std::to_string(r.threads));
  }
  if (r.top_k < 0) throw ConfigError("--top must be >= 0, got " + std::to_string(r.top_k));
  if (r.delay_ms < 0) throw ConfigError("--delay-ms must be >= 0");
  if (vm.count("device")) {
    r.device = vm["device"].as<std::string>();
    check_local_device(r.device, "--device");
  }
  command.worker_timeout_s = vm["worker-timeout"].as<double>();
  if (!(command.worker_timeout_s > 0) || !std::isfinite(command.worker_timeout_s)) {
    throw ConfigError("--worker-timeout must be a finite number of seconds > 0, got " +
                      std::to_string(command.worker_timeout_s));
  }
  return command;
}

// The final-stage flags; nullopt without --final.
std::optional<experiments::FinalOptions> to_final(const po::variables_map& vm,
                                                  const experiments::RunOptions& run) {
  const bool any = vm.count("final-recipe") || vm.count("final-pareto") || vm.count("baselines-db") ||
                   vm.count("final-dir") || vm.count("no-host-latency") ||
                   !vm["baselines"].defaulted() || !vm["final-seeds"].defaulted();
  if (!vm.count("final")) {
    if (any) throw ConfigError("--final-recipe, --final-seeds, --final-pareto, --baselines, --baselines-db, --final-dir and --no-host-latency need --final K");
    return std::nullopt;
  }
  experiments::FinalOptions f;
  f.db_path = run.db_path;
  f.plan.top_k = vm["final"].as<int>();
  if (f.plan.top_k < 0) throw ConfigError("--final must be >= 0, got " + std::to_string(f.plan.top_k));
  f.plan.seeds = vm["final-seeds"].as<int>();
  if (f.plan.seeds < 1 || f.plan.seeds > 100) {
    throw ConfigError("--final-seeds must be in 1..100, got " + std::to_string(f.plan.seeds));
  }
  f.plan.pareto = vm.count("final-pareto") > 0;
  f.plan.baselines = experiments::parse_baselines(vm["baselines"].as<std::string>());
  if (vm.count("final-recipe")) {
    f.recipe_name = vm["final-recipe"].as<std::string>();
    f.plan.recipe = train::load_train_config(f.recipe_name);
  }
  f.plan.threads = run.threads;
  if (vm.count("baselines-db")) f.baselines_db = vm["baselines-db"].as<std::string>();
  if (vm.count("final-dir")) f.dir = vm["final-dir"].as<std::string>();
  f.measure_host = vm.count("no-host-latency") == 0;
  f.on_output = run.on_output;
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  // Under mpirun this joins the job (rank 0 the controller, the others
  // workers; docs/distributed.md) before argv is read.
  experiments::SearchProcess process(&argc, &argv);
  const po::options_description visible = search_options();
  try {
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, visible), vm);
    po::notify(vm);
    if (vm.count("help")) {
      std::cout << visible << "\n";
      return 0;
    }
    experiments::SearchCommand command = to_command(vm);
    command.run.on_output = [](const std::string& text) { std::cout << text << std::flush; };
    // Checked before the search starts: a bad final flag should not wait for it.
    const auto final_stage = to_final(vm, command.run);
    command.on_mpi_event = [](const std::string& event) {
      std::cerr << "mnas_search: mpi: " << event << "\n";
    };
    const bool on_cpu = command.run.device.empty() || command.run.device == "cpu";
    if (const auto load = load_average(); load && on_cpu && process.is_controller()) {
      const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
      const std::string note = contention_note(*load, cores, command.run.threads);
      if (!note.empty()) std::cerr << "mnas_search: note: " << note << "\n";
    }
    process.run(command);
    if (final_stage && process.is_controller()) experiments::run_final_stage(*final_stage);
    return 0;
  } catch (const po::error& e) {
    std::cerr << "mnas_search: " << e.what() << "\n(see mnas_search --help)\n";
    return process.fail(2);
  } catch (const Error& e) {
    std::cerr << "mnas_search: " << e.what() << "\n";
    return process.fail(2);
  } catch (const std::exception& e) {
    std::cerr << "mnas_search: internal error: " << e.what() << "\n";
    return process.fail(1);
  }
}
