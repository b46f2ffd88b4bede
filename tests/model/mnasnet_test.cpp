// The LibTorch network against the analytical counters and the reference
// semantics (mnasnet_model.py).
#include "model/mnasnet.h"

#include <gtest/gtest.h>

#include <sstream>

#include "space/block_codec.h"
#include "space/counters.h"
#include "space/named_archs.h"

namespace mnas::model {
namespace {

using space::GlobalParams;

// Copies every parameter and buffer of `src` into the same-named one of `dst`.
void copy_state(torch::nn::Module& dst, torch::nn::Module& src) {
  torch::NoGradGuard no_grad;
  auto sp = src.named_parameters();
  for (auto& item : dst.named_parameters()) item.value().copy_(sp[item.key()]);
  auto sb = src.named_buffers();
  for (auto& item : dst.named_buffers()) item.value().copy_(sb[item.key()]);
}

class MnasNetTest : public ::testing::Test {
 protected:
  void SetUp() override { torch::manual_seed(0); }
};

GlobalParams params_for(const std::string& name, std::optional<double> multiplier,
                        int image_size) {
  GlobalParams p = space::named_arch(name).params;
  p.depth_multiplier = multiplier;
  p.image_size = image_size;
  return p;
}

// Every named model at several widths: the module's trainable parameters add
// up to exactly the analytical count.
TEST_F(MnasNetTest, ParameterCountMatchesCounterForEveryNamedModel) {
  for (const auto& name : space::named_arch_names()) {
    for (std::optional<double> m : {std::optional<double>(), std::optional<double>(0.35),
                                    std::optional<double>(0.75), std::optional<double>(1.0),
                                    std::optional<double>(1.4)}) {
      const auto arch = space::named_arch_spec(name);
      const auto p = params_for(name, m, 224);
      MnasNet net(arch, p);
      const auto cost = space::model_cost(space::expand_layers(arch, p));
      EXPECT_EQ(count_parameters(*net), cost.total.params)
          << name << " x" << (m ? std::to_string(*m) : "unset");
    }
  }
}

// Golden counts from the reference document and torchvision (never from this
// code): A1 3,887,038; B1 4,383,312 (torchvision mnasnet1_0); small 2,030,264.
TEST_F(MnasNetTest, GoldenParameterCounts) {
  EXPECT_EQ(count_parameters(*MnasNet(space::named_arch_spec("mnasnet-a1"),
                                      params_for("mnasnet-a1", 1.0, 224))),
            3887038);
  EXPECT_EQ(count_parameters(*MnasNet(space::named_arch_spec("mnasnet-b1"),
                                      params_for("mnasnet-b1", 1.0, 224))),
            4383312);
  EXPECT_EQ(count_parameters(*MnasNet(space::named_arch_spec("mnasnet-small"),
                                      params_for("mnasnet-small", std::nullopt, 224))),
            2030264);
}

TEST_F(MnasNetTest, ForwardShapesAndFiniteForEveryNamedModel) {
  torch::NoGradGuard no_grad;
  for (const auto& name : space::named_arch_names()) {
    auto p = params_for(name, std::nullopt, 64);
    p.num_classes = 10;
    MnasNet net(space::named_arch_spec(name), p);
    net->eval();
    const auto y = net->forward(torch::randn({2, 3, 64, 64}));
    ASSERT_EQ(y.sizes(), (std::vector<int64_t>{2, 10})) << name;
    EXPECT_FALSE(torch::isnan(y).any().item<bool>()) << name;
    EXPECT_TRUE(torch::isfinite(y).all().item<bool>()) << name;
  }
}

TEST_F(MnasNetTest, FeatureMapShapesFollowLayerSpecs) {
  torch::NoGradGuard no_grad;
  auto p = params_for("mnasnet-a1", 1.0, 96);
  MnasNet net(space::named_arch_spec("mnasnet-a1"), p);
  net->eval();
  auto x = net->stem(torch::randn({1, 3, 96, 96}));
  for (size_t i = 0; i < net->blocks->size(); ++i) {
    x = net->blocks[i]->as<Block>()->forward(x);
    const auto& l = net->layers()[i + 1];
    ASSERT_EQ(x.sizes(), (std::vector<int64_t>{1, l.out_channels, l.out_h, l.out_w})) << i;
  }
  // Paper Fig. 7 at 224 ends at 7x7x320; at 96 px the last stage is 3x3.
  EXPECT_EQ(x.size(1), 320);
  EXPECT_EQ(x.size(2), 3);
}

TEST_F(MnasNetTest, ExtendedOpsBuildRunAndCount) {
  torch::NoGradGuard no_grad;
  const auto arch = space::decode_arch({"cn_r1_k3_s11_i32_o16_se0.25", "ds_r2_k5_s22_i16_o24_poolskip",
                                        "ds_r2_k3_s11_i24_o24_se0.25_poolskip",
                                        "r2_k3_s22_e3_i24_o40_noskip", "cn_r2_k5_s11_i40_o40"});
  GlobalParams p;
  p.image_size = 32;
  p.num_classes = 10;
  p.input_channels = 1;
  MnasNet net(arch, p);
  net->eval();
  EXPECT_EQ(count_parameters(*net), space::model_cost(net->layers()).total.params);
  const auto y = net->forward(torch::randn({3, 1, 32, 32}));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{3, 10}));
  EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
}

