#include "train/datasets.h"

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "common/error.h"

namespace mnas::train {
namespace {

namespace fs = std::filesystem;

// splitmix64: independent streams from (seed, a, b) for per-image RNGs.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
uint64_t mix3(uint64_t a, uint64_t b, uint64_t c) { return mix(mix(mix(a) ^ b) ^ c); }

std::vector<uint8_t> read_gzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw Error("cannot open '" + path + "' (install dataset-fashion-mnist or pass --data)");
  std::vector<uint8_t> out;
  std::vector<uint8_t> buf(1 << 16);
  int n = 0;
  while ((n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()))) > 0) {
    out.insert(out.end(), buf.begin(), buf.begin() + n);
  }
  int err = 0;
  const char* msg = gzerror(f, &err);
  const std::string what = (n < 0 || err < 0) ? std::string(msg ? msg : "read error") : "";
  gzclose(f);
  if (!what.empty()) throw Error("'" + path + "': corrupt gzip: " + what);
  return out;
}

uint32_t be32(const std::vector<uint8_t>& b, size_t at) {
  return (uint32_t(b[at]) << 24) | (uint32_t(b[at + 1]) << 16) | (uint32_t(b[at + 2]) << 8) | b[at + 3];
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open '" + path + "'");
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// Resizes `src` to size x size (bilinear; area when shrinking a lot).
cv::Mat resize_to(const cv::Mat& src, int size) {
  if (src.rows == size && src.cols == size) return src;
  cv::Mat out;
  const bool shrink = src.rows > 2 * size && src.cols > 2 * size;
  cv::resize(src, out, cv::Size(size, size), 0, 0, shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
  return out;
}

cv::Rect centre_crop(int h, int w, double fraction) {
  const int c = std::max(1, static_cast<int>(fraction * std::min(h, w)));
  // Reference offsets: ((h - c) + 1) / 2.
  return cv::Rect(((w - c) + 1) / 2, ((h - c) + 1) / 2, c, c);
}

// Inception-style random crop (TF sample_distorted_bounding_box with area
// 0.08-1 and aspect 3/4-4/3, 10 attempts); falls back to the centre crop.
bool inception_crop(int h, int w, std::mt19937_64& rng, cv::Rect& out) {
  std::uniform_real_distribution<double> area_d(0.08, 1.0), aspect_d(3.0 / 4.0, 4.0 / 3.0);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double area = area_d(rng) * h * w;
    const double aspect = aspect_d(rng);
    const int cw = static_cast<int>(std::lround(std::sqrt(area * aspect)));
    const int ch = static_cast<int>(std::lround(std::sqrt(area / aspect)));
    if (cw < 1 || ch < 1 || cw > w || ch > h) continue;
    std::uniform_int_distribution<int> x(0, w - cw), y(0, h - ch);
    out = cv::Rect(x(rng), y(rng), cw, ch);
    return true;
  }
  return false;
}

}  // namespace

DatasetTraits dataset_traits(const std::string& kind) {
  DatasetTraits t;
  if (kind == "fashion-mnist") {
    t.class_names = {"t-shirt", "trouser", "pullover", "dress", "coat",
                     "sandal",  "shirt",   "sneaker",  "bag",   "ankle-boot"};
    t.mean = {0.2860f, 0.2860f, 0.2860f};  // Fashion-MNIST train statistics
    t.stddev = {0.3530f, 0.3530f, 0.3530f};
  } else if (kind == "cifar10") {
    t.class_names = {"airplane", "automobile", "bird", "cat", "deer",
                     "dog",      "frog",       "horse", "ship", "truck"};
    t.mean = {0.4914f, 0.4822f, 0.4465f};
    t.stddev = {0.2470f, 0.2435f, 0.2616f};
  } else if (kind == "folder") {
    t.mean = {0.485f, 0.456f, 0.406f};  // ImageNet, reference section 8
    t.stddev = {0.229f, 0.224f, 0.225f};
  } else if (kind == "synthetic") {
    t.mean = {0.5f, 0.5f, 0.5f};
    t.stddev = {0.35f, 0.35f, 0.35f};
  } else {
    throw ConfigError("unknown dataset '" + kind + "' (expected fashion-mnist, cifar10, folder or synthetic)");
  }
  return t;
}

