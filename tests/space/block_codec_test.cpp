// Block-string codec: round trips of the reference strings, the canonical form
// of the extended grammar, and strict errors that quote the block string and
// name the bad token (STYLE.md habits 1 and 2; reference section 1).
#include "space/block_codec.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/error.h"
#include "space/named_archs.h"
#include "tests/space/expect_throw_msg.h"

namespace mnas::space {
namespace {

// A valid MBConv block with every required key, for building bad variants.
constexpr const char* kGood = "r1_k3_s11_e1_i32_o16";

// decode_block(block) throws ParseError whose message quotes the whole block
// string, names `token` (when not empty) and contains `detail`.
#define EXPECT_DECODE_ERROR(block, token, detail)                                \
  do {                                                                           \
    const std::string block_ = (block);                                          \
    const std::string token_ = (token);                                          \
    const std::string quoted_block_ = "block string '" + block_ + "'";           \
    const std::string quoted_token_ = token_.empty() ? "" : "token '" + token_ + "'"; \
    EXPECT_THROW_MSG(decode_block(block_), ParseError, quoted_block_,            \
                     quoted_token_, detail);                                     \
  } while (0)

// ---------------------------------------------------------------- round trip

TEST(BlockCodec, RoundTripsEveryNamedArchByteForByte) {
  for (const std::string& name : named_arch_names()) {
    SCOPED_TRACE(name);
    const NamedArch& arch = named_arch(name);
    ASSERT_FALSE(arch.block_strings.empty());
    for (const std::string& s : arch.block_strings) {
      SCOPED_TRACE(s);
      const BlockArgs b = decode_block(s);
      EXPECT_EQ(encode_block(b), s);
      EXPECT_EQ(decode_block(encode_block(b)), b);
    }
    EXPECT_EQ(encode_arch(decode_arch(arch.block_strings)), arch.block_strings);
  }
}

TEST(BlockCodec, RoundTripsTheReferenceStringsVerbatim) {
  // Reference section 2, independent of the named-arch table.
  const std::vector<std::string> strings = {
      "r1_k3_s11_e1_i32_o16_noskip", "r2_k3_s22_e6_i16_o24",
      "r3_k5_s22_e3_i24_o40_se0.25", "r4_k3_s22_e6_i40_o80",
      "r2_k3_s11_e6_i80_o112_se0.25", "r3_k5_s22_e6_i112_o160_se0.25",
      "r1_k3_s11_e6_i160_o320", "r1_k3_s11_e6_i192_o320_noskip",
      "r4_k5_s22_e6_i16_o32_se0.25", "r5_k7_s11_e3_i96_o96",
      "r1_k7_s11_e9_i160_o320"};
  for (const std::string& s : strings) {
    EXPECT_EQ(encode_block(decode_block(s)), s);
  }
}

// ------------------------------------------------------------- field values

TEST(BlockCodec, DecodesEveryField) {
  const BlockArgs b = decode_block("r3_k5_s22_e6_i24_o40_se0.25");
  EXPECT_EQ(b.op, ConvOp::kMBConv);
  EXPECT_EQ(b.num_repeat, 3);
  EXPECT_EQ(b.kernel_size, 5);
  EXPECT_EQ(b.strides, (std::array<int, 2>{2, 2}));
  EXPECT_EQ(b.expand_ratio, 6);
  EXPECT_EQ(b.input_filters, 24);
  EXPECT_EQ(b.output_filters, 40);
  EXPECT_DOUBLE_EQ(b.se_ratio, 0.25);
  EXPECT_TRUE(b.has_se());
  EXPECT_EQ(b.skip, SkipOp::kIdentity);
}

TEST(BlockCodec, AbsentSeMeansNoSe) {
  const BlockArgs b = decode_block(kGood);
  EXPECT_EQ(b.se_ratio, 0.0);
  EXPECT_FALSE(b.has_se());
}

TEST(BlockCodec, DecodesSkipFlags) {
  EXPECT_EQ(decode_block("r1_k3_s11_e1_i32_o16_noskip").skip, SkipOp::kNone);
  EXPECT_EQ(decode_block("r1_k3_s11_e1_i32_o16_poolskip").skip, SkipOp::kPool);
  EXPECT_EQ(decode_block(kGood).skip, SkipOp::kIdentity);
}

TEST(BlockCodec, DecodesAsymmetricStrides) {
  EXPECT_EQ(decode_block("r1_k3_s12_e6_i16_o24").strides, (std::array<int, 2>{1, 2}));
  EXPECT_EQ(decode_block("r1_k3_s91_e6_i16_o24").strides, (std::array<int, 2>{9, 1}));
}

TEST(BlockCodec, AcceptsTheLimits) {
  const BlockArgs lo = decode_block("r1_k1_s11_e1_i1_o1");
  EXPECT_EQ(lo.kernel_size, 1);
  EXPECT_EQ(lo.input_filters, 1);
  const BlockArgs hi = decode_block("r64_k9_s99_e16_i16384_o16384_se1");
  EXPECT_EQ(hi.num_repeat, kMaxRepeat);
  EXPECT_EQ(hi.kernel_size, kMaxKernelSize);
  EXPECT_EQ(hi.expand_ratio, kMaxExpandRatio);
  EXPECT_EQ(hi.output_filters, kMaxFilters);
  EXPECT_EQ(hi.se_ratio, 1.0);
  EXPECT_EQ(encode_block(hi), "r64_k9_s99_e16_i16384_o16384_se1");
}

TEST(BlockCodec, TokenOrderIsFreeAndEncodeIsCanonical) {
  const BlockArgs b = decode_block("se0.25_o40_i24_e3_s22_k5_r3");
  EXPECT_EQ(b, decode_block("r3_k5_s22_e3_i24_o40_se0.25"));
  EXPECT_EQ(encode_block(b), "r3_k5_s22_e3_i24_o40_se0.25");
}

TEST(BlockCodec, NonCanonicalNumbersEncodeCanonically) {
  EXPECT_EQ(encode_block(decode_block("r01_k3_s11_e06_i016_o24_se0.250")),
            "r1_k3_s11_e6_i16_o24_se0.25");
}

TEST(BlockCodec, SeIsWrittenInShortestFixedForm) {
  EXPECT_EQ(encode_block(decode_block("r1_k3_s11_e6_i16_o16_se1.0")),
            "r1_k3_s11_e6_i16_o16_se1");
  EXPECT_EQ(encode_block(decode_block("r1_k3_s11_e6_i16_o16_se0.5")),
            "r1_k3_s11_e6_i16_o16_se0.5");
}

TEST(BlockCodec, SeTooSmallToRepresentIsOutOfRangeNotMalformed) {
  // Issue 14: 0.000...01 (400 zeros) is a decimal number; it is out of range.
  const std::string se = "0." + std::string(400, '0') + "1";
  EXPECT_THROW_MSG(decode_block("r1_k3_s11_e1_i32_o16_se" + se), ParseError,
                   "token 'se0.0000", "out of range", "too small", "(0, 1]");
  try {
    decode_block("r1_k3_s11_e1_i32_o16_se" + se);
  } catch (const ParseError& e) {
    EXPECT_EQ(std::string(e.what()).find("decimal number"), std::string::npos) << e.what();
  }
  EXPECT_THROW_MSG(decode_block("r1_k3_s11_e1_i32_o16_se1" + std::string(400, '0')), ParseError,
                   "out of range", "too large");
  // The message quotes at most 160 bytes of the block and of the token.
  try {
    decode_block("r1_k3_s11_e1_i32_o16_se" + se);
  } catch (const ParseError& e) {
    EXPECT_LT(std::string(e.what()).size(), 500u) << e.what();
  }
}

TEST(BlockCodec, SmallSeRatiosRoundTrip) {
  // Regression: the shortest general form of 1e-4 is "1e-04", which the
  // (fixed-only) decoder rejected, so encode_block threw on a decoded block.
  for (const char* s : {"r1_k3_s11_e1_i8_o8_se0.0001", "r1_k3_s11_e1_i8_o8_se0.00001",
                        "r1_k3_s11_e1_i8_o8_se0.000000123"}) {
    SCOPED_TRACE(s);
    const BlockArgs b = decode_block(s);
    EXPECT_GT(b.se_ratio, 0.0);
    EXPECT_EQ(encode_block(b), s);
  }
}

// ------------------------------------------------------- extended grammar

TEST(BlockCodec, DecodesOpPrefixes) {
  const BlockArgs ds = decode_block("ds_r1_k3_s11_i32_o16");
  EXPECT_EQ(ds.op, ConvOp::kSepConv);
  EXPECT_EQ(ds.expand_ratio, 1);
  EXPECT_EQ(ds.input_filters, 32);
  const BlockArgs cn = decode_block("cn_r2_k5_s22_i16_o24_se0.25_poolskip");
  EXPECT_EQ(cn.op, ConvOp::kConv);
  EXPECT_EQ(cn.expand_ratio, 1);
  EXPECT_EQ(cn.kernel_size, 5);
  EXPECT_DOUBLE_EQ(cn.se_ratio, 0.25);
  EXPECT_EQ(cn.skip, SkipOp::kPool);
}

TEST(BlockCodec, ExtendedGrammarCanonicalFormRoundTrips) {
  for (const char* s : {"ds_r1_k3_s11_i32_o16", "ds_r1_k3_s11_i32_o16_noskip",
                        "ds_r2_k5_s22_i16_o24_se0.25_poolskip", "cn_r1_k3_s22_i16_o24",
                        "cn_r3_k7_s11_i24_o24_se0.5_poolskip",
                        "r2_k3_s22_e6_i16_o24_poolskip"}) {
    SCOPED_TRACE(s);
    EXPECT_EQ(encode_block(decode_block(s)), s);
  }
}

TEST(BlockCodec, AcceptsE1ForDsAndCnButDoesNotEmitIt) {
  const BlockArgs ds = decode_block("ds_r1_k3_s11_e1_i32_o16");
  EXPECT_EQ(ds, decode_block("ds_r1_k3_s11_i32_o16"));
  EXPECT_EQ(encode_block(ds), "ds_r1_k3_s11_i32_o16");
  const BlockArgs cn = decode_block("cn_e1_r1_k3_s11_i32_o16");
  EXPECT_EQ(encode_block(cn), "cn_r1_k3_s11_i32_o16");
}

TEST(BlockCodec, MBConvAlwaysEmitsE) {
  EXPECT_EQ(encode_block(decode_block("r1_k3_s11_e1_i32_o16")), "r1_k3_s11_e1_i32_o16");
}

TEST(BlockCodec, ExtendedGrammarIsCanonicalisedOnEncode) {
  EXPECT_EQ(encode_block(decode_block("ds_noskip_o16_i32_s11_k3_r1")),
            "ds_r1_k3_s11_i32_o16_noskip");
  EXPECT_EQ(encode_block(decode_block("cn_poolskip_se0.25_o24_i16_s22_k5_r2_e1")),
            "cn_r2_k5_s22_i16_o24_se0.25_poolskip");
}

TEST(BlockCodec, RejectsExpansionForDsAndCn) {
  EXPECT_DECODE_ERROR("ds_r1_k3_s11_e6_i32_o16", "",
                      "expand_ratio must be 1 (or absent) for the ds op, got 6");
  EXPECT_DECODE_ERROR("cn_r1_k3_s11_e3_i32_o16", "",
                      "expand_ratio must be 1 (or absent) for the cn op, got 3");
}

// -------------------------------------------------------------- errors: keys

TEST(BlockCodec, RejectsUnknownKey) {
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i32_o16_x9", "x9", "unknown key 'x'");
  // The key is the run of lower-case letters, so these are unknown keys too.
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i32_o16_c16", "c16", "unknown key 'c'");
  EXPECT_DECODE_ERROR("ir_r1_k3_s11_e1_i32_o16", "ir", "unknown key 'ir'");
}

TEST(BlockCodec, RejectsDuplicateKey) {
  EXPECT_DECODE_ERROR("r1_r2_k3_s11_e1_i32_o16", "r2", "duplicate key 'r'");
  EXPECT_DECODE_ERROR("r1_k3_k5_s11_e1_i32_o16", "k5", "duplicate key 'k'");
  EXPECT_DECODE_ERROR("r1_k3_s11_s22_e1_i32_o16", "s22", "duplicate key 's'");
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_e6_i32_o16", "e6", "duplicate key 'e'");
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i32_i32_o16", "i32", "duplicate key 'i'");
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i32_o16_o16", "o16", "duplicate key 'o'");
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i32_o16_se0.25_se0.5", "se0.5", "duplicate key 'se'");
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i32_o16_noskip_noskip", "noskip",
                      "more than one skip flag");
}

TEST(BlockCodec, RejectsMissingRequiredKeys) {
  EXPECT_DECODE_ERROR("k3_s11_e1_i32_o16", "", "missing num_repeat (r");
  EXPECT_DECODE_ERROR("r1_s11_e1_i32_o16", "", "missing kernel_size (k");
  EXPECT_DECODE_ERROR("r1_k3_e1_i32_o16", "", "missing strides (s");
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_o16", "", "missing input_filters (i");
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i32", "", "missing output_filters (o");
  EXPECT_DECODE_ERROR("r1_k3_s11_i32_o16", "", "missing expand_ratio (e");
}

TEST(BlockCodec, DsAndCnDoNotNeedE) {
  EXPECT_NO_THROW(decode_block("ds_r1_k3_s11_i32_o16"));
  EXPECT_NO_THROW(decode_block("cn_r1_k3_s11_i32_o16"));
  EXPECT_DECODE_ERROR("ds_r1_k3_s11_i32", "", "missing output_filters (o");
}

TEST(BlockCodec, RejectsValueWithoutKey) {
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i32_o16_16", "16", "expected a key");
  EXPECT_DECODE_ERROR("R1_k3_s11_e1_i32_o16", "R1", "expected a key");
}

// ------------------------------------------------------------ errors: values

TEST(BlockCodec, RejectsNonNumericValues) {
  EXPECT_DECODE_ERROR("r1x_k3_s11_e1_i32_o16", "r1x",
                      "num_repeat (r) should be an integer, got '1x'");
  EXPECT_DECODE_ERROR("r1_k3.0_s11_e1_i32_o16", "k3.0",
                      "kernel_size (k) should be an integer, got '3.0'");
  EXPECT_DECODE_ERROR("r1_k3_s11_e1.5_i32_o16", "e1.5",
                      "expand_ratio (e) should be an integer, got '1.5'");
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i+32_o16", "i+32",
                      "input_filters (i) should be an integer, got '+32'");
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i32_oABC", "oABC",
                      "output_filters (o) should be an integer, got 'ABC'");
  EXPECT_DECODE_ERROR("r_k3_s11_e1_i32_o16", "r", "num_repeat (r) should be an integer, got ''");
}

TEST(BlockCodec, RejectsTrailingGarbage) {
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i32_o16x", "o16x",
                      "output_filters (o) should be an integer, got '16x'");
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i32_o16_foo", "foo", "unknown key 'foo'");
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i32_o16_noskipx", "noskipx", "unknown key 'noskipx'");
}

