// The invariants the block-codec fuzzer checks, as a plain function so that
// both the libFuzzer target (fuzz/block_codec_fuzz.cpp) and the corpus test
// (tests/space/fuzz_corpus_test.cpp) run exactly the same checks.
//
// The input is one line of block strings, split as split_block_strings does.
// Invariants:
//   1. decode_block and decode_arch either succeed or throw mnas::ParseError
//      (ConfigError is tolerated); any other exception is a bug.
//   2. A decoded block lies within the documented limits and round-trips:
//      encode -> decode gives the same BlockArgs, and encoding that again
//      gives the same string; the same holds for the whole line
//      (arch_to_string -> split_block_strings -> decode_arch).
//   3. expand_layers + model_cost of a decoded architecture, under a few
//      small valid GlobalParams, throw nothing and give sane shapes and
//      non-negative, consistent counts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace mnas::fuzz {

struct FuzzOutcome {
  // Empty when every invariant held; otherwise what broke, with the input.
  std::string failure;
  int blocks_decoded = 0;     // block strings that decoded
  int blocks_rejected = 0;    // block strings rejected with ParseError
  bool arch_decoded = false;  // the whole line decoded as an architecture

  bool ok() const { return failure.empty(); }
};

// Runs the checks above on `size` bytes at `data` (any bytes at all).
// Never throws.
FuzzOutcome mnas_fuzz_one_input(const uint8_t* data, size_t size);

}  // namespace mnas::fuzz
