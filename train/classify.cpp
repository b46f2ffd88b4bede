// Image classification with a checkpoint (LibTorch) or an ONNX file (ONNX
// Runtime) (train/classify.h).
#include "train/classify.h"

#include <onnx/onnx_pb.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "common/error.h"
#include "train/checkpoint.h"
#include "train/checkpoint_io.h"
#include "train/datasets.h"
#include "train/export.h"
#include "train/onnxruntime_runner.h"

namespace mnas::train {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// How images are prepared for the model.
struct Preprocess {
  int image_size = 0, channels = 0;
  double eval_crop = 1.0;
  std::array<float, 3> mean{0.f, 0.f, 0.f}, stddev{1.f, 1.f, 1.f};
};

// One image -> C x H x W floats, prepared by the training pipeline's eval
// path (load_sample). Throws mnas::Error naming the file.
std::vector<float> prepare(const std::string& file, const Preprocess& p) {
  std::ifstream probe(file, std::ios::binary);
  if (!probe) throw Error("cannot read '" + file + "'");
  cv::Mat img = cv::imread(file, p.channels == 1 ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR);
  if (img.empty()) throw Error("cannot decode '" + file + "' as an image (PNG, JPEG, ...)");
  if (p.channels == 3) cv::cvtColor(img, img, cv::COLOR_BGR2RGB);
  if (!img.isContinuous()) img = img.clone();
  Dataset d;
  d.name = "image";
  d.channels = p.channels;
  d.height = img.rows;
  d.width = img.cols;
  d.pixels.assign(img.data, img.data + img.total() * img.elemSize());
  d.labels = {0};
  d.mean = p.mean;
  d.stddev = p.stddev;
  PipelineOptions opt;
  opt.image_size = p.image_size;
  opt.train = false;
  opt.eval_crop = p.eval_crop;
  const int s = p.image_size, c = p.channels;
  std::vector<float> hwc(size_t(s) * s * c);
  load_sample(d, 0, opt, 0, hwc.data());
  std::vector<float> chw(hwc.size());
  for (int y = 0; y < s; ++y)
    for (int x = 0; x < s; ++x)
      for (int k = 0; k < c; ++k) chw[(size_t(k) * s + y) * s + x] = hwc[(size_t(y) * s + x) * c + k];
  return chw;
}

std::vector<std::string> read_labels(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("cannot read the labels file '" + path + "'");
  std::vector<std::string> labels;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    labels.push_back(line);
  }
  while (!labels.empty() && labels.back().empty()) labels.pop_back();
  return labels;
}

// The ONNX model's input shape and metadata. Throws mnas::Error naming the file.
struct OnnxModel {
  int64_t batch = 1;
  Preprocess pre;
  int num_classes = 0;
  std::vector<std::string> class_names;
  std::string normalisation;
};