TEST(BlockCodec, RejectsZeroAndNegativeRepeatsAndFilters) {
  EXPECT_DECODE_ERROR("r0_k3_s11_e1_i32_o16", "r0", "num_repeat (r) should be in 1..64, got 0");
  EXPECT_DECODE_ERROR("r-1_k3_s11_e1_i32_o16", "r-1", "num_repeat (r) should be in 1..64, got -1");
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i0_o16", "i0", "input_filters (i) should be in 1..16384, got 0");
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i-8_o16", "i-8", "input_filters (i) should be in 1..16384, got -8");
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i32_o0", "o0", "output_filters (o) should be in 1..16384, got 0");
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i32_o-16", "o-16", "output_filters (o) should be in 1..16384");
  EXPECT_DECODE_ERROR("r1_k3_s11_e0_i32_o16", "e0", "expand_ratio (e) should be in 1..16, got 0");
}

TEST(BlockCodec, RejectsValuesAboveTheLimits) {
  EXPECT_DECODE_ERROR("r65_k3_s11_e1_i32_o16", "r65", "should be in 1..64, got 65");
  EXPECT_DECODE_ERROR("r1_k3_s11_e17_i32_o16", "e17", "should be in 1..16, got 17");
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i16385_o16", "i16385", "should be in 1..16384, got 16385");
  // Beyond int: out of range, not "not an integer".
  EXPECT_DECODE_ERROR("r99999999999999999999_k3_s11_e1_i32_o16", "r99999999999999999999",
                      "num_repeat (r) should be in 1..64, got 99999999999999999999");
}

