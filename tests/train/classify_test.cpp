// Image preparation and scoring of mnas_classify (train/classify.h) against
// values computed here by hand: hand-built ONNX graphs that return their
// (normalised) input pixels as logits, run in ONNX Runtime, so the top labels
// and probabilities follow from the image, the normalisation and a softmax.
// TFLite files (Arm NN): an exported tiny model against its checkpoint, its
// metadata, and damaged files.
#include "tests/common/onnxruntime_available.h"
#include "train/classify.h"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "common/error.h"
#include "tests/train/tiny_run.h"
#include "train/export.h"
#include "train/tflite_model.h"
#include "train/tflite_runtime.h"

namespace mnas::train {
namespace {

namespace fs = std::filesystem;
using test_util::temp_path;

// input [1, c, s, s] -> Flatten -> logits [1, c*s*s], optional mnas metadata.
std::string write_flatten_model(const std::string& path, int c, int s,
                                const std::vector<std::pair<std::string, std::string>>& meta = {}) {
  onnx::ModelProto m;
  m.set_ir_version(7);
  m.add_opset_import()->set_version(13);
  for (const auto& [k, v] : meta) {
    auto* e = m.add_metadata_props();
    e->set_key(k);
    e->set_value(v);
  }
  auto* g = m.mutable_graph();
  g->set_name("flatten");
  auto* in = g->add_input();
  in->set_name("input");
  auto* it = in->mutable_type()->mutable_tensor_type();
  it->set_elem_type(onnx::TensorProto::FLOAT);
  for (int d : {1, c, s, s}) it->mutable_shape()->add_dim()->set_dim_value(d);
  auto* out = g->add_output();
  out->set_name("logits");
  auto* ot = out->mutable_type()->mutable_tensor_type();
  ot->set_elem_type(onnx::TensorProto::FLOAT);
  for (int d : {1, c * s * s}) ot->mutable_shape()->add_dim()->set_dim_value(d);
  auto* n = g->add_node();
  n->set_op_type("Flatten");
  n->add_input("input");
  n->add_output("logits");
  std::ofstream f(path, std::ios::binary);
  m.SerializeToOstream(&f);
  return path;
}

std::vector<double> softmax(const std::vector<double>& x) {
  double mx = x[0], sum = 0;
  for (double v : x) mx = std::max(mx, v);
  std::vector<double> p;
  for (double v : x) sum += std::exp(v - mx);
  for (double v : x) p.push_back(std::exp(v - mx) / sum);
  return p;
}

// A 4x4 grayscale image drawn as 8x8 (2x2 blocks: mnas_classify resizes it
// back exactly); an ONNX file without mnas metadata: Fashion-MNIST's
// normalisation is assumed, and the logits are the normalised pixels.
TEST(ClassifyTest, OnnxWithoutMetadataAssumesFashionMnistNormalisation) {
  MNAS_SKIP_WITHOUT_ONNXRUNTIME();
  const std::string model = write_flatten_model(temp_path("classify_flat1.onnx"), 1, 4);
  const std::string png = temp_path("classify_gray.png");
  cv::Mat img(8, 8, CV_8UC1);
  std::vector<int> px(16);
  for (int i = 0; i < 16; ++i) px[i] = (i * 37 + 11) % 256;  // pixel i of the 4x4 image
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x) img.at<uint8_t>(y, x) = static_cast<uint8_t>(px[(y / 2) * 4 + x / 2]);
  ASSERT_TRUE(cv::imwrite(png, img));
  std::vector<double> logits;
  for (int v : px) logits.push_back((v / 255.0 - 0.2860) / 0.3530);
  const auto want = softmax(logits);

  ClassifyOptions o;
  o.model = model;
  o.top_k = 3;
  const auto r = classify_images(o, {png});
  EXPECT_EQ(r.runtime, "ONNX Runtime 1.30.0");
  EXPECT_EQ(r.image_size, 4);
  EXPECT_EQ(r.channels, 1);
  EXPECT_NE(r.normalisation.find("assumed"), std::string::npos) << r.normalisation;
  ASSERT_EQ(r.images.size(), 1u);
  ASSERT_EQ(r.images[0].top.size(), 3u) << r.images[0].error;
  // The three brightest pixels, in order.
  std::vector<int> order(16);
  for (int i = 0; i < 16; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](int a, int b) { return px[a] > px[b]; });
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(r.images[0].top[k].index, order[k]);
    EXPECT_EQ(r.images[0].top[k].label, "class" + std::to_string(order[k]));
    EXPECT_NEAR(r.images[0].top[k].probability, want[order[k]], 1e-6);
  }
  fs::remove(model);
  fs::remove(png);
}

