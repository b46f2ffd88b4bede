// Rebuilds the shipped pixel1 latency profile from its measurement file and
// prints the validation table (docs/pixel1-profile.md).
//
//   <build>/bench/fit_pixel1_profile [--data FILE] [--out FILE | --dry-run]
//                                    [--layer-share X]
//                                    [--without COEFFICIENT]...
//
// Defaults: --data latency/profiles/pixel1-data.json, --out
// latency/profiles/pixel1.json (both under the source tree). The same code
// fits a profile for any phone from its own measurement file (format in
// latency/profile_fit.h); later this becomes `mnas_latency fit-profile`.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>

#include "common/error.h"
#include "latency/profile_fit.h"
#include "space/block_codec.h"
#include "space/layer_spec.h"
#include "space/named_archs.h"

#ifndef MNAS_SOURCE_DIR
#define MNAS_SOURCE_DIR "."
#endif

namespace {

void usage() {
  std::cerr << "usage: fit_pixel1_profile [--data FILE] [--out FILE | --dry-run] [--layer-share X] [--without COEFFICIENT]...\n";
}

double predict(const mnas::latency::DeviceProfile& p, const char* model, double multiplier,
               int head_size = 1280) {
  mnas::space::GlobalParams params = mnas::space::named_arch(model).params;
  params.depth_multiplier = multiplier;
  params.head_size = head_size;
  return p.predict_ms(mnas::space::expand_layers(mnas::space::named_arch_spec(model), params));
}

}  // namespace

int main(int argc, char** argv) {
  std::string data = std::string(MNAS_SOURCE_DIR) + "/latency/profiles/pixel1-data.json";
  std::string out = std::string(MNAS_SOURCE_DIR) + "/latency/profiles/pixel1.json";
  bool dry_run = false;
  mnas::latency::FitOptions options;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--data" && i + 1 < argc) {
        data = argv[++i];
      } else if (a == "--out" && i + 1 < argc) {
        out = argv[++i];
      } else if (a == "--dry-run") {
        dry_run = true;
      } else if (a == "--without" && i + 1 < argc) {
        const std::string key = argv[++i];
        bool found = false;
        for (const auto& info : mnas::latency::cost_terms()) {
          if (key == info.key) options.terms[static_cast<int>(info.term)] = false, found = true;
        }
        if (!found) throw mnas::ConfigError("--without: unknown coefficient '" + key + "'");
      } else if (a == "--layer-share" && i + 1 < argc) {
        options.layer_share = std::stod(argv[++i]);
      } else {
        usage();
        return 2;
      }
    }
    options.data_path = "latency/profiles/pixel1-data.json";
    if (data != std::string(MNAS_SOURCE_DIR) + "/" + options.data_path) options.data_path = data;
    const auto measurements = mnas::latency::read_measurements_file(data);
    const auto profile = mnas::latency::fit_profile(measurements, options);
    std::cout << mnas::latency::validation_table(profile);

    const double a1 = predict(profile, "mnasnet-a1", 1.0);
    const double v2 = predict(profile, "mobilenet-v2", 1.0);
    const double v2_14 = predict(profile, "mobilenet-v2", 1.4, 1792);
    std::printf("mnasnet-a1 224 x1.0: %.1f ms (published 78)\n", a1);
    std::printf("mobilenet-v2 224 x1.0: %.1f ms (published 75)\n", v2);
    std::printf("mobilenet-v2 224 x1.4: %.1f ms; ratio to A1 %.2fx (paper 1.8x)\n", v2_14, v2_14 / a1);
    for (const char* m : {"mnasnet-b1", "mnasnet-small", "mnasnet-d1", "mnasnet-d1-320"}) {
      std::printf("%s 224 x1.0: %.1f ms\n", m, predict(profile, m, 1.0));
    }
    if (!dry_run) {
      mnas::latency::write_profile_file(profile, out);
      std::cout << "wrote " << out << "\n";
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "fit_pixel1_profile: " << e.what() << "\n";
    return 1;
  }
}