TEST(BlockCodec, RejectsEvenKernel) {
  EXPECT_DECODE_ERROR("r1_k4_s11_e1_i32_o16", "k4", "kernel_size (k) should be odd in 1..9, got 4");
  EXPECT_DECODE_ERROR("r1_k2_s11_e1_i32_o16", "k2", "should be odd in 1..9, got 2");
  EXPECT_DECODE_ERROR("r1_k8_s11_e1_i32_o16", "k8", "should be odd in 1..9, got 8");
}

TEST(BlockCodec, RejectsKernelOutsideOneToNine) {
  EXPECT_DECODE_ERROR("r1_k0_s11_e1_i32_o16", "k0", "kernel_size (k) should be in 1..9, got 0");
  EXPECT_DECODE_ERROR("r1_k11_s11_e1_i32_o16", "k11", "kernel_size (k) should be in 1..9, got 11");
  EXPECT_DECODE_ERROR("r1_k-3_s11_e1_i32_o16", "k-3", "kernel_size (k) should be in 1..9, got -3");
}

TEST(BlockCodec, RejectsStridesThatAreNotTwoDigits) {
  const char* detail = "strides (s) should be two digits 1..9 for H and W";
  EXPECT_DECODE_ERROR("r1_k3_s2_e1_i32_o16", "s2", detail);
  EXPECT_DECODE_ERROR("r1_k3_s222_e1_i32_o16", "s222", detail);
  EXPECT_DECODE_ERROR("r1_k3_s02_e1_i32_o16", "s02", detail);
  EXPECT_DECODE_ERROR("r1_k3_s20_e1_i32_o16", "s20", detail);
  EXPECT_DECODE_ERROR("r1_k3_s_e1_i32_o16", "s", std::string(detail) + " (e.g. s22), got ''");
  EXPECT_DECODE_ERROR("r1_k3_s2A_e1_i32_o16", "s2A", "got '2A'");
  // Letters after 's' make a different (unknown) key: "sab" is not s + "ab".
  EXPECT_DECODE_ERROR("r1_k3_sab_e1_i32_o16", "sab", "unknown key 'sab'");
}

