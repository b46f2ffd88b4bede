// mnas_latency: latency measurement, lookup tables and predictors.
//
//   mnas_latency measure mnasnet-b1 [--engine onednn|onnxruntime] [--repeat 5] [--db lat.db] [--raw]
//   mnas_latency profile --db lat.db [--space experiments/space-mnasnet.json] [--archs FILE]
//   mnas_latency predict --db lat.db mnasnet-a1
//   mnas_latency predict --device pixel1 mnasnet-a1 [--image-size 192] [--json]
//   mnas_latency sample 100 --seed 2026 --out held-out.txt
//   mnas_latency validate --db lat.db --archs held-out.txt
//   mnas_latency export --db lat.db --out table.csv
//   mnas_latency import --db lat.db table.csv [--device remote:pixel1 --engine tflite]
//   mnas_latency tables --db lat.db
//   mnas_latency fit-profile --data pixel1-data.json --out pixel1.json [--name NAME]
//
// Exit codes: 0 ok, 2 bad input (message on stderr, nothing on stdout),
// 1 internal error. See docs/latency.md.
#include <boost/program_options.hpp>

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/files.h"
#include "common/json_file.h"
#include "db/database.h"
#include "db/writer_lock.h"
#include "latency/arch_list.h"
#include "latency/builtin_profiles.h"
#include "latency/deploy_config.h"
#include "latency/profile_fit.h"
#include "latency/latency_table.h"
#include "latency/measure.h"
#include "latency/predictor.h"
#include "latency/progress.h"
#include "latency/table_store.h"
#include "latency/validation.h"
#include "space/block_codec.h"
#include "space/counters.h"
#include "space/search_space.h"

namespace po = boost::program_options;
using namespace mnas;
using latency::DeployConfig;

