// Dataset readers, the held-out split and the preprocessing.
#include "train/datasets.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <set>

#include "common/error.h"

namespace mnas::train {
namespace {

namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) {
  const fs::path p = fs::temp_directory_path() / ("mnas_train_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

TEST(FashionMnistTest, ReadsTheDebianIdxFiles) {
  if (!fs::exists(std::string(kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  }
  const Dataset test = load_fashion_mnist("", false);
  EXPECT_EQ(test.size(), 10000);
  EXPECT_EQ(test.height, 28);
  EXPECT_EQ(test.channels, 1);
  EXPECT_EQ(test.pixels.size(), 10000u * 28 * 28);
  // The first test image is an ankle boot (class 9), the second a pullover (2).
  EXPECT_EQ(test.labels[0], 9);
  EXPECT_EQ(test.labels[1], 2);
  std::vector<int> count(10, 0);
  for (int l : test.labels) ++count[l];
  for (int c : count) EXPECT_EQ(c, 1000);  // balanced test set
}

TEST(FashionMnistTest, MissingFilesNameThePath) {
  try {
    load_fashion_mnist("/nonexistent-dir", true);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/train-images-idx3-ubyte.gz"), std::string::npos);
  }
}

TEST(Cifar10Test, ReadsPlanarRecordsAsHwc) {
  const fs::path dir = temp_dir("cifar");
  std::vector<uint8_t> rec(3073 * 2, 0);
  rec[0] = 3;
  rec[1] = 10;          // R of pixel 0
  rec[1 + 1024] = 20;   // G of pixel 0
  rec[1 + 2048] = 30;   // B of pixel 0
  rec[3073] = 7;
  std::ofstream(dir / "test_batch.bin", std::ios::binary).write(reinterpret_cast<char*>(rec.data()), rec.size());
  const Dataset d = load_cifar10(dir.string(), false);
  ASSERT_EQ(d.size(), 2);
  EXPECT_EQ(d.labels[0], 3);
  EXPECT_EQ(d.labels[1], 7);
  EXPECT_EQ(d.pixels[0], 10);
  EXPECT_EQ(d.pixels[1], 20);
  EXPECT_EQ(d.pixels[2], 30);
  std::ofstream(dir / "test_batch.bin", std::ios::binary) << "short";
  EXPECT_THROW(load_cifar10(dir.string(), false), Error);
  fs::remove_all(dir);
}

TEST(ImageFolderTest, ClassesAreSortedSubfoldersAndErrorsAreClear) {
  const fs::path dir = temp_dir("folder");
  fs::create_directories(dir / "b_dog");
  fs::create_directories(dir / "a_cat");
  cv::Mat img(20, 40, CV_8UC3, cv::Scalar(0, 0, 255));  // BGR red
  cv::imwrite((dir / "a_cat" / "1.png").string(), img);
  cv::imwrite((dir / "b_dog" / "1.jpg").string(), img);
  cv::imwrite((dir / "b_dog" / "2.PNG").string(), img);
  const Dataset d = load_image_folder(dir.string());
  EXPECT_EQ(d.num_classes, 2);
  EXPECT_EQ(d.class_names[0], "a_cat");
  EXPECT_EQ(d.labels, (std::vector<int>{0, 1, 1}));
  // Eval preprocessing: centre crop + resize, RGB order, ImageNet mean/std.
  PipelineOptions o;
  o.image_size = 8;
  o.train = false;
  o.eval_crop = 0.875;
  std::vector<float> out(8 * 8 * 3);
  load_sample(d, 0, o, 0, out.data());
  EXPECT_NEAR(out[0], (1.0 - 0.485) / 0.229, 1e-5);
  EXPECT_NEAR(out[1], (0.0 - 0.456) / 0.224, 1e-5);
  // A corrupt image fails naming the file.
  std::ofstream(dir / "a_cat" / "bad.jpg") << "not a jpeg";
  const Dataset bad = load_image_folder(dir.string());
  try {
    load_sample(bad, 1, o, 0, out.data());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.jpg"), std::string::npos);
  }
  fs::create_directories(dir / "c_empty");
  try {
    load_image_folder(dir.string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("c_empty"), std::string::npos);
  }
  EXPECT_THROW(load_image_folder((dir / "missing").string()), Error);
  fs::remove_all(dir);
}

TEST(HoldoutSplitTest, SeededDisjointAndReproducible) {
  const Dataset d = make_synthetic(100, 8, 1, 3, 7);
  // Tag every image by its first pixel index through a label-free check: use
  // a dataset whose pixel 0 is the image index.
  Dataset tagged = d;
  for (int64_t i = 0; i < d.size(); ++i) tagged.pixels[i * 64] = static_cast<uint8_t>(i);
  const Split a = holdout_split(tagged, 20, 50, 5);
  const Split b = holdout_split(tagged, 20, 50, 5);
  const Split c = holdout_split(tagged, 20, 50, 6);
  ASSERT_EQ(a.val.size(), 20);
  ASSERT_EQ(a.train.size(), 50);
  EXPECT_EQ(a.val.pixels, b.val.pixels);
  EXPECT_NE(a.val.pixels, c.val.pixels);
  std::set<int> val_ids, train_ids;
  for (int64_t i = 0; i < 20; ++i) val_ids.insert(a.val.pixels[i * 64]);
  for (int64_t i = 0; i < 50; ++i) train_ids.insert(a.train.pixels[i * 64]);
  for (int id : val_ids) EXPECT_EQ(train_ids.count(id), 0u);
  EXPECT_THROW(holdout_split(tagged, 90, 20, 0), ConfigError);
}

TEST(BatchStreamTest, ResumedStreamYieldsTheSameBatches) {
  const Dataset d = make_synthetic(50, 16, 1, 4, 1);
  PipelineOptions o;
  o.image_size = 12;
  o.augment = Augment::kCropFlip;
  o.batch_size = 8;
  o.seed = 3;
  BatchStream full(d, o, 2);
  EXPECT_EQ(full.num_batches(), 6);  // 50 / 8, last partial batch dropped
  std::vector<Batch> all;
  Batch b;
  while (full.next(b)) all.push_back(b);
  ASSERT_EQ(all.size(), 6u);
  BatchStream tail(d, o, 2, 4);
  ASSERT_TRUE(tail.next(b));
  EXPECT_EQ(b.images, all[4].images);
  EXPECT_EQ(b.labels, all[4].labels);
  BatchStream other_epoch(d, o, 3);
  ASSERT_TRUE(other_epoch.next(b));
  EXPECT_NE(b.images, all[0].images);
}

}  // namespace
}  // namespace mnas::train