Dataset load_fashion_mnist(const std::string& dir_in, bool train) {
  const std::string dir = dir_in.empty() ? kFashionMnistDir : dir_in;
  const std::string prefix = dir + "/" + (train ? "train" : "t10k");
  const std::string img_path = prefix + "-images-idx3-ubyte.gz";
  const std::string lbl_path = prefix + "-labels-idx1-ubyte.gz";
  const auto img = read_gzip(img_path);
  const auto lbl = read_gzip(lbl_path);
  if (img.size() < 16 || be32(img, 0) != 2051) throw Error("'" + img_path + "': not an IDX3 image file");
  if (lbl.size() < 8 || be32(lbl, 0) != 2049) throw Error("'" + lbl_path + "': not an IDX1 label file");
  const uint32_t n = be32(img, 4), h = be32(img, 8), w = be32(img, 12);
  if (img.size() != 16 + size_t(n) * h * w) throw Error("'" + img_path + "': truncated");
  if (be32(lbl, 4) != n || lbl.size() != 8 + size_t(n)) {
    throw Error("'" + lbl_path + "': label count does not match " + img_path);
  }
  Dataset d;
  d.name = "fashion-mnist";
  d.num_classes = 10;
  d.channels = 1;
  d.height = static_cast<int>(h);
  d.width = static_cast<int>(w);
  d.pixels.assign(img.begin() + 16, img.end());
  d.labels.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    if (lbl[8 + i] > 9) throw Error("'" + lbl_path + "': label " + std::to_string(lbl[8 + i]) + " > 9");
    d.labels.push_back(lbl[8 + i]);
  }
  const DatasetTraits t = dataset_traits("fashion-mnist");
  d.class_names = t.class_names;
  d.mean = t.mean;
  d.stddev = t.stddev;
  return d;
}

Dataset load_cifar10(const std::string& dir, bool train) {
  if (dir.empty()) throw Error("cifar10 needs a data path (the cifar-10-batches-bin folder)");
  std::vector<std::string> names;
  if (train) {
    for (int i = 1; i <= 5; ++i) names.push_back("data_batch_" + std::to_string(i) + ".bin");
  } else {
    names.push_back("test_batch.bin");
  }
  Dataset d;
  d.name = "cifar10";
  d.num_classes = 10;
  d.channels = 3;
  d.height = d.width = 32;
  constexpr size_t kRecord = 1 + 3 * 32 * 32;
  for (const auto& name : names) {
    const std::string path = dir + "/" + name;
    const auto bytes = read_file(path);
    if (bytes.empty() || bytes.size() % kRecord != 0) {
      throw Error("'" + path + "': size " + std::to_string(bytes.size()) +
                  " is not a multiple of the 3073-byte CIFAR-10 record");
    }
    for (size_t r = 0; r < bytes.size() / kRecord; ++r) {
      const uint8_t* rec = bytes.data() + r * kRecord;
      if (rec[0] > 9) throw Error("'" + path + "': label " + std::to_string(rec[0]) + " > 9");
      d.labels.push_back(rec[0]);
      // Planar RGB -> interleaved HWC.
      for (int p = 0; p < 32 * 32; ++p) {
        for (int c = 0; c < 3; ++c) d.pixels.push_back(rec[1 + c * 1024 + p]);
      }
    }
  }
  const DatasetTraits t = dataset_traits("cifar10");
  d.class_names = t.class_names;
  d.mean = t.mean;
  d.stddev = t.stddev;
  return d;
}