// 3 channels with mnas metadata: BGR files become RGB, each channel gets its
// own mean and stddev, the class names come from the metadata.
TEST(ClassifyTest, OnnxMetadataGivesNormalisationAndNamesPerRgbChannel) {
  MNAS_SKIP_WITHOUT_ONNXRUNTIME();
  std::vector<std::string> names;
  for (int i = 0; i < 12; ++i) names.push_back("n" + std::to_string(i));
  const std::string model = write_flatten_model(
      temp_path("classify_flat3.onnx"), 3, 2,
      {{kOnnxMetaDataset, "folder"},
       {kOnnxMetaMean, "[0.5, 0.25, 0.0]"},
       {kOnnxMetaStddev, "[0.5, 0.25, 1.0]"},
       {kOnnxMetaEvalCrop, "1.0"},
       {kOnnxMetaClassNames, nlohmann::json(names).dump()}});
  const std::string png = temp_path("classify_rgb.png");
  // Pixel (y, x) has R = 200 + x, G = 100 + x + y, B = 10 * (x + y) (OpenCV stores BGR).
  cv::Mat img(2, 2, CV_8UC3);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 2; ++x) img.at<cv::Vec3b>(y, x) = cv::Vec3b(10 * (x + y), 100 + x + y, 200 + x);
  ASSERT_TRUE(cv::imwrite(png, img));
  const double mean[3] = {0.5, 0.25, 0.0}, sd[3] = {0.5, 0.25, 1.0};
  std::vector<double> logits;  // CHW: R plane, G plane, B plane
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 2; ++x) {
        const int v = c == 0 ? 200 + x : c == 1 ? 100 + x + y : 10 * (x + y);
        logits.push_back((v / 255.0 - mean[c]) / sd[c]);
      }
  const auto want = softmax(logits);
  ClassifyOptions o;
  o.model = model;
  o.top_k = 12;
  const auto r = classify_images(o, {png});
  EXPECT_EQ(r.normalisation, "folder (ONNX metadata)");
  ASSERT_EQ(r.images[0].top.size(), 12u) << r.images[0].error;
  for (const auto& p : r.images[0].top) {
    EXPECT_EQ(p.label, names[p.index]);
    EXPECT_NEAR(p.probability, want[p.index], 1e-6) << p.index;
  }
  // The largest logit is G at (1, 1): (102/255 - 0.25) / 0.25 = 0.6, above R
  // at x = 1: (201/255 - 0.5) / 0.5 = 0.576 (indices 1 and 3).
  EXPECT_EQ(r.images[0].top[0].index, 4 + 3);
  EXPECT_EQ(r.images[0].top[0].label, "n7");
  fs::remove(model);
  fs::remove(png);
}

TEST(ClassifyTest, RefusesBadModelsAndOptions) {
  const std::string png = temp_path("classify_one.png");
  ASSERT_TRUE(cv::imwrite(png, cv::Mat(4, 4, CV_8UC1, cv::Scalar(7))));
  ClassifyOptions o;
  o.model = write_flatten_model(temp_path("classify_flat2.onnx"), 2, 4);  // 2 channels: no image has them
  EXPECT_THROW(classify_images(o, {png}), Error);
  o.top_k = 0;
  EXPECT_THROW(classify_images(o, {png}), ConfigError);
  o.top_k = 5;
  o.model = temp_path("classify_missing.onnx");
  EXPECT_THROW(classify_images(o, {png}), Error);
  fs::remove(temp_path("classify_flat2.onnx"));
  fs::remove(png);
}

