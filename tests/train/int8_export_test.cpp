// Post-training int8 export (train/export.h, train/calibrate.h): the
// calibration forward is the network, and the int8 ONNX (QDQ, in ONNX
// Runtime) and TFLite (integer kernels, in Arm NN CpuRef) files of a trained
// checkpoint with every op kind agree with the float LibTorch model on test
// images; so do the files with quantized I/O (int8 input and logits), whose
// input parameters follow the hand-checked rule; bad options and clashing
// paths write nothing.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "common/error.h"
#include "tests/common/onnxruntime_available.h"
#include "tests/train/tiny_run.h"
#include "train/calibrate.h"
#include "train/checkpoint_io.h"
#include "train/export.h"
#include "train/onnxruntime_runner.h"
#include "train/tflite_model.h"
#include "train/tflite_runtime.h"
#include "train/trainer.h"

namespace mnas::train {
namespace {

namespace fs = std::filesystem;
using test_util::temp_path;
using test_util::tiny_run;

// Every op kind (MBConv with and without expansion, SE, identity and pooling
// skips at stride 1 and 2 on an even input, SepConv, Conv), trained long
// enough on the synthetic set for its decisions to mean something.
const std::string& trained_checkpoint() {
  static const std::string ckpt = [] {
    const std::string path = temp_path("int8.ckpt");
    TrainConfig c = tiny_run(path);
    c.arch = "r1_k3_s22_e1_i16_o8_noskip r2_k5_s22_e3_i8_o16_se0.25_poolskip ds_r1_k3_s11_i16_o16 "
             "cn_r1_k3_s22_i16_o16_se0.25_poolskip r1_k3_s11_e6_i16_o16";
    c.train_subset = 512;
    c.epochs = 8;
    c.base_lr = 0.05;
    c.augment = "none";
    c.classifier_init = "zero";
    c.bn_decay = 0.9;  // running statistics that settle within 128 steps
    c.micro_batch = 0;
    c.ema_decay = 0;   // the trained weights themselves (an EMA of 0.9999 stays near initialisation)
    EXPECT_EQ(train(c).status, TrialStatus::kOk);
    return path;
  }();
  return ckpt;
}

TEST(Int8Export, CalibrationForwardIsTheNetworkAndRecordsEveryTensor) {
  CheckpointInfo info;
  model::MnasNet net = load_checkpoint_model(trained_checkpoint(), true, &info);
  net->eval();
  const LabelledImages calib = checkpoint_images(info, /*train=*/true, 40, 0);
  ASSERT_EQ(calib.images.size(0), 40);
  ASSERT_EQ(calib.labels.size(), 40u);
  EXPECT_EQ(calib.images.sizes(), (torch::IntArrayRef{40, 1, 16, 16}));
  torch::Tensor logits;
  const quant::Ranges r = calibrate(net, calib.images, /*batch=*/16, &logits);
  torch::NoGradGuard no_grad;
  const torch::Tensor want = net->forward(calib.images);
  EXPECT_LE((logits - want).abs().max().item<double>(), 1e-4);
  // The input's range is the images'; ReLU outputs are >= 0; the sigmoid
  // gates lie in (0, 1); a key per tensor the emitters quantize.
  EXPECT_FLOAT_EQ(quant::at(r, "input").min, calib.images.min().item<float>());
  EXPECT_FLOAT_EQ(quant::at(r, "input").max, calib.images.max().item<float>());
  EXPECT_GE(quant::at(r, "stem").min, 0.f);
  EXPECT_GE(quant::at(r, "blocks.1.se/gate").min, 0.f);
  EXPECT_LE(quant::at(r, "blocks.1.se/gate").max, 1.f);
  EXPECT_FLOAT_EQ(quant::at(r, "classifier/logits").max, want.max().item<float>());
  for (const char* k : {"blocks.0.depthwise", "blocks.1.expand", "blocks.1.se/pool", "blocks.1.se/out",
                        "residual:0/pool", "residual:0", "classifier/pool"}) {
    EXPECT_TRUE(r.count(k)) << k;
  }
  EXPECT_LT(quant::at(r, "blocks.1.project").min, 0.f);  // linear projection: no ReLU
  // The test images are the trainer's: its evaluation and the model on them agree.
  const LabelledImages test = checkpoint_images(info, /*train=*/false, 5000, 1);
  ASSERT_EQ(test.images.size(0), 1024);  // the whole synthetic test split
  TrainConfig data = tiny_run("");
  const double top1 = evaluate_checkpoint(trained_checkpoint(), data).top1;
  const double ours = net->forward(test.images).argmax(1).eq(torch::tensor(test.labels)).to(torch::kFloat64)
                          .mean().item<double>();
  EXPECT_NEAR(ours, top1, 1e-9);
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(Int8Export, OnnxQdqAgreesWithTheFloatModelInOnnxRuntime) {
  MNAS_SKIP_WITHOUT_ONNXRUNTIME();
  const std::string onnx = temp_path("int8.onnx"), f32 = temp_path("f32.onnx");
  ExportOptions o;
  o.checkpoint = trained_checkpoint();
  o.onnx_path = f32;
  o.onnx_int8_path = onnx;
  o.calibration = 64;
  o.int8_verify_images = 300;
  const ExportReport r = export_checkpoint(o);  // throws below 99 % agreement or above a 1-point drop
  EXPECT_EQ(r.calibration_images, 64);
  EXPECT_EQ(r.onnx_int8.images, 300);
  EXPECT_GE(r.onnx_int8.top1_agreement, 0.99);
  EXPECT_GT(r.onnx_int8.float_accuracy, 0.5) << "the tiny model did not learn: the check would mean little";
  EXPECT_LE(r.onnx_int8.float_accuracy - r.onnx_int8.accuracy, 0.01);
  EXPECT_NE(r.onnx_int8.runtime.find("ONNX Runtime"), std::string::npos);
  std::cout << "[ int8 ONNX ] agreement " << r.onnx_int8.top1_agreement << ", accuracy " << r.onnx_int8.accuracy
            << " (float " << r.onnx_int8.float_accuracy << "), max |logit diff| " << r.onnx_int8.max_abs_diff << "\n";
  // QDQ form: Quantize/DequantizeLinear nodes, int8 weights, int32 biases,
  // no float conv weight left; float input and logits.
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromString(read_all(onnx)));
  std::set<std::string> ops;
  for (const auto& n : m.graph().node()) ops.insert(n.op_type());
  EXPECT_TRUE(ops.count("QuantizeLinear") && ops.count("DequantizeLinear") && ops.count("Conv"));
  int int8_weights = 0, int32_biases = 0, float_big = 0;
  for (const auto& t : m.graph().initializer()) {
    if (t.data_type() == onnx::TensorProto::INT8 && t.dims_size() >= 2) ++int8_weights;
    if (t.data_type() == onnx::TensorProto::INT32 && t.name().rfind("bq", 0) == 0) ++int32_biases;
    if (t.data_type() == onnx::TensorProto::FLOAT && t.dims_size() >= 2) ++float_big;
  }
  EXPECT_GT(int8_weights, 10);
  EXPECT_EQ(int8_weights, int32_biases);
  EXPECT_EQ(float_big, 0);
  EXPECT_EQ(m.graph().input(0).type().tensor_type().elem_type(), onnx::TensorProto::FLOAT);
  EXPECT_EQ(m.graph().output(0).type().tensor_type().elem_type(), onnx::TensorProto::FLOAT);
  const auto json = export_report_json(r, o);
  EXPECT_EQ(json.at("onnx_int8").at("path"), onnx);
  EXPECT_EQ(json.at("onnx_int8").at("images"), 300);
  fs::remove(onnx);
  fs::remove(f32);
}

TEST(Int8Export, TfLiteInt8AgreesWithTheFloatModelInArmNn) {
  const std::string tfl = temp_path("int8.tflite"), f32 = temp_path("f32.tflite");
  ExportOptions o;
  o.checkpoint = trained_checkpoint();
  o.tflite_path = f32;
  o.tflite_int8_path = tfl;
  o.calibration = 64;
  o.int8_verify_images = 300;
  const ExportReport r = export_checkpoint(o);
  EXPECT_EQ(r.tflite_int8.images, 300);
  EXPECT_GE(r.tflite_int8.top1_agreement, 0.99);
  EXPECT_LE(r.tflite_int8.float_accuracy - r.tflite_int8.accuracy, 0.01);
  EXPECT_EQ(r.tflite_int8.runtime, tflite_runtime_name());
  std::cout << "[ int8 TFLite ] agreement " << r.tflite_int8.top1_agreement << ", accuracy "
            << r.tflite_int8.accuracy << " (float " << r.tflite_int8.float_accuracy << "), max |logit diff| "
            << r.tflite_int8.max_abs_diff << "; " << r.tflite_int8_bytes << " bytes vs float " << r.tflite_bytes
            << "\n";
  EXPECT_EQ(static_cast<long long>(fs::file_size(tfl)), r.tflite_int8_bytes);
  EXPECT_LT(r.tflite_int8_bytes, r.tflite_bytes);
  // The file takes float input and gives float logits: Arm NN runs it on
  // one image as on any other float model; 1 warm-up and 3 timed runs.
  const TfLiteRun run = run_tflite(tfl, std::vector<float>(16 * 16, 0.5f), /*repeat=*/3, /*warmup=*/1);
  EXPECT_EQ(run.output.size(), 4u);
  ASSERT_EQ(run.run_ms.size(), 3u);
  for (double ms : run.run_ms) EXPECT_GT(ms, 0.0);
  fs::remove(tfl);
  fs::remove(f32);
}

// The input quantization rule of --int8-io, by hand: the "input" tensor
// carries the parameters of the first activation, i.e. of the calibration
// images' range [min, max] (zero inside it): scale = (max - min) / 255 and
// zero point = round(-128 - min / scale), so the darkest calibration value
// becomes -128, the brightest 127 and 0 (the dataset mean) the zero point.
TEST(Int8Export, QuantizedIoInputCarriesTheCalibrationRangeParameters) {
  const std::string tfl = temp_path("int8io_rule.tflite");
  CheckpointInfo info;
  load_checkpoint_model(trained_checkpoint(), true, &info);
  const LabelledImages calib = checkpoint_images(info, /*train=*/true, 32, /*seed=*/0);  // what export calibrates on
  const double lo = calib.images.min().item<double>(), hi = calib.images.max().item<double>();
  ASSERT_LT(lo, 0.0);
  ASSERT_GT(hi, 0.0);
  const double scale = (hi - lo) / 255.0;
  const double zero_point = std::nearbyint(-128.0 - lo / scale);
  ExportOptions o;
  o.checkpoint = trained_checkpoint();
  o.tflite_int8_path = tfl;
  o.calibration = 32;
  o.int8_io = true;
  o.verify = false;
  const ExportReport r = export_checkpoint(o);
  EXPECT_NEAR(r.int8_input.scale, scale, 1e-6 * scale);
  EXPECT_EQ(r.int8_input.zero_point, zero_point);
  const TfLiteModelInfo file = read_tflite_model(tfl);
  EXPECT_EQ(file.input.type, "int8");
  ASSERT_TRUE(file.input.quantized);
  EXPECT_FLOAT_EQ(file.input.scale, r.int8_input.scale);
  EXPECT_EQ(file.input.zero_point, r.int8_input.zero_point);
  EXPECT_EQ(file.output.type, "int8");
  EXPECT_FLOAT_EQ(file.output.scale, r.int8_logits.scale);
  // real = scale * (q - zero point): 0.3 of a step above q = -100 is -100.
  const float values[] = {static_cast<float>(lo), static_cast<float>(hi), 0.f,
                          static_cast<float>(scale * (-100 - zero_point + 0.3))};
  const std::vector<int8_t> q = quant::quantize_values(values, 4, r.int8_input);
  EXPECT_EQ(q[0], -128);
  EXPECT_EQ(q[1], 127);
  EXPECT_EQ(q[2], zero_point);
  EXPECT_EQ(q[3], -100);
  const auto json = export_report_json(r, o);
  EXPECT_EQ(json.at("tflite_int8").at("io"), "int8");
  EXPECT_EQ(json["tflite_int8"].at("input_quantization").at("zero_point"), zero_point);
  fs::remove(tfl);
}

// int8 files with quantized I/O against their float-I/O twins (the same
// calibration) on the same test images, in both runtimes: the float images
// quantized with the input tensor's parameters, the int8 logits dequantized
// with the output's; the export's own verification passes too. No QUANTIZE /
// QuantizeLinear at the start, no DEQUANTIZE / DequantizeLinear at the end.
TEST(Int8Export, QuantizedIoFilesAgreeWithFloatIoFilesInBothRuntimes) {
  const bool ort = mnas::testing::onnxruntime_installed();
  const std::string f_tfl = temp_path("int8f.tflite"), q_tfl = temp_path("int8q.tflite");
  const std::string f_onnx = temp_path("int8f.onnx"), q_onnx = temp_path("int8q.onnx");
  ExportOptions o;
  o.checkpoint = trained_checkpoint();
  o.tflite_int8_path = f_tfl;
  if (ort) o.onnx_int8_path = f_onnx;
  o.calibration = 64;
  o.int8_verify_images = 300;
  const ExportReport rf = export_checkpoint(o);
  o.tflite_int8_path = q_tfl;
  if (ort) o.onnx_int8_path = q_onnx;
  o.int8_io = true;
  const ExportReport rq = export_checkpoint(o);  // verified: >= 99 % agreement with the float model
  EXPECT_EQ(rq.tflite_int8.images, 300);
  EXPECT_GE(rq.tflite_int8.top1_agreement, 0.99);
  std::cout << "[ int8 I/O TFLite ] agreement with float " << rq.tflite_int8.top1_agreement << " (float I/O "
            << rf.tflite_int8.top1_agreement << "), accuracy " << rq.tflite_int8.accuracy << "; input scale "
            << rq.int8_input.scale << " zero point " << rq.int8_input.zero_point << "; " << rq.tflite_int8_bytes
            << " bytes vs " << rf.tflite_int8_bytes << "\n";
  EXPECT_LT(rq.tflite_int8_operators, rf.tflite_int8_operators);  // no QUANTIZE, no DEQUANTIZE

  CheckpointInfo info;
  load_checkpoint_model(trained_checkpoint(), true, &info);
  const LabelledImages test = checkpoint_images(info, /*train=*/false, 200, /*seed=*/3);
  const int64_t n = test.images.size(0);
  const torch::Tensor nhwc = test.images.permute({0, 2, 3, 1}).contiguous();
  const auto argmax = [&](const std::vector<float>& logits) {
    return torch::from_blob(const_cast<float*>(logits.data()), {n, 4}, torch::kFloat32).argmax(1);
  };
  const auto agreement = [&](const torch::Tensor& a, const torch::Tensor& b) {
    return a.eq(b).to(torch::kFloat64).mean().item<double>();
  };
  // TFLite in Arm NN.
  const float* px = nhwc.data_ptr<float>();
  const TfLiteRun f = run_tflite(f_tfl, std::vector<float>(px, px + nhwc.numel()));
  const TfLiteRun q = run_tflite_int8(q_tfl, quant::quantize_values(px, nhwc.numel(), rq.int8_input));
  ASSERT_TRUE(q.output.empty());
  ASSERT_EQ(q.output_int8.size(), static_cast<size_t>(n * 4));
  const std::vector<float> q_logits = quant::dequantize_values(q.output_int8, rq.int8_logits);
  const double tfl_agree = agreement(argmax(f.output), argmax(q_logits));
  std::cout << "[ int8 I/O TFLite ] top-1 agreement with the float-I/O int8 file on " << n << " images: " << tfl_agree
            << "\n";
  EXPECT_GE(tfl_agree, 0.99);
  // A float input to the int8-input file is refused, saying why.
  try {
    run_tflite(q_tfl, std::vector<float>(16 * 16, 0.f));
    ADD_FAILURE() << "float input accepted by an int8 input";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("\"input\" tensor is int8, given float32"), std::string::npos) << e.what();
  }
  if (!ort) GTEST_SKIP() << "ONNX Runtime not installed: the ONNX half is skipped";
  // ONNX (QDQ) in ONNX Runtime.
  EXPECT_GE(rq.onnx_int8.top1_agreement, 0.99);
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromString(read_all(q_onnx)));
  EXPECT_EQ(m.graph().input(0).type().tensor_type().elem_type(), onnx::TensorProto::INT8);
  EXPECT_EQ(m.graph().output(0).type().tensor_type().elem_type(), onnx::TensorProto::INT8);
  for (const auto& node : m.graph().node()) {
    if (node.op_type() == "QuantizeLinear") {
      EXPECT_NE(node.input(0), "input");
    }
    if (node.op_type() == "DequantizeLinear") {
      EXPECT_NE(node.output(0), "logits");
    }
  }
  onnxruntime::Tensor fin, qin;
  fin.shape = qin.shape = {1, 1, 16, 16};
  fin.data.assign(test.images.data_ptr<float>(), test.images.data_ptr<float>() + test.images.numel());
  qin.int8 = quant::quantize_values(test.images.data_ptr<float>(), test.images.numel(), rq.int8_input);
  const onnxruntime::Result fo = onnxruntime::run(f_onnx, fin);
  const onnxruntime::Result qo = onnxruntime::run(q_onnx, qin);
  ASSERT_TRUE(qo.output.is_int8());
  const double onnx_agree =
      agreement(argmax(fo.output.data), argmax(quant::dequantize_values(qo.output.int8, rq.int8_logits)));
  std::cout << "[ int8 I/O ONNX ] top-1 agreement with the float-I/O int8 file on " << n << " images: " << onnx_agree
            << "\n";
  EXPECT_GE(onnx_agree, 0.99);
  for (const auto& p : {f_tfl, q_tfl, f_onnx, q_onnx}) fs::remove(p);
}

TEST(Int8Export, BadOptionsAndClashingPathsWriteNothing) {
  const std::string out = temp_path("int8_bad.onnx");
  ExportOptions o;
  o.checkpoint = trained_checkpoint();
  o.onnx_int8_path = out;
  o.calibration = 0;
  try {
    export_checkpoint(o);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--calibration must be >= 1 image, got 0"), std::string::npos) << e.what();
  }
  o.calibration = 8;
  o.int8_min_agreement = 1.5;
  EXPECT_THROW(export_checkpoint(o), ConfigError);
  o.int8_min_agreement = 0.99;
  o.tflite_int8_path = out;
  try {
    export_checkpoint(o);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--tflite-int8 '" + out + "' and --onnx-int8"), std::string::npos)
        << e.what();
  }
  o.tflite_int8_path.clear();
  o.onnx_int8_path = o.checkpoint;
  EXPECT_THROW(export_checkpoint(o), ConfigError);
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace mnas::train