TEST(BlockCodec, RejectsSeOutsideZeroToOne) {
  const char* range = "se_ratio should be in (0, 1]";
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i32_o16_se0", "se0", std::string(range) + " (omit the token for no SE), got 0");
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i32_o16_se0.0", "se0.0", range);
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i32_o16_se1.5", "se1.5", std::string(range) + " (omit the token for no SE), got 1.5");
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i32_o16_se1.0000001", "se1.0000001", range);
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i32_o16_se-0.1", "se-0.1", std::string(range) + " (omit the token for no SE), got -0.1");
  // "nan" and "inf" are lower-case, so they extend the key.
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i32_o16_senan", "senan", "unknown key 'senan'");
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i32_o16_seinf", "seinf", "unknown key 'seinf'");
}

TEST(BlockCodec, RejectsSeThatIsNotADecimal) {
  const char* what = "se_ratio should be a decimal number";
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i32_o16_se", "se", std::string(what) + ", got ''");
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i32_o16_se1e-3", "se1e-3", std::string(what) + ", got '1e-3'");
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i32_o16_se0.25.5", "se0.25.5", what);
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i32_o16_se0.25x", "se0.25x", what);
}

// --------------------------------------------------- errors: token structure

TEST(BlockCodec, RejectsEmptyString) {
  EXPECT_THROW_MSG(decode_block(""), ParseError, "block string ''", "empty block string");
}

