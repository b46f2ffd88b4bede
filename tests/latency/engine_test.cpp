// Engines compute what eager computes; auto resolves to an exact engine; bad
// devices are clear errors (latency/engine.h).
#include "latency/engine.h"

#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <vector>

#include "common/error.h"
#include "latency/small_configs.h"
#include "space/block_codec.h"
#include "space/expect_throw_msg.h"

namespace mnas::latency {
namespace {

// A few layers covering every op, SE, both skips, 5x5 and stride 2.
std::vector<space::LayerSpec> sample_layers(const space::GlobalParams& p) {
  const auto arch = space::decode_arch({"r1_k3_s11_e1_i32_o16_noskip",
                                        "r2_k5_s22_e6_i16_o24_se0.25_poolskip",
                                        "ds_r1_k3_s11_i24_o24_poolskip", "cn_r1_k5_s22_i24_o32_se0.25"});
  return space::expand_layers(arch, p);
}

TEST(Engines, SingleLayersMatchEager) {
  const auto p = small_params(16);
  const auto d = small_deploy(16);
  for (const auto& l : sample_layers(p)) {
    for (const char* engine : {"onednn", "xnnpack"}) {
      EXPECT_LE(engine_error(l, p, d, engine), kExactTolerance) << engine << " " << space::layer_key(l);
    }
  }
}

TEST(Engines, TheInContextPrologueLeavesLayersExact) {
  const auto p = small_params(16);
  const auto d = small_deploy(16);
  for (const auto& l : sample_layers(p)) {
    if (l.kind == space::LayerKind::kStem) continue;
    EXPECT_LE(engine_error(l, p, d, "onednn", /*in_context=*/true), kExactTolerance) << space::layer_key(l);
  }
}

TEST(Engines, OneDnnPrimitiveCacheIsWidened) {
  // Interleaved measurement of many models needs more than oneDNN's default
  // of 1024 kernels; a capacity the user set is left alone.
  const int capacity = onednn_primitive_cache_capacity();
  if (capacity < 0) GTEST_SKIP() << "this LibTorch does not expose oneDNN's C API";
  if (std::getenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY") || std::getenv("DNNL_PRIMITIVE_CACHE_CAPACITY")) {
    GTEST_SKIP() << "capacity set by the environment";
  }
  EXPECT_EQ(capacity, 65536);
}

TEST(Engines, WholeNetworksMatchEagerIncludingTfPadding) {
  auto p = small_params(32);
  const auto d = small_deploy(32);
  const auto arch = space::decode_arch({"r1_k3_s11_e1_i32_o16_noskip", "r2_k5_s22_e6_i16_o24_se0.25",
                                        "ds_r1_k3_s22_i24_o40"});
  EXPECT_LE(engine_error(arch, p, d, "onednn"), kExactTolerance);
  p.tf_same_padding = true;
  EXPECT_LE(engine_error(arch, p, d, "onednn"), kExactTolerance);
  EXPECT_LE(engine_error(arch, p, d, "xnnpack"), kExactTolerance);
}

TEST(Engines, AutoResolvesToAnExactConcreteEngine) {
  const std::string e = resolve_engine(DeployConfig{});
  EXPECT_TRUE(e == "onnxruntime" || e == "onednn" || e == "xnnpack" || e == "eager") << e;
  DeployConfig d;
  d.engine = "eager";
  EXPECT_EQ(resolve_engine(d), "eager");
}

TEST(Engines, BadDevicesAreClearErrors) {
  DeployConfig d;
  d.device = "remote:pixel1";
  d.engine = "tflite";
  EXPECT_THROW_MSG(resolve_engine(d), ConfigError, "remote", "import");
  if (!torch::cuda::is_available()) {
    d.device = "cuda";
    d.engine = "auto";
    EXPECT_THROW_MSG(resolve_engine(d), ConfigError, "CUDA is not available");
  }
}

}  // namespace
}  // namespace mnas::latency