// A checkpoint of the tiny synthetic model and its TFLite export (with the
// "mnas" metadata), made once for the TFLite tests below.
struct TfLiteFixture {
  std::string ckpt, tflite;
};
const TfLiteFixture& tflite_fixture() {
  static const TfLiteFixture f = [] {
    TfLiteFixture r;
    r.ckpt = test_util::tiny_checkpoint("classify_tfl.ckpt", 4);
    r.tflite = temp_path("classify_tfl.tflite");
    ExportOptions o;
    o.checkpoint = r.ckpt;
    o.tflite_path = r.tflite;
    export_checkpoint(o);  // verified in Arm NN: the metadata does not disturb its parser
    return r;
  }();
  return f;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// The exported file declares what mnas_classify needs: NHWC input shape,
// float I/O and the "mnas" metadata object (the synthetic set's
// normalisation, one value per channel).
TEST(ClassifyTfLite, ExportCarriesShapeAndMnasMetadata) {
  const TfLiteModelInfo info = read_tflite_model(tflite_fixture().tflite);
  EXPECT_EQ(info.input.name, "input");
  EXPECT_EQ(info.input.shape, (std::vector<int>{1, 16, 16, 1}));
  EXPECT_EQ(info.input.type, "float32");
  EXPECT_FALSE(info.input.quantized);
  EXPECT_EQ(info.output.name, "logits");
  EXPECT_EQ(info.output.shape, (std::vector<int>{1, 4}));
  ASSERT_EQ(info.metadata.count(kTfLiteMetadataName), 1u);
  const auto j = nlohmann::json::parse(info.metadata.at(kTfLiteMetadataName));
  EXPECT_EQ(j.at("dataset"), "synthetic");
  EXPECT_EQ(j.at("mean"), nlohmann::json::array({0.5f}));
  EXPECT_EQ(j.at("stddev"), nlohmann::json::array({0.35f}));
  EXPECT_EQ(j.at("eval_crop").get<double>(), 0.875);  // the trainer's default (the reference's eval crop)
  EXPECT_TRUE(j.at("class_names").empty());
}

// The same images through the checkpoint (LibTorch) and the TFLite file
// (Arm NN): the same top-1, probabilities within 1e-4; an unreadable image
// among them gets its error and the others are still classified.
TEST(ClassifyTfLite, AgreesWithTheCheckpointImageByImage) {
  std::vector<std::string> files;
  for (int i = 0; i < 3; ++i) {
    cv::Mat img(20 + 7 * i, 24, CV_8UC1);
    cv::randu(img, 0, 256);
    files.push_back(temp_path("classify_tfl_" + std::to_string(i) + ".png"));
    ASSERT_TRUE(cv::imwrite(files.back(), img));
  }
  const std::string broken = temp_path("classify_tfl_broken.png");
  write_all(broken, "\x89PNG\r\n\x1a\n not the rest of a PNG");
  files.insert(files.begin() + 1, broken);
  ClassifyOptions o;
  o.top_k = 4;
  o.model = tflite_fixture().ckpt;
  const ClassifyRun c = classify_images(o, files);
  o.model = tflite_fixture().tflite;
  const ClassifyRun t = classify_images(o, files);
  EXPECT_EQ(t.runtime, tflite_runtime_name());
  EXPECT_EQ(t.io, "float32");
  EXPECT_EQ(t.image_size, 16);
  EXPECT_EQ(t.channels, 1);
  EXPECT_EQ(t.normalisation, "synthetic (TFLite metadata)");
  EXPECT_EQ(t.failed(), 1);
  ASSERT_EQ(t.images.size(), files.size());
  EXPECT_NE(t.images[1].error.find("cannot decode '" + broken + "'"), std::string::npos) << t.images[1].error;
  for (size_t i : {0u, 2u, 3u}) {
    ASSERT_EQ(c.images[i].top.size(), 4u) << c.images[i].error;
    ASSERT_EQ(t.images[i].top.size(), 4u) << t.images[i].error;
    EXPECT_EQ(c.images[i].top[0].index, t.images[i].top[0].index) << files[i];
    for (size_t k = 0; k < 4; ++k) {
      EXPECT_EQ(c.images[i].top[k].index, t.images[i].top[k].index) << files[i] << " rank " << k;
      EXPECT_NEAR(c.images[i].top[k].probability, t.images[i].top[k].probability, 1e-4) << files[i];
    }
  }
  for (const auto& f : files) fs::remove(f);
}

// Damaged TFLite files are refused with an error that names the file and
// says what is wrong; the suffix or the identifier makes a file TFLite.
TEST(ClassifyTfLite, TruncatedOrCorruptFilesGiveAClearError) {
  const std::string png = temp_path("classify_tfl_one.png");
  ASSERT_TRUE(cv::imwrite(png, cv::Mat(4, 4, CV_8UC1, cv::Scalar(7))));
  const std::string bytes = read_all(tflite_fixture().tflite);
  ASSERT_GT(bytes.size(), 1000u);
  EXPECT_EQ(bytes.substr(4, 4), "TFL3");
  const auto expect_error = [&](const std::string& path, const std::string& what) {
    ClassifyOptions o;
    o.model = path;
    try {
      classify_images(o, {png});
      ADD_FAILURE() << path << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("'" + path + "'"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  // temp_path appends the process id: the suffix goes after it.
  const std::string cut = temp_path("classify_tfl_cut") + ".tflite";
  write_all(cut, bytes.substr(0, bytes.size() / 2));
  expect_error(cut, "does not verify against the TFLite schema (truncated or corrupt");
  // The identifier alone, no suffix: still read as TFLite.
  const std::string stub = temp_path("classify_tfl_stub.bin");
  write_all(stub, bytes.substr(0, 12));
  expect_error(stub, "does not verify against the TFLite schema");
  // The suffix without the identifier.
  const std::string text = temp_path("classify_tfl_text") + ".tflite";
  write_all(text, "this is not a flatbuffer at all");
  expect_error(text, "is not a TFLite file (no \"TFL3\" identifier");
  // Offsets pointing outside the file: the root offset beyond the end.
  std::string bad_root = bytes;
  bad_root[0] = '\xff';
  bad_root[1] = '\xff';
  bad_root[2] = '\xff';
  const std::string corrupt = temp_path("classify_tfl_corrupt") + ".tflite";
  write_all(corrupt, bad_root);
  expect_error(corrupt, "truncated or corrupt");
  for (const auto& f : {cut, stub, text, corrupt, png}) fs::remove(f);
}

}  // namespace
}  // namespace mnas::train
