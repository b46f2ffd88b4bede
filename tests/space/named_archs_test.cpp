// The named-architecture table (reference section 2).
#include "space/named_archs.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/error.h"
#include "space/block_codec.h"
#include "tests/space/expect_throw_msg.h"

namespace mnas::space {
namespace {

const std::vector<std::string> kNames = {"mnasnet-a1", "mnasnet-b1",     "mnasnet-small",
                                         "mnasnet-d1", "mnasnet-d1-320", "mobilenet-v2"};

TEST(NamedArchs, ListsEveryNameInTableOrder) { EXPECT_EQ(named_arch_names(), kNames); }

TEST(NamedArchs, EveryNameResolves) {
  for (const std::string& name : kNames) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(is_named_arch(name));
    const NamedArch& arch = named_arch(name);
    EXPECT_EQ(arch.name, name);
    EXPECT_FALSE(arch.description.empty());
    EXPECT_EQ(arch.block_strings.size(), 7u);
    const ArchSpec spec = named_arch_spec(name);
    EXPECT_EQ(spec, decode_arch(arch.block_strings));
    EXPECT_EQ(spec.blocks.size(), 7u);
    EXPECT_NO_THROW(validate(arch.params));
  }
}

TEST(NamedArchs, BlockStringsAreTheReferenceVerbatim) {
  // Reference section 2 (TF mnasnet_models.py).
  EXPECT_EQ(named_arch("mnasnet-a1").block_strings,
            (std::vector<std::string>{
                "r1_k3_s11_e1_i32_o16_noskip", "r2_k3_s22_e6_i16_o24",
                "r3_k5_s22_e3_i24_o40_se0.25", "r4_k3_s22_e6_i40_o80",
                "r2_k3_s11_e6_i80_o112_se0.25", "r3_k5_s22_e6_i112_o160_se0.25",
                "r1_k3_s11_e6_i160_o320"}));
  EXPECT_EQ(named_arch("mnasnet-b1").block_strings,
            (std::vector<std::string>{"r1_k3_s11_e1_i32_o16_noskip", "r3_k3_s22_e3_i16_o24",
                                      "r3_k5_s22_e3_i24_o40", "r3_k5_s22_e6_i40_o80",
                                      "r2_k3_s11_e6_i80_o96", "r4_k5_s22_e6_i96_o192",
                                      "r1_k3_s11_e6_i192_o320_noskip"}));
  EXPECT_EQ(named_arch("mnasnet-small").block_strings,
            (std::vector<std::string>{"r1_k3_s11_e1_i16_o8", "r1_k3_s22_e3_i8_o16",
                                      "r2_k3_s22_e6_i16_o16", "r4_k5_s22_e6_i16_o32_se0.25",
                                      "r3_k3_s11_e6_i32_o32_se0.25",
                                      "r3_k5_s22_e6_i32_o88_se0.25", "r1_k3_s11_e6_i88_o144"}));
  EXPECT_EQ(named_arch("mnasnet-d1").block_strings,
            (std::vector<std::string>{"r1_k3_s11_e9_i32_o24", "r3_k3_s22_e9_i24_o36",
                                      "r5_k3_s22_e9_i36_o48", "r4_k5_s22_e9_i48_o96",
                                      "r5_k7_s11_e3_i96_o96", "r3_k3_s22_e9_i96_o80",
                                      "r1_k7_s11_e6_i80_o320_noskip"}));
  EXPECT_EQ(named_arch("mnasnet-d1-320").block_strings,
            (std::vector<std::string>{"r3_k5_s11_e6_i32_o24", "r4_k7_s22_e9_i24_o36",
                                      "r5_k5_s22_e9_i36_o48", "r5_k7_s22_e6_i48_o96",
                                      "r5_k3_s11_e9_i96_o144", "r5_k5_s22_e6_i144_o160",
                                      "r1_k7_s11_e9_i160_o320"}));
}

TEST(NamedArchs, UnknownNameThrowsListingKnownNames) {
  EXPECT_THROW_MSG(named_arch("mnasnet-a2"), ParseError, "unknown model name 'mnasnet-a2'",
                   "mnasnet-a1, mnasnet-b1, mnasnet-small, mnasnet-d1, mnasnet-d1-320, "
                   "mobilenet-v2");
  EXPECT_THROW_MSG(named_arch_spec(""), ParseError, "unknown model name ''", "mnasnet-a1");
}

TEST(NamedArchs, LookupIsExact) {
  EXPECT_FALSE(is_named_arch("mnasnet-a2"));
  EXPECT_FALSE(is_named_arch("MnasNet-A1"));
  EXPECT_FALSE(is_named_arch("mnasnet-a1 "));
  EXPECT_FALSE(is_named_arch("mnasnet"));
  EXPECT_FALSE(is_named_arch(""));
  EXPECT_THROW(named_arch("mnasnet_a1"), ParseError);
}

TEST(NamedArchs, SmallHasStem8AndNoDropout) {
  const GlobalParams& p = named_arch("mnasnet-small").params;
  EXPECT_EQ(p.stem_size, 8);
  EXPECT_EQ(p.dropout_rate, 0.0);
}

TEST(NamedArchs, GlobalParamsOfTheReferenceModels) {
  // Reference section 2 GlobalParams table.
  for (const std::string& name : kNames) {
    SCOPED_TRACE(name);
    const GlobalParams& p = named_arch(name).params;
    EXPECT_FALSE(p.depth_multiplier.has_value());
    EXPECT_EQ(p.depth_divisor, 8);
    EXPECT_EQ(p.min_depth, 0);
    EXPECT_EQ(p.head_size, 1280);
    EXPECT_EQ(p.num_classes, 1000);
    EXPECT_DOUBLE_EQ(p.bn_decay, 0.99);
    EXPECT_DOUBLE_EQ(p.bn_epsilon, 1e-3);
    if (name != "mnasnet-small") {
      EXPECT_EQ(p.stem_size, 32);
      EXPECT_DOUBLE_EQ(p.dropout_rate, 0.2);
    }
  }
}

// The one rule for "model name or block strings?" (tools, configs, arch lists).
TEST(NamedArchs, ResolveArchReadsOneUnderscorelessWordAsAModelName) {
  const auto a1 = resolve_arch("mnasnet-a1");
  ASSERT_NE(a1.named, nullptr);
  EXPECT_EQ(a1.named->name, "mnasnet-a1");
  EXPECT_EQ(a1.arch, named_arch_spec("mnasnet-a1"));
  EXPECT_EQ(a1.named->params.stem_size, 32);

  const auto blocks = resolve_arch("r1_k3_s11_e1_i32_o16_noskip r2_k3_s22_e6_i16_o24");
  EXPECT_EQ(blocks.named, nullptr);
  EXPECT_EQ(blocks.arch.blocks.size(), 2u);
  EXPECT_EQ(blocks.arch.blocks[1].output_filters, 24);
  // A single block string is block strings, not a name.
  EXPECT_EQ(resolve_arch(std::vector<std::string>{"r1_k3_s11_e1_i32_o16"}).named, nullptr);
}

TEST(NamedArchs, ResolveArchErrorsNameWhatIsWrong) {
  EXPECT_THROW_MSG(resolve_arch("mnasnet-a2"), ParseError, "unknown model name 'mnasnet-a2'",
                   "mobilenet-v2");
  EXPECT_THROW_MSG(resolve_arch(""), ParseError, "no architecture given");
  EXPECT_THROW_MSG(resolve_arch("r1_k3_s11_e1_i32_o16 r2_k4_s22_e6_i16_o24"), ParseError, "k4");
  // Two names are not an architecture: the words are read as block strings.
  EXPECT_THROW(resolve_arch("mnasnet-a1 mnasnet-b1"), ParseError);
}

}  // namespace
}  // namespace mnas::space
