// Configuration of a full training run and the learning-rate schedule.
//
// The defaults are the MnasNet reference recipe (tensorflow/tpu
// models/official/mnasnet mnasnet_main.py + configs/mnasnet_config.py; see
// shared/reference/mnasnet-reference.md section 8): ImageNet folder, 224 px,
// 350 epochs, batch 4096, TF RMSProp, lr 0.016 per 256 images, 5 warm-up
// epochs, x0.97 every 2.4 epochs, L2 1e-5, label smoothing 0.1, dropout 0.2,
// EMA 0.9999. Layering: defaults -> JSON file -> command-line flags ->
// validate(), then passed as const& (STYLE.md habit 6). Torch-free.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "space/block_args.h"
#include "space/global_params.h"

namespace mnas::train {

// Upper bound of `threads` (the same as mnas_latency's --threads).
inline constexpr int kMaxThreads = 256;

struct TrainConfig {
  // --- model ---
  // A name from space::named_arch_names() ("mnasnet-a1") or block strings
  // separated by spaces/commas (space::split_block_strings). In JSON also an
  // array of block strings (what mnas_search --train-config writes).
  std::string arch = "mnasnet-a1";
  double depth_multiplier = 0.0;  // 0 = the named arch's own (none for strings)
  int stem_size = 0;              // stem conv width; 0 = the named arch's own (32 for strings)
  int depth_divisor = 0;          // width rounding; 0 = the named arch's own (8 for strings)
  int image_size = 224;           // square network input, pixels
  double dropout = 0.2;           // before the classifier
  double bn_decay = 0.99;         // TF decay (PyTorch momentum = 1 - decay)
  // Classifier weights at initialisation: "reference" = TF's uniform
  // +-1/sqrt(num_classes) (made for 1000 classes: with 10 classes it starts
  // from logits of std ~4 and a loss of ~8), "zero" = zeros (loss ln(classes)
  // at step 0; the usual choice for few classes and short runs).
  std::string classifier_init = "reference";

  // --- data ---
  std::string dataset = "folder";  // "folder" | "fashion-mnist" | "cifar10" | "synthetic"
  std::string data_path;           // folder: contains train/ and val/; empty = default location
  int num_classes = 0;             // 0 = from the dataset
  int64_t train_subset = 0;        // 0 = every training image (after the held-out split)
  int64_t val_holdout = 0;         // images carved from the train set for validation (0 = none)
  uint64_t split_seed = 0;         // seed of the held-out split (independent of `seed`)
  // "inception" (random-area crop 0.08-1, aspect 3/4-4/3, flip), "crop-flip"
  // (pad by size/8, random crop, flip), "flip" or "none".
  std::string augment = "inception";
  double eval_crop = 0.875;  // eval centre-crop fraction of the short side (1 = whole image)
  // Progressive resizing (fast.ai / FFCV style, two phases): the first
  // low_res_epochs epochs train at low_res_size px, the rest at image_size,
  // which evaluation and export use. Low-resolution epochs cost about
  // (low_res_size / image_size)^2 as much. 0 = off.
  int low_res_size = 0;
  int low_res_epochs = 0;
  // Folder datasets: undecodable images are skipped and counted (the result's
  // bad_images); the run stops with an error when more than this share of a
  // split's images (at least one image, unless 0) cannot be decoded.
  double max_bad_image_fraction = 0.01;

  // --- recipe ---
  double epochs = 350;     // finite; epochs x batches per epoch must fit an int64 step count
  int batch_size = 4096;   // global batch per optimizer step
  int micro_batch = 0;     // images per forward pass (gradient accumulation); 0 = batch_size
  std::string optimizer = "rmsprop";  // "rmsprop" (TF semantics) | "sgd" (Nesterov momentum)
  double base_lr = 0.016;             // per lr_batch_base images, scaled linearly by batch_size
  double lr_batch_base = 256;
  std::string schedule = "exponential";  // "exponential" (staircase) | "cosine"
  double warmup_epochs = 5;
  double decay_epochs = 2.4;
  double decay_rate = 0.97;
  double momentum = 0.9;
  double rms_decay = 0.9;
  double rms_epsilon = 1e-3;   // inside the square root (TF)
  double weight_decay = 1e-5;  // L2: wd * 0.5 * ||w||^2 over non-BN weights and biases
  double label_smoothing = 0.1;
  double ema_decay = 0.9999;   // 0 = no EMA

  // --- run ---
  uint64_t seed = 0;
  int threads = 2;             // intra-op threads (torch::set_num_threads), 1..kMaxThreads
  std::string device = "cpu";  // "cpu", "cuda", "cuda:N" (N a device index)
  bool channels_last = true;
  std::string checkpoint;            // path; empty = no checkpoints
  double checkpoint_minutes = 10;    // also written at every epoch end and at the end
  double time_limit_s = 0;           // 0 = none; stops with status "timeout"
  int64_t max_steps = 0;             // 0 = none; stops early (tests, resume checks)
  int log_every = 20;                // progress line every N steps
  bool quiet = false;
  bool eval_test = true;             // evaluate on the test/val split at the end
  double eval_every_epochs = 0;      // 0 = only at the end

  // Where the architecture came from (mnas_search --train-config: database,
  // experiment, trial, reward, proxy accuracy, latency): any JSON object,
  // kept in checkpoints and results, never read by training. null = none.
  nlohmann::json source;
};

// Throws ConfigError naming the field and the expected range.
void validate(const TrainConfig& config);

nlohmann::json to_json(const TrainConfig& config);
// Starts from `base` (default: the defaults) and sets every key of `j`.
// Throws ConfigError naming an unknown key or a value of the wrong type.
TrainConfig train_config_from_json(const nlohmann::json& j, TrainConfig base = {});
// Reads a JSON file; errors name the file.
TrainConfig load_train_config(const std::string& path, TrainConfig base = {});

struct ProxyConfig;
// The mnas_train configuration that trains `arch` exactly as the search's
// proxy task trains a child (train_child runs it): the proxy's dataset,
// subsets, held-out split and recipe, no EMA, validation only. Torch-free,
// so that read-only tools (mnas_report --train-config) can write it.
TrainConfig child_train_config(const space::ArchSpec& arch, const ProxyConfig& proxy);

// The architecture of `config.arch` and its GlobalParams with the config's
// image size, classes, channels, dropout, BN decay and multiplier applied.
// `num_classes` and `input_channels` come from the dataset. Throws ParseError
// for bad block strings / names, ConfigError for bad values.
struct ModelSpec {
  space::ArchSpec arch;
  space::GlobalParams params;
  std::vector<std::string> block_strings;  // canonical
};
ModelSpec resolve_model(const TrainConfig& config, int num_classes, int input_channels);

// GlobalParams from JSON (every field; checkpoints). The other direction is
// space::params_to_json (the same keys); unknown keys and wrong types throw
// ConfigError naming the key.
space::GlobalParams global_params_from_json(const nlohmann::json& j);

}  // namespace mnas::train
