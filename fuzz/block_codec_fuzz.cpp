// libFuzzer entry point for the block-string codec. The checks live in
// block_codec_fuzz_body.cpp so that tests/space/fuzz_corpus_test.cpp runs the
// same ones over the seed corpus and deterministic mutations of it.
//
//   block_codec_fuzzer -dict=fuzz/block_codec.dict NEW_CORPUS_DIR fuzz/corpus
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "fuzz/block_codec_fuzz_body.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const mnas::fuzz::FuzzOutcome outcome = mnas::fuzz::mnas_fuzz_one_input(data, size);
  if (!outcome.ok()) {
    std::fprintf(stderr, "block_codec_fuzzer: invariant violated: %s\n", outcome.failure.c_str());
    std::abort();
  }
  return 0;
}