OnnxModel read_onnx(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read ONNX file '" + path + "'");
  onnx::ModelProto m;
  if (!m.ParseFromIstream(&in) || !m.has_graph() || m.graph().input_size() < 1 || m.graph().output_size() < 1) {
    throw Error("'" + path + "' is " +
                (ends_with(path, ".onnx") || ends_with(path, ".ONNX") ? "not an ONNX model"
                                                                      : "neither an mnas checkpoint nor an ONNX model") +
                " (truncated or corrupt?)");
  }
  const auto dims_of = [&](const onnx::ValueInfoProto& v) {
    std::vector<int64_t> dims;
    for (const auto& d : v.type().tensor_type().shape().dim()) dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
    return dims;
  };
  const auto in_dims = dims_of(m.graph().input(0));
  const auto out_dims = dims_of(m.graph().output(0));
  if (in_dims.size() != 4 || in_dims[1] < 1 || in_dims[2] < 1 || in_dims[2] != in_dims[3]) {
    throw Error("ONNX file '" + path + "': input '" + m.graph().input(0).name() +
                "' is not a fixed [N, C, S, S] image tensor");
  }
  OnnxModel r;
  r.batch = in_dims[0] > 0 ? in_dims[0] : 1;
  r.pre.channels = static_cast<int>(in_dims[1]);
  r.pre.image_size = static_cast<int>(in_dims[2]);
  if (r.pre.channels != 1 && r.pre.channels != 3) {
    throw Error("ONNX file '" + path + "': input has " + std::to_string(r.pre.channels) +
                " channels; images can be prepared for 1 (grayscale) or 3 (RGB)");
  }
  if (out_dims.size() == 2 && out_dims[1] > 0) r.num_classes = static_cast<int>(out_dims[1]);
  std::string dataset, mean, stddev, crop, names;
  for (const auto& e : m.metadata_props()) {
    if (e.key() == kOnnxMetaDataset) dataset = e.value();
    if (e.key() == kOnnxMetaMean) mean = e.value();
    if (e.key() == kOnnxMetaStddev) stddev = e.value();
    if (e.key() == kOnnxMetaEvalCrop) crop = e.value();
    if (e.key() == kOnnxMetaClassNames) names = e.value();
  }
  if (!mean.empty() && !stddev.empty()) {
    try {
      const auto mv = nlohmann::json::parse(mean).get<std::vector<float>>();
      const auto sv = nlohmann::json::parse(stddev).get<std::vector<float>>();
      if (mv.size() != size_t(r.pre.channels) || sv.size() != size_t(r.pre.channels)) throw Error("size");
      for (int k = 0; k < 3; ++k) {
        r.pre.mean[k] = mv[std::min(k, r.pre.channels - 1)];
        r.pre.stddev[k] = sv[std::min(k, r.pre.channels - 1)];
      }
      if (!crop.empty()) r.pre.eval_crop = nlohmann::json::parse(crop).get<double>();
      if (!names.empty()) r.class_names = nlohmann::json::parse(names).get<std::vector<std::string>>();
    } catch (const std::exception&) {
      throw Error("ONNX file '" + path + "': malformed mnas metadata (" + kOnnxMetaMean + ", " + kOnnxMetaStddev +
                  ", " + kOnnxMetaEvalCrop + ", " + kOnnxMetaClassNames + ")");
    }
    r.normalisation = (dataset.empty() ? std::string("mnas") : dataset) + " (ONNX metadata)";
  } else {
    // No mnas metadata: normalised as mnas trains (train/classify.h).
    const std::string kind = r.pre.channels == 1 ? "fashion-mnist" : "folder";
    const DatasetTraits t = dataset_traits(kind);
    r.pre.mean = t.mean;
    r.pre.stddev = t.stddev;
    if (r.pre.channels == 1 && r.num_classes == 10) r.class_names = t.class_names;
    r.normalisation = std::string(r.pre.channels == 1 ? "fashion-mnist" : "imagenet") +
                      " (assumed: the ONNX file has no mnas metadata)";
  }
  return r;
}

std::vector<ClassPrediction> top_k(const float* logits, int n, int k, const std::vector<std::string>& labels) {
  const float mx = *std::max_element(logits, logits + n);
  std::vector<double> p(n);
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += p[i] = std::exp(double(logits[i]) - mx);
  std::vector<int> order(n);
  for (int i = 0; i < n; ++i) order[i] = i;
  k = std::min(k, n);
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int a, int b) { return p[a] > p[b]; });
  std::vector<ClassPrediction> top;
  for (int j = 0; j < k; ++j) {
    const int i = order[j];
    top.push_back({i, size_t(i) < labels.size() ? labels[i] : "class" + std::to_string(i), p[i] / sum});
  }
  return top;
}

}  // namespace

int ClassifyRun::failed() const {
  return static_cast<int>(std::count_if(images.begin(), images.end(), [](const auto& i) { return !i.error.empty(); }));
}