TEST(BlockCodec, RejectsEmptyTokens) {
  EXPECT_DECODE_ERROR("r1__k3_s11_e1_i32_o16", "", "empty token at offset 3");
  EXPECT_DECODE_ERROR("_r1_k3_s11_e1_i32_o16", "", "empty token at offset 0");
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i32_o16_", "", "empty token at offset 21");
  EXPECT_DECODE_ERROR("_", "", "empty token at offset 0");
}

TEST(BlockCodec, RejectsOpPrefixThatIsNotFirst) {
  EXPECT_DECODE_ERROR("r1_ds_k3_s11_i32_o16", "ds", "the op prefix 'ds' must be the first token");
  EXPECT_DECODE_ERROR("r1_k3_s11_i32_o16_cn", "cn", "the op prefix 'cn' must be the first token");
  EXPECT_DECODE_ERROR("ds_cn_r1_k3_s11_i32_o16", "cn", "must be the first token");
}

TEST(BlockCodec, RejectsFlagsWithValues) {
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i32_o16_noskip1", "noskip1", "'noskip' takes no value");
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i32_o16_poolskip0", "poolskip0", "'poolskip' takes no value");
  EXPECT_DECODE_ERROR("ds2_r1_k3_s11_i32_o16", "ds2", "'ds' takes no value");
  EXPECT_DECODE_ERROR("cn1_r1_k3_s11_i32_o16", "cn1", "'cn' takes no value");
}