namespace {

constexpr const char* kUsage =
    "Usage: mnas_latency COMMAND [options] [ARGS]\n\n"
    "Commands:\n"
    "  measure  (MODEL | BLOCK_STRING...)  measure end to end (median, p10, p90),\n"
    "                                      normalised by the --db table's reference\n"
    "                                      constant, else by one cached for this host\n"
    "                                      ($MNAS_CACHE_DIR or ~/.cache/mnas/reference.db)\n"
    "  profile  --db FILE                  build/extend the lookup table for a space\n"
    "                                      (and calibrate the predictor), or for --archs\n"
    "  predict  --db FILE (MODEL | BLOCK_STRING...)  predicted latency (LUT and FLOPs)\n"
    "  predict  --device pixel1 (MODEL | BLOCK_STRING...)  a device profile's estimate\n"
    "                                      (no --db; pixel1 or a profile .json file)\n"
    "  validate --db FILE --archs FILE     measure each architecture, compare predictors\n"
    "  sample   N                          write N random architectures of the space\n"
    "  export   --db FILE --out FILE       write a table as .json or .csv\n"
    "  import   --db FILE TABLE_FILE       read a .json or .csv table into the db\n"
    "  tables   --db FILE                  list the tables in the db\n"
    "  fit-profile --data FILE --out PROFILE.json  fit a device profile to measurements\n"
    "                                      (mnas-latency-measurements .json, or a latency\n"
    "                                      table .json/.csv as import reads) and print\n"
    "                                      its validation table\n\nOptions";

struct Args {
  std::string command;
  std::vector<std::string> positional;
  po::variables_map vm;
};

// `allow_profile`: whether the command takes a device profile (predict only:
// a profile is never measured and has no table).
DeployConfig deploy_from(const po::variables_map& vm, bool allow_profile = false) {
  DeployConfig d;
  d.device = vm["device"].as<std::string>();
  d.engine = vm["engine"].as<std::string>();
  d.threads = vm["threads"].as<int>();
  d.image_size = vm["image-size"].as<int>();
  d.num_classes = vm["num-classes"].as<int>();
  d.input_channels = vm["input-channels"].as<int>();
  d.batch = vm["batch"].as<int>();
  d.ort_opt_level = vm["ort-opt-level"].as<std::string>();
  d.ort_execution_mode = vm["ort-execution-mode"].as<std::string>();
  latency::validate(d);
  if (!allow_profile && latency::uses_profile(d)) {
    throw ConfigError("device '" + d.device + "' is a device profile: it predicts only, with "
                      "no table and no measurement (mnas_latency predict --device " + d.device + ")");
  }
  return d;
}

space::SearchSpace space_from(const po::variables_map& vm) {
  return vm.count("space") ? space::SearchSpace::from_file(vm["space"].as<std::string>())
                           : space::SearchSpace::mnasnet_default();
}

// Base GlobalParams for block strings: the space's, with the deploy geometry.
space::GlobalParams base_params(const po::variables_map& vm, const DeployConfig& d) {
  return space_from(vm).global_params(latency::apply_deploy({}, d));
}

latency::ArchEntry arch_from(const std::vector<std::string>& words, const po::variables_map& vm,
                             const DeployConfig& d) {
  if (words.empty()) throw ParseError("no architecture given (a model name or block strings)");
  std::string line;
  for (const auto& w : words) line += w + " ";
  auto e = latency::parse_arch_line(line, base_params(vm, d));
  if (vm.count("depth-multiplier")) e.params.depth_multiplier = vm["depth-multiplier"].as<double>();
  return e;
}

std::string need(const po::variables_map& vm, const char* name) {
  if (!vm.count(name)) throw ConfigError(std::string("--") + name + " is required for this command");
  return vm[name].as<std::string>();
}

// The files a command reads, for refusing an --out that is one of them.
std::vector<std::string> inputs(const po::variables_map& vm) {
  std::vector<std::string> in;
  for (const char* name : {"db", "archs", "space"}) {
    if (vm.count(name)) in.push_back(vm[name].as<std::string>());
  }
  return in;
}

std::string fixed(double v, int digits = 3) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

latency::MeasureOptions measure_options(const po::variables_map& vm) {
  latency::MeasureOptions o;
  o.min_runs = vm["runs"].as<int>();
  o.max_runs = std::max(o.max_runs, o.min_runs);
  o.pin = !vm.count("no-pin");
  o.normalize = !vm.count("raw");
  return o;
}

void print_measure_json(const latency::ArchEntry& e, const DeployConfig& d,
                        const latency::RepeatedMeasurement& rm) {
  const auto& ms = rm.runs;
  nlohmann::json j = {{"arch", e.label}, {"deploy", latency::to_json(d)},
                      {"engine", ms[0].engine}, {"repeats", nlohmann::json::array()},
                      {"median_ms", rm.stats.median_ms},
                      {"max_deviation_percent", rm.stats.max_deviation_percent},
                      {"reference_ms", ms[0].reference_ms},
                      {"reference_constant_from", rm.reference_constant_from}};
  for (const auto& m : ms) {
    j["repeats"].push_back({{"median_ms", m.median_ms}, {"p10_ms", m.p10_ms},
                            {"p90_ms", m.p90_ms}, {"raw_median_ms", m.raw_median_ms},
                            {"runs", m.runs},
                            {"compile_ms", m.compile_ms}});
  }
  std::cout << j.dump(2) << "\n";
}

void print_measure_text(const latency::ArchEntry& e, const DeployConfig& d,
                        const latency::RepeatedMeasurement& rm) {
  const auto& ms = rm.runs;
  std::cout << e.label << "\n  " << d.device << ", engine " << ms[0].engine << ", "
            << d.threads << " thread(s), " << d.image_size << " px, batch " << d.batch << "\n";
  if (ms[0].reference_ms > 0) {
    std::cout << "  normalised by the reference network ("
              << latency::reference_workload(d) << ", "
              << fixed(ms[0].reference_ms) << " ms nominal; --raw for wall-clock times)\n";
    std::cout << "  reference constant "
              << (rm.reference_constant_from.empty() ? std::string("measured in this process")
                                                     : "from " + rm.reference_constant_from)
              << "\n";
  } else {
    std::cout << "  raw wall-clock times\n";
  }
  for (size_t r = 0; r < ms.size(); ++r) {
    std::cout << "  run " << r + 1 << ": median " << fixed(ms[r].median_ms) << " ms  p10 "
              << fixed(ms[r].p10_ms) << "  p90 " << fixed(ms[r].p90_ms);
    if (ms[r].reference_ms > 0) std::cout << "  wall clock " << fixed(ms[r].raw_median_ms);
    std::cout << "  (" << ms[r].runs << " runs, compile " << fixed(ms[r].compile_ms, 0) << " ms)\n";
  }
  if (ms.size() > 1) {
    std::cout << "  median of medians " << fixed(rm.stats.median_ms) << " ms, max deviation "
              << fixed(rm.stats.max_deviation_percent, 2) << " %\n";
  }
}

int cmd_measure(const Args& a) {
  const DeployConfig d = deploy_from(a.vm);
  const auto e = arch_from(a.positional, a.vm, d);
  const int repeat = a.vm["repeat"].as<int>();
  if (repeat < 1) throw ConfigError("--repeat should be >= 1, got " + std::to_string(repeat));
  if (latency::measures_on_cpu(d) && !a.vm.count("quiet")) std::cerr << latency::choose_engine(d).why << "\n";
  // The constant of the --db table, else the one cached for this host.
  const auto rm = latency::measure_repeated(e.arch, e.params, d, measure_options(a.vm), repeat,
                                            a.vm.count("db") ? a.vm["db"].as<std::string>() : "");
  if (a.vm.count("json")) {
    print_measure_json(e, d, rm);
  } else {
    print_measure_text(e, d, rm);
  }
  return 0;
}

// The table and correction of `p`, as `profile` reports them.
void print_predictor(const latency::Predictor& p) {
  const auto& c = p.correction();
  std::cout << "table " << latency::to_string(p.table().id) << ": " << p.table().layers.size()
            << " layers, " << p.table().calibration.size() << " calibration architectures\n"
            << "correction: ";
  if (c.group_scales.empty()) {
    std::cout << fixed(c.scale, 4) << " x LUT sum";
  } else {
    // Largest maps first, as they come in the network ("112px mbconv" ...).
    std::vector<std::pair<std::string, double>> groups(c.group_scales.begin(), c.group_scales.end());
    std::stable_sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) {
      return std::stoi(a.first) > std::stoi(b.first);
    });
    for (const auto& [group, scale] : groups) {
      std::cout << fixed(scale, 4) << " x LUT[" << group << "] + ";
    }
    std::cout << "LUT[other]";
  }
  std::cout << " + " << fixed(c.per_layer_ms, 4) << " ms x layers + " << fixed(c.per_mact_ms, 4)
            << " ms x M activations + " << fixed(c.offset_ms, 3) << " ms\n";
}

