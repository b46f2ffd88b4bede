// Image classification datasets and the parallel input pipeline. Torch-free:
// batches are NHWC float buffers that the trainer wraps without a copy.
//
// Sources: Fashion-MNIST IDX gzip files (read with zlib, Debian
// dataset-fashion-mnist), CIFAR-10 binary batches, an ImageNet-style folder of
// class sub-folders (JPEG/PNG decoded with OpenCV) and a generated synthetic
// set. Preprocessing follows the MnasNet reference (reference section 8):
// train = random-area crop (0.08-1, aspect 3/4-4/3) + resize + flip; eval =
// centre crop 0.875 + resize; ImageNet mean/std normalisation for folders.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"

namespace mnas::train {

// An image file that OpenCV cannot decode (load_sample).
class DecodeError : public Error {
 public:
  using Error::Error;
};

// The undecodable files met so far in a folder dataset, shared by the
// dataset, its subsets and splits (thread-safe). Each file is counted once.
class BadImages {
 public:
  // True when `path` was not recorded before.
  bool add(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    return paths_.insert(path).second;
  }
  int64_t count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int64_t>(paths_.size());
  }

 private:
  mutable std::mutex mu_;
  std::set<std::string> paths_;
};

// Default share of a folder dataset's images that may be undecodable before a
// run stops (TrainConfig::max_bad_image_fraction).
constexpr double kDefaultMaxBadImageFraction = 0.01;

// Where Debian's dataset-fashion-mnist installs the IDX files.
constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct Dataset {
  std::string name;
  int num_classes = 0;
  int channels = 0;
  // In-memory datasets: n images of height x width x channels uint8 (HWC).
  int height = 0, width = 0;
  std::vector<uint8_t> pixels;
  // Folder datasets: one file per image (decoded on demand).
  std::vector<std::string> files;
  std::vector<int> labels;
  std::vector<std::string> class_names;
  // Folder datasets: undecodable files met by the pipeline (null otherwise).
  std::shared_ptr<BadImages> bad_images;
  // Normalisation of [0, 1] pixels: (x - mean) / std per channel.
  std::array<float, 3> mean{0.f, 0.f, 0.f};
  std::array<float, 3> stddev{1.f, 1.f, 1.f};

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  bool in_memory() const { return files.empty(); }
};

// What a dataset kind's loader sets without loading it: the normalisation
// and the class names when they are fixed (fashion-mnist, cifar10; empty for
// folder, whose names are its sub-folders, and synthetic). Throws ConfigError
// for an unknown kind. Inference (mnas_classify, ONNX metadata) uses it.
struct DatasetTraits {
  std::array<float, 3> mean{0.f, 0.f, 0.f};
  std::array<float, 3> stddev{1.f, 1.f, 1.f};
  std::vector<std::string> class_names;
};
DatasetTraits dataset_traits(const std::string& kind);

// Fashion-MNIST train (60000) or test (10000) split from `dir` (empty =
// kFashionMnistDir): {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz. Throws
// mnas::Error naming the file when it is missing or malformed.
Dataset load_fashion_mnist(const std::string& dir, bool train);

// CIFAR-10 binary version: data_batch_1..5.bin (train) or test_batch.bin in
// `dir` (the cifar-10-batches-bin folder). Throws mnas::Error naming the file.
Dataset load_cifar10(const std::string& dir, bool train);

// ImageNet-style folder: `dir` holds one sub-folder per class (sorted names =
// labels 0..), each with .jpg/.jpeg/.png files. Throws mnas::Error when `dir`
// is missing, has no class folders or a class folder has no images.
Dataset load_image_folder(const std::string& dir);

// A learnable generated set: each class is a fixed random 8x8 pattern
// (derived from a constant seed, so the same for every call), upsampled to
// `size` x `size`, plus per-image noise from `seed`. Tiny models reach high
// accuracy on it in a few steps.
Dataset make_synthetic(int64_t n, int size, int channels, int num_classes, uint64_t seed);