TEST_F(MnasNetTest, PoolSkipAddsAveragePooledInput) {
  torch::NoGradGuard no_grad;
  GlobalParams p;
  const auto layers = space::expand_layers(space::decode_arch({"ds_r1_k3_s22_i32_o32_poolskip"}), p);
  const auto& l = layers[1];
  ASSERT_TRUE(l.residual);
  Block with(l, p);
  auto plain = l;
  plain.residual = false;
  Block without(plain, p);
  copy_state(*without, *with);
  with->eval();
  without->eval();
  const auto x = torch::randn({1, 32, 8, 8});
  const auto pooled = torch::avg_pool2d(x, 3, 2, 1, false, /*count_include_pad=*/false);
  EXPECT_TRUE(torch::allclose(with->forward(x), without->forward(x) + pooled, 1e-5, 1e-6));
}

TEST_F(MnasNetTest, CheckpointKeysAreStable) {
  MnasNet net(space::named_arch_spec("mnasnet-a1"), params_for("mnasnet-a1", 1.0, 224));
  std::set<std::string> keys;
  for (const auto& item : net->named_parameters()) keys.insert(item.key());
  for (const auto& item : net->named_buffers()) keys.insert(item.key());
  for (const char* k :
       {"stem.conv.weight", "stem.bn.weight", "stem.bn.running_mean", "blocks.0.depthwise.conv.weight",
        "blocks.0.project.conv.weight", "blocks.1.expand.conv.weight", "blocks.3.se.reduce.weight",
        "blocks.3.se.reduce.bias", "blocks.3.se.expand.bias", "head.conv.weight", "head.bn.bias",
        "classifier.fc.weight", "classifier.fc.bias"}) {
    EXPECT_TRUE(keys.count(k)) << k;
  }
  EXPECT_FALSE(keys.count("blocks.0.expand.conv.weight")) << "e1 has no expansion conv";
}

TEST_F(MnasNetTest, ReferenceBatchNormAndBias) {
  MnasNet net(space::named_arch_spec("mnasnet-a1"), params_for("mnasnet-a1", 1.0, 224));
  const auto& bn = net->stem->bn->options;
  EXPECT_DOUBLE_EQ(bn.momentum().value(), 1.0 - 0.99);
  EXPECT_DOUBLE_EQ(bn.eps(), 1e-3);
  EXPECT_FALSE(net->stem->conv->bias.defined());
  EXPECT_TRUE(net->classifier->fc->bias.defined());
}

// Reference initialisers: conv N(0, sqrt(2/fan_out)), depthwise sqrt(2/k^2),
// dense U(+-1/sqrt(classes)), zero biases.
TEST_F(MnasNetTest, ReferenceInitialisers) {
  MnasNet net(space::named_arch_spec("mnasnet-a1"), params_for("mnasnet-a1", 1.0, 224));
  const auto head_w = net->head->conv->weight;  // [1280, 320, 1, 1]
  EXPECT_NEAR(head_w.std().item<double>(), std::sqrt(2.0 / 1280), 0.002);
  EXPECT_NEAR(head_w.mean().item<double>(), 0.0, 0.001);
  // Stage 5 depthwise k5 over 960 channels: std sqrt(2/25).
  const auto dw = net->blocks[13]->as<Block>()->depthwise->conv->weight;
  ASSERT_EQ(dw.size(2), 5);
  EXPECT_NEAR(dw.std().item<double>(), std::sqrt(2.0 / 25), 0.01);
  const auto fc = net->classifier->fc->weight;
  EXPECT_LE(fc.abs().max().item<double>(), 1.0 / std::sqrt(1000.0));
  EXPECT_GT(fc.abs().max().item<double>(), 0.9 / std::sqrt(1000.0));
  EXPECT_EQ(net->classifier->fc->bias.abs().sum().item<double>(), 0.0);
  EXPECT_EQ(net->blocks[3]->as<Block>()->se->reduce->bias.abs().sum().item<double>(), 0.0);
}

TEST_F(MnasNetTest, TfSamePaddingPadsBottomRightForStride2) {
  auto x = torch::arange(16, torch::kFloat).reshape({1, 1, 4, 4});
  const auto padded = pad_same(x, 3, {2, 2});
  // out = 2, pad_total = (2-1)*2 + 3 - 4 = 1: zero before, one after.
  ASSERT_EQ(padded.sizes(), (std::vector<int64_t>{1, 1, 5, 5}));
  EXPECT_EQ(padded[0][0][0][0].item<float>(), 0.0f);
  EXPECT_EQ(padded[0][0][4][4].item<float>(), 0.0f);
  EXPECT_EQ(padded[0][0][3][3].item<float>(), 15.0f);
  // Stride 1: symmetric.
  const auto p1 = pad_same(x, 3, {1, 1});
  EXPECT_EQ(p1[0][0][1][1].item<float>(), 0.0f);
}

