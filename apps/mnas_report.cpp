// mnas_report: read-only views of a search database.
//
//   mnas_report --db mnas-search.db --out report.html     HTML report with SVG plots
//   mnas_report --db mnas-search.db --trials [--format csv|json|table]
//   mnas_report --db mnas-search.db --best 10 | --pareto | --show 17
//   mnas_report --db mnas-search.db --train-config        best trial's mnas_train config
//   mnas_report --db mnas-search.db --summary             the end-of-search summary
//   mnas_report --db mnas-search.db --final [--format csv|json|table]
//                                   the final stage: found models vs baselines
//   mnas_report --compare A.db B.db ... [--out cmp.html | --format F]
//                                   strategies side by side (bench/strategies.sh)
//
// Never writes to the database (opened read-only; safe while a search runs).
// Exit codes: 0 ok, 2 bad input, 1 internal error.
#include <boost/program_options.hpp>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/files.h"
#include "db/experiment_store.h"
#include "db/final_store.h"
#include "experiments/final_report.h"
#include "experiments/html_report.h"
#include "experiments/report.h"
#include "experiments/strategy_compare.h"

namespace po = boost::program_options;
using namespace mnas;

int main(int argc, char** argv) {
  po::options_description visible(
      "Usage: mnas_report --db FILE (--out report.html | --trials | --best K | --pareto |\n"
      "                   --show TRIAL | --train-config | --summary | --final) [--format F]\n"
      "       mnas_report --compare DB... [--out compare.html] [--format F]\n\nOptions");
  visible.add_options()
      ("help,h", "show this help")
      ("db", po::value<std::string>(), "experiment database written by mnas_search")
      ("experiment", po::value<int64_t>(), "experiment id (default: the latest in the db)")
      ("out", po::value<std::string>(), "write the self-contained HTML report to this file")
      ("trials", "list every trial")
      ("best", po::value<int>(), "list the K best trials by reward")
      ("pareto", "list the accuracy/latency Pareto front")
      ("show", po::value<int64_t>(), "print one trial with every field (JSON)")
      ("train-config", "print the mnas_train configuration of the best trial")
      ("summary", "print the end-of-search summary")
      ("final", "list the final stage's models (mnas_search --final): found models and baselines, "
                "test accuracy, latencies, exported files")
      ("compare", po::value<std::vector<std::string>>()->multitoken(),
       "compare the experiments of these databases (one strategy and seed each, e.g. from "
       "bench/strategies.sh): per strategy the median best reward, late-trial reward and "
       "hypervolume; with --out, an HTML page with the learning curves")
      ("format", po::value<std::string>()->default_value("table"), "table | csv | json");
  try {
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, visible), vm);
    po::notify(vm);
    if (vm.count("help")) {
      std::cout << visible << "\n";
      return 0;
    }
    const auto format = experiments::format_from_string(vm["format"].as<std::string>());
    if (vm.count("compare")) {
      if (vm.count("db") || vm.count("experiment") || vm.count("trials") || vm.count("best") ||
          vm.count("pareto") || vm.count("show") || vm.count("train-config") ||
          vm.count("summary") || vm.count("final")) {
        throw ConfigError("--compare takes its databases itself; only --out and --format go with it");
      }
      const auto dbs = vm["compare"].as<std::vector<std::string>>();
      if (vm.count("out")) check_output_path(vm["out"].as<std::string>(), dbs, "--out");
      std::vector<experiments::RunSummary> runs;
      for (const auto& path : dbs) {
        db::Database database(path, db::Database::Mode::kReadOnly);
        db::ExperimentStore store(database);
        const auto all = store.experiments();
        if (all.empty()) throw ConfigError("'" + path + "' holds no experiment");
        for (const auto& e : all) runs.push_back(experiments::summarize_run(e, store.trials(e.id), path));
      }
      const auto comparison = experiments::compare_runs(std::move(runs));
      if (vm.count("out")) {
        write_file_atomically(vm["out"].as<std::string>(), experiments::comparison_html(comparison));
        std::cerr << "wrote " << vm["out"].as<std::string>() << "\n";
      } else {
        std::cout << experiments::format_comparison(comparison, format);
      }
      return 0;
    }
    if (!vm.count("db")) throw ConfigError("--db FILE is required");
    const int actions = static_cast<int>(vm.count("out") + vm.count("trials") + vm.count("best") +
                                         vm.count("pareto") + vm.count("show") +
                                         vm.count("train-config") + vm.count("summary") +
                                         vm.count("final"));
    if (actions != 1) {
      throw ConfigError(
          "give exactly one of --out, --trials, --best, --pareto, --show, --train-config, --summary, "
          "--final");
    }
    const std::string path = vm["db"].as<std::string>();
    // Refused before anything is read: --out over the database would turn
    // it into HTML.
    if (vm.count("out")) check_output_path(vm["out"].as<std::string>(), {path}, "--out");
    db::Database database(path, db::Database::Mode::kReadOnly);
    db::ExperimentStore store(database);
    const auto all = store.experiments();
    if (all.empty()) throw ConfigError("'" + path + "' holds no experiment");
    db::ExperimentRecord e = all.back();
    if (vm.count("experiment")) {
      const auto found = store.experiment(vm["experiment"].as<int64_t>());
      if (!found) throw ConfigError("no experiment " + std::to_string(vm["experiment"].as<int64_t>()) + " in '" + path + "'");
      e = *found;
    }
    const auto trials = experiments::trials_at_highest_rung(store, e.id);
    if (vm.count("out")) {
      mnas::write_file_atomically(vm["out"].as<std::string>(),
                                         experiments::html_report(store, e));
      std::cerr << "wrote " << vm["out"].as<std::string>() << "\n";
    } else if (vm.count("trials")) {
      std::cout << experiments::format_trials(trials, format);
    } else if (vm.count("best")) {
      const int k = vm["best"].as<int>();
      if (k < 1) throw ConfigError("--best must be >= 1, got " + std::to_string(k));
      std::cout << experiments::format_trials(experiments::best_trials(trials, k), format);
    } else if (vm.count("pareto")) {
      std::cout << experiments::format_trials(experiments::pareto_trials(trials), format);
    } else if (vm.count("show")) {
      const int64_t index = vm["show"].as<int64_t>();
      const auto t = std::find_if(trials.begin(), trials.end(), [&](const auto& x) { return x.index == index; });
      if (t == trials.end()) throw ConfigError("no trial " + std::to_string(index) + " in experiment " + std::to_string(e.id));
      // The result of its highest rung, and every promotion's row.
      auto j = experiments::trial_to_json(*t);
      for (const auto& r : store.rungs(e.id)) {
        if (r.index != index) continue;
        j["rungs"].push_back({{"rung", r.rung}, {"steps", r.steps}, {"status", r.status},
                              {"accuracy", r.accuracy ? nlohmann::json(*r.accuracy) : nlohmann::json()},
                              {"reward", r.reward ? nlohmann::json(*r.reward) : nlohmann::json()},
                              {"seconds", r.seconds ? nlohmann::json(*r.seconds) : nlohmann::json()},
                              {"message", r.message}});
      }
      std::cout << j.dump(2) << "\n";
    } else if (vm.count("train-config")) {
      const auto best = experiments::best_trials(trials, 1);
      if (best.empty()) throw ConfigError("experiment " + std::to_string(e.id) + " has no successful trial yet");
      std::cout << experiments::train_config(best.front(), e, path).dump(2) << "\n";
    } else if (vm.count("final")) {
      db::FinalStore final_store(database);
      const auto rows = final_store.models(e.id);
      if (rows.empty() && format == experiments::Format::kTable) {
        throw ConfigError("experiment " + std::to_string(e.id) + " in '" + path +
                          "' has no final stage yet (run: mnas_search --resume --db " + path +
                          " --final 3)");
      }
      std::cout << experiments::format_final(rows, format);
    } else {
      std::cout << experiments::summary_text(store, e, 5);
    }
    return 0;
  } catch (const po::error& e) {
    std::cerr << "mnas_report: " << e.what() << "\n(see mnas_report --help)\n";
    return 2;
  } catch (const Error& e) {
    std::cerr << "mnas_report: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "mnas_report: internal error: " << e.what() << "\n";
    return 1;
  }
}