// Loads `kind` ("fashion-mnist" | "cifar10" | "folder" | "synthetic") split
// `train` (folder: <path>/train or <path>/val). Synthetic: 4096 train / 1024
// test images at 16 px, 1 channel, `synthetic_classes` classes.
Dataset load_dataset(const std::string& kind, const std::string& path, bool train,
                     int synthetic_classes = 10);

// The images of `d` at `indices`, in that order.
Dataset subset(const Dataset& d, const std::vector<int64_t>& indices);

// Seeded held-out split of a training set: a permutation from `seed` puts its
// first `val_size` images in `val` and the next `train_size` (0 = all the
// rest) in `train`. Throws ConfigError when there are too few images.
struct Split {
  Dataset train, val;
};
Split holdout_split(const Dataset& d, int64_t val_size, int64_t train_size, uint64_t seed);

enum class Augment { kNone, kFlip, kCropFlip, kInception };
// "none" | "flip" | "crop-flip" | "inception"; throws ConfigError otherwise.
Augment parse_augment(const std::string& name);

struct PipelineOptions {
  int image_size = 32;
  bool train = true;               // augment and shuffle; else eval preprocessing, in order
  Augment augment = Augment::kNone;
  double eval_crop = 1.0;          // centre crop fraction of the short side at eval
  int batch_size = 128;
  bool drop_last = true;           // train: drop the last partial batch
  uint64_t seed = 0;               // shuffle order and augmentation
  int prefetch = 3;                // batches prepared ahead of the consumer
  // Threads decoding one batch (TBB): 0 = all cores. In-memory datasets are
  // cheap to prepare and 1 keeps the decoder from competing with the
  // training threads on a small machine; JPEG folders want more.
  int workers = 0;
  // Folder datasets: an image that cannot be decoded is skipped (its batch is
  // one image smaller), counted in Dataset::bad_images and named once through
  // on_warning. The stream stops with an Error when more than
  // max_bad_fraction of the dataset's images (at least one image, unless the
  // fraction is 0) are undecodable. on_warning may be called from the
  // pipeline's threads (concurrently).
  double max_bad_fraction = kDefaultMaxBadImageFraction;
  std::function<void(const std::string&)> on_warning;
};

// Decodes, augments, resizes and normalises image `index` of `d` into `out`
// (image_size^2 * channels floats, HWC). `sample_seed` drives the
// augmentation. Throws DecodeError naming a file that cannot be decoded.
void load_sample(const Dataset& d, int64_t index, const PipelineOptions& options,
                 uint64_t sample_seed, float* out);

struct Batch {
  int64_t size = 0;            // 0 when every image of the batch was undecodable
  std::vector<float> images;   // size * H * W * C, NHWC
  std::vector<int64_t> labels;
};

// The batches of one epoch, produced ahead of time on a background thread
// that decodes each batch's images in parallel (TBB), overlapping with
// training. The order depends only on (seed, epoch), and each image's
// augmentation only on (seed, epoch, position), so a stream started at
// `first_batch` yields exactly the batches a full stream yields from there
// (bit-for-bit resume).
class BatchStream {
 public:
  BatchStream(const Dataset& d, const PipelineOptions& options, int64_t epoch,
              int64_t first_batch = 0);
  ~BatchStream();
  BatchStream(const BatchStream&) = delete;
  BatchStream& operator=(const BatchStream&) = delete;

  // Batches in this epoch (from batch 0).
  int64_t num_batches() const { return num_batches_; }
  // Next batch; false at the end of the epoch. Rethrows a decoding error.
  bool next(Batch& out);

 private:
  void produce();
  // Throws Error when the dataset has more undecodable images than allowed.
  void check_bad_images() const;

  const Dataset& d_;
  PipelineOptions opt_;
  int64_t epoch_;
  std::vector<int64_t> order_;
  int64_t num_batches_ = 0;
  int64_t next_batch_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> ready_;
  bool done_ = false;
  std::atomic<bool> stop_{false};
  std::string error_;
  std::thread worker_;
};

// Batches per epoch for `n` images.
int64_t batches_per_epoch(int64_t n, int batch_size, bool drop_last);

}  // namespace mnas::train