int cmd_profile(const Args& a) {
  const DeployConfig d = deploy_from(a.vm);
  // The table grows for minutes: one writer at a time (a search profiling
  // into its experiment db holds the same lock).
  db::WriterLock lock(need(a.vm, "db"), "mnas_latency profile");
  db::Database db(need(a.vm, "db"));
  if (!latency::is_remote(d) && !a.vm.count("quiet")) std::cerr << latency::choose_engine(d).why << "\n";
  if (a.vm.count("archs")) {
    const auto entries = latency::read_arch_file(a.vm["archs"].as<std::string>(), base_params(a.vm, d));
    // NOTE: shown even with --quiet, as it always was.
    const int n = latency::profile_archs(db, entries, d, latency::stderr_progress());
    std::cout << "profiled " << n << " new layer(s)\n";
    return 0;
  }
  const auto space = space_from(a.vm);
  const auto p = latency::ensure_predictor(db, space, d, latency::PredictorOptions{},
                                           latency::stderr_progress_unless(a.vm.count("quiet") > 0));
  print_predictor(p);
  return 0;
}

latency::Predictor predictor_from_db(db::Database& db, const po::variables_map& vm,
                                     const DeployConfig& d) {
  const auto id = latency::find_table(db, d);
  return latency::make_predictor(latency::load_table(db, id), base_params(vm, d));
}