Dataset load_image_folder(const std::string& dir) {
  if (dir.empty() || !fs::is_directory(dir)) throw Error("image folder '" + dir + "' does not exist");
  Dataset d;
  d.name = "folder";
  d.channels = 3;
  std::vector<fs::path> classes;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_directory()) classes.push_back(e.path());
  }
  std::sort(classes.begin(), classes.end());
  if (classes.empty()) throw Error("image folder '" + dir + "' has no class sub-folders");
  for (size_t c = 0; c < classes.size(); ++c) {
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(classes[c])) {
      if (!e.is_regular_file()) continue;
      std::string ext = e.path().extension().string();
      std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return std::tolower(ch); });
      if (ext == ".jpg" || ext == ".jpeg" || ext == ".png") files.push_back(e.path().string());
    }
    if (files.empty()) throw Error("class folder '" + classes[c].string() + "' has no .jpg/.jpeg/.png images");
    std::sort(files.begin(), files.end());
    for (auto& f : files) {
      d.files.push_back(std::move(f));
      d.labels.push_back(static_cast<int>(c));
    }
    d.class_names.push_back(classes[c].filename().string());
  }
  d.num_classes = static_cast<int>(classes.size());
  d.mean = dataset_traits("folder").mean;
  d.stddev = dataset_traits("folder").stddev;
  d.bad_images = std::make_shared<BadImages>();
  return d;
}

Dataset make_synthetic(int64_t n, int size, int channels, int num_classes, uint64_t seed) {
  if (n < 1 || size < 8 || channels < 1 || channels > 3 || num_classes < 2) {
    throw ConfigError("synthetic dataset: need n >= 1, size >= 8, 1..3 channels, >= 2 classes");
  }
  Dataset d;
  d.name = "synthetic";
  d.num_classes = num_classes;
  d.channels = channels;
  d.height = d.width = size;
  // Class templates from a constant seed: the dataset is the same everywhere.
  std::mt19937_64 trng(0x5eed);
  std::vector<cv::Mat> templates;
  for (int c = 0; c < num_classes; ++c) {
    cv::Mat t(8, 8, CV_8UC(channels));
    for (int i = 0; i < 8 * 8 * channels; ++i) t.data[i] = (trng() & 1) ? 200 : 40;
    cv::Mat big;
    cv::resize(t, big, cv::Size(size, size), 0, 0, cv::INTER_NEAREST);
    templates.push_back(big);
  }
  std::mt19937_64 rng(mix(seed));
  std::normal_distribution<float> noise(0.f, 30.f);
  const size_t per = size_t(size) * size * channels;
  d.pixels.resize(per * n);
  for (int64_t i = 0; i < n; ++i) {
    const int label = static_cast<int>(rng() % num_classes);
    d.labels.push_back(label);
    const uint8_t* t = templates[label].data;
    for (size_t p = 0; p < per; ++p) {
      d.pixels[i * per + p] = static_cast<uint8_t>(std::clamp(t[p] + noise(rng), 0.f, 255.f));
    }
  }
  for (int c = 0; c < num_classes; ++c) d.class_names.push_back("class" + std::to_string(c));
  d.mean = dataset_traits("synthetic").mean;
  d.stddev = dataset_traits("synthetic").stddev;
  return d;
}

Dataset load_dataset(const std::string& kind, const std::string& path, bool train, int synthetic_classes) {
  if (kind == "fashion-mnist") return load_fashion_mnist(path, train);
  if (kind == "cifar10") return load_cifar10(path, train);
  if (kind == "folder") {
    if (path.empty()) throw Error("the folder dataset needs a path (--data DIR with train/ and val/)");
    return load_image_folder(path + (train ? "/train" : "/val"));
  }
  if (kind == "synthetic") return make_synthetic(train ? 4096 : 1024, 16, 1, synthetic_classes, train ? 1 : 2);
  throw ConfigError("unknown dataset '" + kind + "' (expected fashion-mnist, cifar10, folder or synthetic)");
}

Dataset subset(const Dataset& d, const std::vector<int64_t>& indices) {
  Dataset s = d;
  s.pixels.clear();
  s.files.clear();
  s.labels.clear();
  const size_t per = size_t(d.height) * d.width * d.channels;
  if (d.in_memory()) s.pixels.reserve(per * indices.size());
  for (int64_t i : indices) {
    if (d.in_memory()) {
      s.pixels.insert(s.pixels.end(), d.pixels.begin() + i * per, d.pixels.begin() + (i + 1) * per);
    } else {
      s.files.push_back(d.files[i]);
    }
    s.labels.push_back(d.labels[i]);
  }
  return s;
}