TEST_F(MnasNetTest, TfSamePaddingKeepsShapesAndCounts) {
  torch::NoGradGuard no_grad;
  auto p = params_for("mnasnet-a1", 1.0, 64);
  auto q = p;
  q.tf_same_padding = true;
  MnasNet a(space::named_arch_spec("mnasnet-a1"), p), b(space::named_arch_spec("mnasnet-a1"), q);
  a->eval();
  b->eval();
  const auto x = torch::randn({1, 3, 64, 64});
  EXPECT_EQ(a->forward(x).sizes(), b->forward(x).sizes());
  EXPECT_EQ(count_parameters(*a), count_parameters(*b));
  // The same weights give different logits: the stride-2 sampling grid moves.
  copy_state(*b, *a);
  EXPECT_FALSE(torch::allclose(a->forward(x), b->forward(x)));
}

TEST_F(MnasNetTest, ChannelsLastGivesSameOutput) {
  torch::NoGradGuard no_grad;
  auto p = params_for("mnasnet-a1", 0.5, 64);
  MnasNet net(space::named_arch_spec("mnasnet-a1"), p);
  net->eval();
  const auto x = torch::randn({2, 3, 64, 64});
  const auto ref = net->forward(x);
  to_channels_last(*net);
  const auto y = net->forward(x.contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(torch::allclose(ref, y, 1e-4, 1e-5));
}

// On a 1x1 map a k x k depthwise conv with k/2 padding sees only its centre
// tap. The conv gets channels-last strides there (a slow-path workaround);
// the values and gradients must be those of x * w[centre], whatever strides
// the input arrives with.
TEST_F(MnasNetTest, DepthwiseOnOneByOneMapIsCentreTap) {
  GlobalParams p;
  ConvBn layer(6, 6, 5, kUnitStrides, /*depthwise=*/true, /*relu=*/false, p);
  layer->eval();  // BN with running stats 0 / 1: y = x * w / sqrt(1 + eps)
  const auto w = layer->conv->weight.detach().select(2, 2).select(2, 2).reshape({1, 6, 1, 1});
  const auto scale = 1.0 / std::sqrt(1.0 + p.bn_epsilon);
  for (bool nchw_strides : {true, false}) {
    auto x = torch::randn({3, 6, 1, 1});
    if (!nchw_strides) x = x.reshape({3, 1, 1, 6}).permute({0, 3, 1, 2});
    x.requires_grad_(true);
    const auto y = layer->forward(x);
    EXPECT_TRUE(torch::allclose(y, x.detach() * w * scale, 1e-5, 1e-6)) << nchw_strides;
    y.sum().backward();
    EXPECT_TRUE(torch::allclose(x.grad(), (w * scale).expand({3, 6, 1, 1}), 1e-5, 1e-6));
  }
}

TEST_F(MnasNetTest, SaveLoadRoundTrip) {
  torch::NoGradGuard no_grad;
  auto p = params_for("mnasnet-small", std::nullopt, 32);
  MnasNet a(space::named_arch_spec("mnasnet-small"), p);
  MnasNet b(space::named_arch_spec("mnasnet-small"), p);
  std::stringstream stream;
  torch::save(a, stream);
  torch::load(b, stream);
  a->eval();
  b->eval();
  const auto x = torch::randn({1, 3, 32, 32});
  EXPECT_TRUE(torch::equal(a->forward(x), b->forward(x)));
}

TEST_F(MnasNetTest, TrainingStepReducesLoss) {
  auto p = params_for("mnasnet-small", std::nullopt, 32);
  p.num_classes = 4;
  p.dropout_rate = 0.0;
  MnasNet net(space::named_arch_spec("mnasnet-small"), p);
  net->train();
  torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  const auto x = torch::randn({8, 3, 32, 32});
  const auto y = torch::randint(0, 4, {8}, torch::kLong);
  double first = 0, last = 0;
  for (int step = 0; step < 15; ++step) {
    opt.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(net->forward(x), y);
    loss.backward();
    opt.step();
    (step == 0 ? first : last) = loss.item<double>();
  }
  EXPECT_LT(last, first);
}

TEST_F(MnasNetTest, RejectsWrongInputChannels) {
  MnasNet net(space::named_arch_spec("mnasnet-small"), params_for("mnasnet-small", std::nullopt, 32));
  EXPECT_THROW(net->forward(torch::randn({1, 1, 32, 32})), c10::Error);
}

TEST_F(MnasNetTest, RunsOnCudaWhenAvailable) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  torch::NoGradGuard no_grad;
  auto p = params_for("mnasnet-a1", 1.0, 64);
  MnasNet net(space::named_arch_spec("mnasnet-a1"), p);
  net->eval();
  const auto x = torch::randn({2, 3, 64, 64});
  const auto cpu = net->forward(x);
  net->to(torch::kCUDA);
  const auto gpu = net->forward(x.to(torch::kCUDA)).cpu();
  EXPECT_TRUE(torch::allclose(cpu, gpu, 1e-3, 1e-4));
}

}  // namespace
}  // namespace mnas::model