// A device profile's estimate: no table, no database, microseconds.
int cmd_predict_profile(const Args& a, const DeployConfig& d) {
  if (a.vm.count("db")) {
    throw ConfigError("--db is not used with a device profile (--device " + d.device +
                      "): its latencies come from the profile, not from a table");
  }
  const auto profile = latency::deploy_profile(d);
  const auto e = arch_from(a.positional, a.vm, d);
  const double ms = profile.predict_ms(space::expand_layers(e.arch, e.params));
  if (a.vm.count("json")) {
    nlohmann::json j{{"arch", e.label},
                     {"device", profile.name},
                     {"image_size", e.params.image_size},
                     {"depth_multiplier", e.params.depth_multiplier
                                              ? nlohmann::json(*e.params.depth_multiplier)
                                              : nlohmann::json()},
                     {"ms", ms}};
    j.update(latency::accuracy_json(profile.fit));
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << e.label << " @" << e.params.image_size << "px\n  " << profile.name << ": "
              << fixed(ms, 1) << " ms, an estimate (fitted device profile: "
              << latency::accuracy_text(profile.fit) << ")\n";
  }
  return 0;
}

int cmd_predict(const Args& a) {
  const DeployConfig d = deploy_from(a.vm, /*allow_profile=*/true);
  if (latency::uses_profile(d)) return cmd_predict_profile(a, d);
  db::Database db(need(a.vm, "db"), db::Database::Mode::kReadOnly);
  const auto e = arch_from(a.positional, a.vm, d);
  const auto p = predictor_from_db(db, a.vm, d);
  const auto flops = latency::FlopsPredictor::fit(p.table(), p.params());
  const auto layers = space::expand_layers(e.arch, e.params);
  const double lut = p.predict_ms(layers);
  if (a.vm.count("json")) {
    std::cout << nlohmann::json{{"arch", e.label}, {"table", latency::to_string(p.table().id)},
                                {"lut_sum_ms", p.lut_sum_ms(layers)}, {"predicted_ms", lut},
                                {"flops_predicted_ms", flops.predict_ms(layers)}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << e.label << "\n  table " << latency::to_string(p.table().id) << "\n  predicted "
              << fixed(lut) << " ms (LUT sum " << fixed(p.lut_sum_ms(layers)) << " ms), FLOPs baseline "
              << fixed(flops.predict_ms(layers)) << " ms\n";
  }
  return 0;
}

void print_accuracy(const char* name, const latency::Accuracy& acc) {
  std::cout << "  " << std::left << std::setw(10) << name << std::right << " RMSE "
            << std::setw(8) << fixed(acc.rmse_ms) << " ms   MAPE " << std::setw(6)
            << fixed(acc.mape_percent, 2) << " %   within 10%: " << std::setw(5)
            << fixed(acc.within10_percent, 1) << " %   within 5%: " << std::setw(5)
            << fixed(acc.within5_percent, 1) << " %\n";
}

int cmd_validate(const Args& a) {
  const DeployConfig d = deploy_from(a.vm);
  db::WriterLock lock(need(a.vm, "db"), "mnas_latency validate");  // may profile a table
  db::Database db(need(a.vm, "db"));
  const auto entries = latency::read_arch_file(need(a.vm, "archs"), base_params(a.vm, d));
  const auto space = space_from(a.vm);
  const bool verbose = !a.vm.count("quiet");
  const auto v = latency::validate_predictors(db, space, entries, d, measure_options(a.vm),
                                              a.vm["rounds"].as<int>(),
                                              latency::stderr_progress_unless(!verbose));
  if (verbose) {
    std::cout << "measured_ms  lut_ms  flops_ms  arch\n";
    for (const auto& r : v.rows) {
      std::cout << fixed(r.measured_ms) << "  " << fixed(r.lut_ms) << "  " << fixed(r.flops_ms)
                << "  " << r.label << "\n";
    }
  }
  std::cout << v.rows.size() << " architectures, table " << latency::to_string(v.table) << " ("
            << v.calibration_archs << " calibration architectures)\n";
  print_accuracy("LUT", v.lut);
  print_accuracy("FLOPs", v.flops);
  return 0;
}

int cmd_sample(const Args& a) {
  if (a.positional.size() != 1) throw ParseError("sample takes one argument N, the number of architectures");
  int n = 0;
  try {
    size_t pos = 0;
    n = std::stoi(a.positional[0], &pos);
    if (pos != a.positional[0].size()) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    throw ParseError("sample: N should be an integer, got '" + a.positional[0] + "'");
  }
  if (n < 1) throw ParseError("sample: N should be >= 1, got " + std::to_string(n));
  if (a.vm.count("out")) check_output_path(a.vm["out"].as<std::string>(), inputs(a.vm), "--out");
  const auto archs = latency::sample_archs(space_from(a.vm), n, a.vm["seed"].as<uint64_t>());
  std::string text;
  for (const auto& arch : archs) text += space::arch_to_string(arch) + "\n";
  if (a.vm.count("out")) {
    write_file_atomically(a.vm["out"].as<std::string>(), text);
  } else {
    std::cout << text;
  }
  return 0;
}

int cmd_export(const Args& a) {
  const DeployConfig d = deploy_from(a.vm);
  check_output_path(need(a.vm, "out"), inputs(a.vm), "--out");
  db::Database db(need(a.vm, "db"), db::Database::Mode::kReadOnly);
  const auto t = latency::load_table(db, latency::find_table(db, d));
  const std::string out = need(a.vm, "out");
  latency::write_table_file(t, out);
  std::cerr << "wrote " << t.layers.size() << " layers and " << t.calibration.size()
            << " calibration points of " << latency::to_string(t.id) << " to " << out << "\n";
  return 0;
}

int cmd_import(const Args& a) {
  if (a.positional.size() != 1) throw ParseError("import takes one table file (.json or .csv)");
  const auto t = latency::read_table_file(a.positional[0]);
  // Flags given explicitly say which table the user expects.
  const auto& vm = a.vm;
  const bool expects = !vm["device"].defaulted() || !vm["engine"].defaulted() ||
                       !vm["threads"].defaulted() || !vm["image-size"].defaulted() ||
                       !vm["batch"].defaulted();
  latency::TableId expected = t.id;
  if (expects) {
    DeployConfig d = deploy_from(vm);
    expected = latency::table_id(d, d.engine == "auto" ? t.id.engine : d.engine);
  }
  db::WriterLock lock(need(vm, "db"), "mnas_latency import");
  db::Database db(need(vm, "db"));
  latency::import_table(db, t, expects ? &expected : nullptr);
  std::cerr << "imported " << t.layers.size() << " layers and " << t.calibration.size()
            << " calibration points into " << latency::to_string(t.id) << "\n";
  return 0;
}

int cmd_tables(const Args& a) {
  db::Database db(need(a.vm, "db"), db::Database::Mode::kReadOnly);
  for (const auto& id : latency::list_tables(db)) {
    const auto t = latency::load_table(db, id);
    std::cout << latency::to_string(id) << "\t" << t.layers.size() << " layers\t"
              << t.calibration.size() << " calibration\n";
  }
  return 0;
}

// Measurements in the data-file format, or a latency table (the import
// format, JSON or CSV) turned into measurements.
latency::Measurements read_fit_data(const std::string& path) {
  const bool csv = path.size() >= 4 && path.compare(path.size() - 4, 4, ".csv") == 0;
  if (!csv) {
    const auto j = load_json_file(path, "measurements '" + path + "'");
    if (j.is_object() && j.value("format", "") == "mnas-latency-measurements") {
      return latency::measurements_from_json(j, "measurements '" + path + "'");
    }
  }
  const auto table = latency::read_table_file(path);
  latency::DeployConfig d;
  d.image_size = table.id.image_size;
  return latency::measurements_from_table(
      table, space::SearchSpace::mnasnet_default().global_params(latency::apply_deploy({}, d)),
      "table", "latency table " + latency::to_string(table.id) + " read from " + path);
}

int cmd_fit_profile(const Args& a) {
  if (!a.positional.empty()) throw ParseError("fit-profile takes no arguments: --data FILE --out FILE");
  const std::string data = need(a.vm, "data");
  const std::string out = need(a.vm, "out");
  check_output_path(out, {data}, "--out");
  latency::Measurements m = read_fit_data(data);
  if (a.vm.count("name")) m.device = a.vm["name"].as<std::string>();
  latency::DeviceProfile named;  // the name checked before the fit's work
  named.name = m.device;
  latency::validate(named);
  latency::FitOptions options;
  options.data_path = data;
  const auto profile = latency::fit_profile(m, options);  // validated: a bad --name throws
  std::cout << latency::validation_table(profile);
  latency::write_profile_file(profile, out);
  std::cerr << "wrote device profile '" << profile.name << "' to " << out
            << " (use it as --device " << out << ")\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description visible(kUsage);
  visible.add_options()
      ("help,h", "show this help")
      ("db", po::value<std::string>(), "SQLite database holding the tables")
      ("device", po::value<std::string>()->default_value("cpu"),
       "cpu, cuda, cuda:N, remote:NAME, or (predict) a device profile: pixel1 or a profile .json")
      ("engine", po::value<std::string>()->default_value("auto"),
       "auto, eager, onednn, xnnpack or onnxruntime (ONNX Runtime via node: scripts/setup.sh)")
      ("ort-opt-level", po::value<std::string>()->default_value("all"),
       "onnxruntime: graph optimisation disabled, basic, extended or all (part of the table key)")
      ("ort-execution-mode", po::value<std::string>()->default_value("sequential"),
       "onnxruntime: sequential or parallel (part of the table key)")
      ("threads", po::value<int>()->default_value(1), "intra-op threads")
      ("image-size", po::value<int>()->default_value(224), "input side in pixels")
      ("num-classes", po::value<int>()->default_value(1000), "classifier outputs")
      ("input-channels", po::value<int>()->default_value(3), "image channels")
      ("batch", po::value<int>()->default_value(1), "batch size")
      ("depth-multiplier", po::value<double>(), "width multiplier for a named model (measure/predict)")
      ("space", po::value<std::string>(), "search space JSON (default: the paper's space)")
      ("archs", po::value<std::string>(), "architecture file: one model name or block-string line each")
      ("out", po::value<std::string>(), "output file (export: .json or .csv; sample: text)")
      ("seed", po::value<uint64_t>()->default_value(2026), "sample: random seed (the predictor's "
       "calibration uses seed 1)")
      ("repeat", po::value<int>()->default_value(1), "measure: repeat the whole measurement K times")
      ("runs", po::value<int>()->default_value(30), "measure/validate: minimum timed runs")
      ("rounds", po::value<int>()->default_value(latency::kRounds),
       "validate: interleaved rounds over the architectures")
      ("no-pin", "do not pin single-thread measurements to one CPU")
      ("raw", "measure/validate: raw wall-clock times, no reference normalisation")
      ("quiet,q", "no progress display")
      ("json", "JSON output (measure, predict)")
      ("data", po::value<std::string>(), "fit-profile: measurements (.json) or a latency table (.json, .csv)")
      ("name", po::value<std::string>(), "fit-profile: device name of the profile ([a-z0-9_-]+; "
       "default: the data's device)");
  po::options_description hidden;
  hidden.add_options()("command", po::value<std::string>(), "")(
      "args", po::value<std::vector<std::string>>(), "");
  po::options_description all;
  all.add(visible).add(hidden);
  po::positional_options_description positional;
  positional.add("command", 1).add("args", -1);

  try {
    Args a;
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), a.vm);
    po::notify(a.vm);
    if (a.vm.count("help")) {
      std::cout << visible << "\nSee docs/latency.md.\n";
      return 0;
    }
    if (!a.vm.count("command")) throw ParseError("no command given");
    a.command = a.vm["command"].as<std::string>();
    if (a.vm.count("args")) a.positional = a.vm["args"].as<std::vector<std::string>>();
    if (a.command == "measure") return cmd_measure(a);
    if (a.command == "profile") return cmd_profile(a);
    if (a.command == "predict") return cmd_predict(a);
    if (a.command == "validate") return cmd_validate(a);
    if (a.command == "sample") return cmd_sample(a);
    if (a.command == "export") return cmd_export(a);
    if (a.command == "import") return cmd_import(a);
    if (a.command == "tables") return cmd_tables(a);
    if (a.command == "fit-profile") return cmd_fit_profile(a);
    throw ParseError("unknown command '" + a.command +
                     "': expected measure, profile, predict, validate, sample, export, import, "
                     "tables or fit-profile");
  } catch (const po::error& e) {
    std::cerr << "mnas_latency: " << e.what() << "\n(see mnas_latency --help)\n";
    return 2;
  } catch (const Error& e) {
    std::cerr << "mnas_latency: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "mnas_latency: internal error: " << e.what() << "\n";
    return 1;
  }
}