Split holdout_split(const Dataset& d, int64_t val_size, int64_t train_size, uint64_t seed) {
  if (val_size < 0 || train_size < 0 || val_size + std::max<int64_t>(train_size, 1) > d.size()) {
    throw ConfigError("held-out split: " + d.name + " has " + std::to_string(d.size()) +
                      " training images, cannot hold out " + std::to_string(val_size) +
                      " and train on " + std::to_string(train_size == 0 ? 1 : train_size));
  }
  std::vector<int64_t> perm(d.size());
  std::iota(perm.begin(), perm.end(), 0);
  std::mt19937_64 rng(mix(seed ^ 0x6a09e667f3bcc908ULL));
  for (int64_t i = d.size() - 1; i > 0; --i) {
    std::swap(perm[i], perm[rng() % static_cast<uint64_t>(i + 1)]);
  }
  const int64_t n_train = train_size == 0 ? d.size() - val_size : train_size;
  Split s;
  s.val = subset(d, std::vector<int64_t>(perm.begin(), perm.begin() + val_size));
  s.train = subset(d, std::vector<int64_t>(perm.begin() + val_size, perm.begin() + val_size + n_train));
  return s;
}

Augment parse_augment(const std::string& name) {
  if (name == "none") return Augment::kNone;
  if (name == "flip") return Augment::kFlip;
  if (name == "crop-flip") return Augment::kCropFlip;
  if (name == "inception") return Augment::kInception;
  throw ConfigError("unknown augment '" + name + "' (expected none, flip, crop-flip or inception)");
}

void load_sample(const Dataset& d, int64_t index, const PipelineOptions& opt, uint64_t sample_seed,
                 float* out) {
  cv::Mat img;
  if (d.in_memory()) {
    const size_t per = size_t(d.height) * d.width * d.channels;
    img = cv::Mat(d.height, d.width, CV_8UC(d.channels),
                  const_cast<uint8_t*>(d.pixels.data() + index * per));
  } else {
    const auto& path = d.files[index];
    img = cv::imread(path, cv::IMREAD_COLOR);
    if (img.empty()) throw DecodeError("cannot decode image '" + path + "'");
    cv::cvtColor(img, img, cv::COLOR_BGR2RGB);
  }
  std::mt19937_64 rng(sample_seed);
  cv::Mat out_img;
  const int s = opt.image_size;
  bool flip = false;
  if (opt.train && opt.augment != Augment::kNone) {
    flip = (rng() & 1) != 0;
    if (opt.augment == Augment::kInception) {
      cv::Rect r;
      if (inception_crop(img.rows, img.cols, rng, r)) {
        out_img = resize_to(img(r), s);
      } else {
        out_img = resize_to(img(centre_crop(img.rows, img.cols, opt.eval_crop)), s);
      }
    } else if (opt.augment == Augment::kCropFlip) {
      // Resize, zero-pad by size/8 and take a random size x size window.
      const cv::Mat r = resize_to(img, s);
      const int pad = std::max(1, s / 8);
      cv::Mat padded;
      cv::copyMakeBorder(r, padded, pad, pad, pad, pad, cv::BORDER_CONSTANT, cv::Scalar::all(0));
      std::uniform_int_distribution<int> off(0, 2 * pad);
      const int x = off(rng), y = off(rng);
      out_img = padded(cv::Rect(x, y, s, s));
    } else {
      out_img = resize_to(img, s);
    }
  } else {
    out_img = opt.eval_crop < 1.0 ? resize_to(img(centre_crop(img.rows, img.cols, opt.eval_crop)), s)
                                  : resize_to(img, s);
  }
  const int c = d.channels;
  for (int y = 0; y < s; ++y) {
    const uint8_t* row = out_img.ptr<uint8_t>(y);
    for (int x = 0; x < s; ++x) {
      const int sx = flip ? s - 1 - x : x;
      float* o = out + (size_t(y) * s + x) * c;
      for (int k = 0; k < c; ++k) o[k] = (row[sx * c + k] / 255.f - d.mean[k]) / d.stddev[k];
    }
  }
}

int64_t batches_per_epoch(int64_t n, int batch_size, bool drop_last) {
  return drop_last ? n / batch_size : (n + batch_size - 1) / batch_size;
}

