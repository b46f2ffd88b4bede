// The named architectures: the TF reference's five MnasNet models (verbatim
// block strings from mnasnet_models.py) and MobileNetV2, the paper's baseline,
// written in the same grammar. One plain table, no self-registration.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "space/block_args.h"
#include "space/global_params.h"

namespace mnas::space {

struct NamedArch {
  std::string name;                        // e.g. "mnasnet-a1"
  std::string description;                 // one line, for --help and listings
  std::vector<std::string> block_strings;  // verbatim, one per stage
  GlobalParams params;                     // the model function's GlobalParams
};

// Every known name, in table order.
std::vector<std::string> named_arch_names();

// True when `name` is in the table.
bool is_named_arch(std::string_view name);

// The table entry for `name`. Throws ParseError listing the known names when
// `name` is unknown.
const NamedArch& named_arch(std::string_view name);

// decode_arch of the entry's block strings.
ArchSpec named_arch_spec(std::string_view name);

// An architecture as a user writes it (command line, config file, arch list):
// one model name from the table, or block strings. This is the one place that
// decides which: a single word without '_' is a model name (an unknown one
// throws ParseError listing the known names, e.g. "mnasnet-a2"); anything else
// is decoded as block strings (throws naming the bad block or token).
struct ArchRef {
  const NamedArch* named = nullptr;  // the table entry; null for block strings
  ArchSpec arch;
};
ArchRef resolve_arch(const std::vector<std::string>& words);
// The same for one string of whitespace- or comma-separated words.
ArchRef resolve_arch(std::string_view text);

}  // namespace mnas::space