TEST(BlockCodec, RejectsBothNoskipAndPoolskip) {
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i32_o16_noskip_poolskip", "poolskip",
                      "more than one skip flag (noskip, poolskip)");
  EXPECT_DECODE_ERROR("r1_k3_s11_e1_i32_o16_poolskip_noskip", "noskip",
                      "more than one skip flag");
}

TEST(BlockCodec, EscapesUnprintableBytesInMessages) {
  const std::string block = std::string("r1_k3_s11_e1_i32_o16_\x01\xff", 23);
  EXPECT_THROW_MSG(decode_block(block), ParseError,
                   "block string 'r1_k3_s11_e1_i32_o16_\\x01\\xff'", "token '\\x01\\xff'");
}

// -------------------------------------------------------------- decode_arch

TEST(BlockCodec, DecodeArchKeepsStageOrder) {
  const ArchSpec arch = decode_arch({"r1_k3_s11_e1_i32_o16_noskip", "ds_r2_k5_s22_i16_o24"});
  ASSERT_EQ(arch.blocks.size(), 2u);
  EXPECT_EQ(arch.blocks[0], decode_block("r1_k3_s11_e1_i32_o16_noskip"));
  EXPECT_EQ(arch.blocks[1].op, ConvOp::kSepConv);
  EXPECT_EQ(arch.blocks[1].num_repeat, 2);
}

TEST(BlockCodec, DecodeArchPrefixesTheStageIndex) {
  EXPECT_THROW_MSG(decode_arch({"r1_k3_s11_e1_i32_o16", "r1_k4_s11_e1_i16_o16"}), ParseError,
                   "stage 1: block string 'r1_k4_s11_e1_i16_o16': token 'k4': ",
                   "should be odd");
  EXPECT_THROW_MSG(decode_arch({"", "r1_k3_s11_e1_i16_o16"}), ParseError,
                   "stage 0: block string ''");
}

TEST(BlockCodec, DecodeArchRejectsEmptyList) {
  EXPECT_THROW_MSG(decode_arch({}), ParseError, "architecture has no block strings");
}

// ------------------------------------------ split_block_strings, arch_to_string

TEST(BlockCodec, SplitsOnWhitespaceAndCommas) {
  EXPECT_EQ(split_block_strings("a b,c\td\n  e,,f\r\n"),
            (std::vector<std::string>{"a", "b", "c", "d", "e", "f"}));
  EXPECT_EQ(split_block_strings("r1_k3_s11_e1_i32_o16_noskip, r2_k3_s22_e6_i16_o24"),
            (std::vector<std::string>{"r1_k3_s11_e1_i32_o16_noskip", "r2_k3_s22_e6_i16_o24"}));
  EXPECT_TRUE(split_block_strings("").empty());
  EXPECT_TRUE(split_block_strings(" ,\t,\n ").empty());
  // Underscores are part of a block string, not separators.
  EXPECT_EQ(split_block_strings("__"), (std::vector<std::string>{"__"}));
}

TEST(BlockCodec, ArchToStringJoinsCanonicalStringsWithSpaces) {
  const NamedArch& a1 = named_arch("mnasnet-a1");
  std::string expected;
  for (const std::string& s : a1.block_strings) expected += (expected.empty() ? "" : " ") + s;
  const ArchSpec arch = decode_arch(a1.block_strings);
  EXPECT_EQ(arch_to_string(arch), expected);
  EXPECT_EQ(decode_arch(split_block_strings(arch_to_string(arch))), arch);
}