ClassifyRun classify_images(const ClassifyOptions& o, const std::vector<std::string>& files) {
  if (o.top_k < 1) throw ConfigError("top-k must be >= 1, got " + std::to_string(o.top_k));
  if (o.model.empty()) throw ConfigError("classify: no model (checkpoint or .onnx file)");
  std::vector<std::string> labels;
  if (!o.labels_file.empty()) labels = read_labels(o.labels_file);

  ClassifyRun run;
  run.model = o.model;
  // A checkpoint is a zip archive (torch::pickle_save); a name ending in
  // .onnx or any other content is read as ONNX.
  std::string magic(2, '\0');
  {
    std::ifstream in(o.model, std::ios::binary);
    if (!in) throw Error("cannot read model '" + o.model + "' (an mnas checkpoint or an ONNX file)");
    in.read(magic.data(), 2);
  }
  const bool is_onnx = ends_with(o.model, ".onnx") || ends_with(o.model, ".ONNX") || magic != "PK";
  Preprocess pre;
  OnnxModel onnx_model;
  CheckpointInfo info;
  model::MnasNet net{nullptr};
  std::vector<std::string> model_names;
  if (is_onnx) {
    onnx_model = read_onnx(o.model);
    pre = onnx_model.pre;
    run.num_classes = onnx_model.num_classes;
    run.normalisation = onnx_model.normalisation;
    model_names = onnx_model.class_names;
  } else {
    net = load_checkpoint_model(o.model, o.use_ema, &info);
    net->eval();
    pre.image_size = info.params.image_size;
    pre.channels = static_cast<int>(info.params.input_channels);
    if (pre.channels != 1 && pre.channels != 3) {
      throw Error("checkpoint '" + o.model + "' takes " + std::to_string(pre.channels) +
                  " channels; images can be prepared for 1 (grayscale) or 3 (RGB)");
    }
    pre.eval_crop = info.config.eval_crop;
    const DatasetTraits t = dataset_traits(info.config.dataset);
    pre.mean = t.mean;
    pre.stddev = t.stddev;
    model_names = t.class_names;
    run.num_classes = static_cast<int>(info.params.num_classes);
    run.normalisation = info.config.dataset + " (checkpoint)";
    run.runtime = std::string("LibTorch ") + TORCH_VERSION;
  }
  run.image_size = pre.image_size;
  run.channels = pre.channels;
  if (!labels.empty() && run.num_classes > 0 && int(labels.size()) != run.num_classes) {
    throw ConfigError("labels file '" + o.labels_file + "' has " + std::to_string(labels.size()) +
                      " labels, the model has " + std::to_string(run.num_classes) + " classes");
  }
  if (labels.empty()) labels = model_names;

  // Prepare every image; the ones that fail keep their error.
  const size_t per = size_t(pre.channels) * pre.image_size * pre.image_size;
  std::vector<float> batch;
  std::vector<size_t> ok;  // indices into run.images
  for (const auto& f : files) {
    ImageClassification ic;
    ic.file = f;
    try {
      const auto x = prepare(f, pre);
      batch.insert(batch.end(), x.begin(), x.end());
      ok.push_back(run.images.size());
    } catch (const std::exception& e) {
      ic.error = e.what();
    }
    run.images.push_back(std::move(ic));
  }
  if (ok.empty()) return run;

  std::vector<float> logits;
  const int64_t n = static_cast<int64_t>(ok.size());
  if (is_onnx) {
    // The graph's batch is fixed: pad the last batch with zeros.
    const int64_t b = onnx_model.batch;
    const int64_t padded = (n + b - 1) / b * b;
    batch.resize(size_t(padded) * per, 0.f);
    onnxruntime::Tensor in;
    in.shape = {b, pre.channels, pre.image_size, pre.image_size};
    in.data = std::move(batch);
    onnxruntime::Result r;
    try {
      r = onnxruntime::run(o.model, in);
    } catch (const Error& e) {
      throw Error("ONNX Runtime cannot classify with '" + o.model + "': " + e.what());
    }
    run.runtime = "ONNX Runtime " + r.version;
    if (r.output.shape.size() != 2 || r.output.shape[0] != padded) {
      throw Error("ONNX file '" + o.model + "': output is not [batch, classes]");
    }
    run.num_classes = static_cast<int>(r.output.shape[1]);
    logits = std::move(r.output.data);
  } else {
    torch::NoGradGuard no_grad;
    const auto x = torch::from_blob(batch.data(), {n, pre.channels, pre.image_size, pre.image_size}, torch::kFloat32);
    const auto y = net->forward(x).contiguous();
    logits.assign(y.data_ptr<float>(), y.data_ptr<float>() + y.numel());
  }
  if (!o.labels_file.empty() && int(labels.size()) != run.num_classes) {
    throw ConfigError("labels file '" + o.labels_file + "' has " + std::to_string(labels.size()) +
                      " labels, the model has " + std::to_string(run.num_classes) + " classes");
  }
  for (int64_t i = 0; i < n; ++i) {
    run.images[ok[i]].top = top_k(logits.data() + i * run.num_classes, run.num_classes, o.top_k, labels);
  }
  return run;
}

nlohmann::json classify_json(const ClassifyRun& r) {
  nlohmann::json images = nlohmann::json::array();
  for (const auto& im : r.images) {
    if (!im.error.empty()) {
      images.push_back({{"file", im.file}, {"error", im.error}});
      continue;
    }
    nlohmann::json top = nlohmann::json::array();
    for (const auto& p : im.top) top.push_back({{"index", p.index}, {"label", p.label}, {"probability", p.probability}});
    images.push_back({{"file", im.file}, {"top", top}});
  }
  return {{"model", r.model},           {"runtime", r.runtime},
          {"image_size", r.image_size}, {"channels", r.channels},
          {"normalisation", r.normalisation}, {"images", images}};
}

std::string classify_text(const ClassifyRun& r) {
  std::string out;
  char buf[512];
  for (const auto& im : r.images) {
    if (!im.error.empty()) continue;
    out += im.file + "\n";
    for (const auto& p : im.top) {
      std::snprintf(buf, sizeof buf, "  %.4f  %s (%d)\n", p.probability, p.label.c_str(), p.index);
      out += buf;
    }
  }
  return out;
}

}  // namespace mnas::train