BatchStream::BatchStream(const Dataset& d, const PipelineOptions& options, int64_t epoch, int64_t first_batch)
    : d_(d), opt_(options), epoch_(epoch), next_batch_(first_batch) {
  order_.resize(d.size());
  std::iota(order_.begin(), order_.end(), 0);
  if (opt_.train) {
    std::mt19937_64 rng(mix3(opt_.seed, static_cast<uint64_t>(epoch), 0x5111f));
    for (int64_t i = d.size() - 1; i > 0; --i) std::swap(order_[i], order_[rng() % uint64_t(i + 1)]);
  }
  num_batches_ = batches_per_epoch(d.size(), opt_.batch_size, opt_.drop_last);
  worker_ = std::thread([this] { produce(); });
}

BatchStream::~BatchStream() {
  stop_ = true;
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void BatchStream::produce() {
  const size_t per = size_t(opt_.image_size) * opt_.image_size * d_.channels;
  tbb::task_arena arena(opt_.workers > 0 ? opt_.workers : tbb::task_arena::automatic);
  try {
    for (int64_t b = next_batch_; b < num_batches_ && !stop_; ++b) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stop_ || static_cast<int>(ready_.size()) < opt_.prefetch; });
        if (stop_) break;
      }
      Batch batch;
      const int64_t begin = b * opt_.batch_size;
      batch.size = std::min<int64_t>(opt_.batch_size, d_.size() - begin);
      batch.images.resize(per * batch.size);
      batch.labels.resize(batch.size);
      std::vector<char> decoded(batch.size, 1);
      auto one = [&](int64_t i) {
        const int64_t pos = begin + i;
        const int64_t idx = order_[pos];
        try {
          load_sample(d_, idx, opt_, mix3(opt_.seed, static_cast<uint64_t>(epoch_), static_cast<uint64_t>(pos)),
                      batch.images.data() + per * i);
        } catch (const DecodeError& e) {
          if (!d_.bad_images) throw;
          decoded[i] = 0;
          if (d_.bad_images->add(d_.files[idx]) && opt_.on_warning) {
            opt_.on_warning(std::string(e.what()) + ": skipped");
          }
        }
        batch.labels[i] = d_.labels[idx];
      };
      if (opt_.workers == 1) {
        for (int64_t i = 0; i < batch.size; ++i) one(i);
      } else {
        arena.execute([&] { tbb::parallel_for(int64_t(0), batch.size, one); });
      }
      if (std::find(decoded.begin(), decoded.end(), 0) != decoded.end()) {
        check_bad_images();
        int64_t kept = 0;
        for (int64_t i = 0; i < batch.size; ++i) {
          if (!decoded[i]) continue;
          if (kept != i) {
            std::copy_n(batch.images.begin() + per * i, per, batch.images.begin() + per * kept);
            batch.labels[kept] = batch.labels[i];
          }
          ++kept;
        }
        batch.size = kept;
        batch.images.resize(per * kept);
        batch.labels.resize(kept);
      }
      std::lock_guard<std::mutex> lock(mu_);
      ready_.push_back(std::move(batch));
      cv_.notify_all();
    }
  } catch (const std::exception& e) {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = e.what();
  }
  std::lock_guard<std::mutex> lock(mu_);
  done_ = true;
  cv_.notify_all();
}

void BatchStream::check_bad_images() const {
  const int64_t bad = d_.bad_images->count();
  const double share = opt_.max_bad_fraction;
  const double allowed = share > 0 ? std::max(1.0, share * static_cast<double>(d_.size())) : 0.0;
  if (static_cast<double>(bad) > allowed) {
    char pct[32];
    std::snprintf(pct, sizeof pct, "%g %%", share * 100);
    throw Error(std::to_string(bad) + " images of the " + std::to_string(d_.size()) + " in " + d_.name +
                " cannot be decoded, more than max_bad_image_fraction (" + pct +
                ", at least one image): fix or remove them, or raise max_bad_image_fraction");
  }
}

bool BatchStream::next(Batch& out) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !ready_.empty() || done_; });
  if (!ready_.empty()) {
    out = std::move(ready_.front());
    ready_.pop_front();
    cv_.notify_all();
    return true;
  }
  if (!error_.empty()) throw Error(error_);
  return false;
}

}  // namespace mnas::train