TEST(BlockCodec, ArchToStringCanonicalises) {
  const ArchSpec arch = decode_arch(split_block_strings("ds_o16_i32_s11_k3_r1,r2_k3_s22_e6_i16_o24"));
  EXPECT_EQ(arch_to_string(arch), "ds_r1_k3_s11_i32_o16 r2_k3_s22_e6_i16_o24");
}

// ---------------------------------------------------------------- encode_block

TEST(BlockCodec, EncodesHandBuiltBlock) {
  BlockArgs b;
  b.input_filters = 8;
  b.output_filters = 8;
  EXPECT_EQ(encode_block(b), "r1_k3_s11_e1_i8_o8");
  b.op = ConvOp::kConv;
  b.strides = {2, 1};
  b.se_ratio = 0.25;
  b.skip = SkipOp::kPool;
  EXPECT_EQ(encode_block(b), "cn_r1_k3_s21_i8_o8_se0.25_poolskip");
}

TEST(BlockCodec, EncodeRejectsInvalidBlockArgs) {
  BlockArgs valid;
  valid.input_filters = 16;
  valid.output_filters = 24;
  ASSERT_NO_THROW(encode_block(valid));

  auto with = [&](auto mutate) {
    BlockArgs b = valid;
    mutate(b);
    return b;
  };
  const std::vector<BlockArgs> invalid = {
      with([](BlockArgs& b) { b.kernel_size = 4; }),
      with([](BlockArgs& b) { b.kernel_size = 11; }),
      with([](BlockArgs& b) { b.num_repeat = 0; }),
      with([](BlockArgs& b) { b.num_repeat = kMaxRepeat + 1; }),
      with([](BlockArgs& b) { b.strides = {0, 1}; }),
      with([](BlockArgs& b) { b.strides = {1, 10}; }),
      with([](BlockArgs& b) { b.expand_ratio = 0; }),
      with([](BlockArgs& b) { b.expand_ratio = kMaxExpandRatio + 1; }),
      with([](BlockArgs& b) { b.input_filters = 0; }),
      with([](BlockArgs& b) { b.output_filters = -3; }),
      with([](BlockArgs& b) { b.output_filters = kMaxFilters + 1; }),
      with([](BlockArgs& b) { b.se_ratio = 1.5; }),
      with([](BlockArgs& b) { b.se_ratio = -0.25; }),
      with([](BlockArgs& b) { b.se_ratio = std::numeric_limits<double>::quiet_NaN(); }),
      with([](BlockArgs& b) { b.se_ratio = std::numeric_limits<double>::infinity(); }),
      with([](BlockArgs& b) {
        b.op = ConvOp::kSepConv;
        b.expand_ratio = 6;
      }),
      with([](BlockArgs& b) {
        b.op = ConvOp::kConv;
        b.expand_ratio = 3;
      }),
  };
  for (size_t n = 0; n < invalid.size(); ++n) {
    SCOPED_TRACE("invalid case " + std::to_string(n));
    EXPECT_THROW(encode_block(invalid[n]), ParseError);
  }
}

TEST(BlockCodec, EncodeNamesTheBlockThatDoesNotRoundTrip) {
  BlockArgs b;
  b.op = ConvOp::kSepConv;
  b.expand_ratio = 6;
  b.input_filters = 16;
  b.output_filters = 16;
  EXPECT_THROW_MSG(encode_block(b), ParseError, "ds_r1_k3_s11_i16_o16",
                   "does not encode its BlockArgs exactly");
}

TEST(BlockCodec, EnumNames) {
  EXPECT_STREQ(to_string(ConvOp::kMBConv), "mbconv");
  EXPECT_STREQ(to_string(ConvOp::kSepConv), "sepconv");
  EXPECT_STREQ(to_string(ConvOp::kConv), "conv");
  EXPECT_STREQ(to_string(SkipOp::kIdentity), "identity");
  EXPECT_STREQ(to_string(SkipOp::kPool), "pool");
  EXPECT_STREQ(to_string(SkipOp::kNone), "none");
}

}  // namespace
}  // namespace mnas::space
