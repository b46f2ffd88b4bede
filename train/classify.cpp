// Image classification with a checkpoint (LibTorch), an ONNX file (ONNX
// Runtime) or a TFLite file (Arm NN) (train/classify.h).
#include "train/classify.h"

#include <onnx/onnx_pb.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "common/error.h"
#include "train/checkpoint.h"
#include "train/checkpoint_io.h"
#include "train/datasets.h"
#include "train/export.h"
#include "train/onnxruntime_runner.h"
#include "train/quantize.h"
#include "train/tflite_model.h"
#include "train/tflite_runtime.h"

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
  bool nhwc = false;  // TFLite's layout; else C x H x W
};

// One image -> C x H x W (or H x W x C) floats, prepared by the training
// pipeline's eval path (load_sample). Throws mnas::Error naming the file.
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
  if (p.nhwc) return hwc;
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

// An exported file (ONNX or TFLite): its input shape, I/O types and
// metadata. Readers throw mnas::Error naming the file.
struct ModelFile {
  int64_t batch = 1;
  Preprocess pre;
  int num_classes = 0;
  std::vector<std::string> class_names;
  std::string normalisation;
  // Quantized I/O: images quantized with input_q, logits dequantized with output_q.
  bool int8_input = false, int8_output = false;
  quant::Params input_q, output_q;
};

void check_channels(const ModelFile& r, const std::string& what) {
  if (r.pre.channels != 1 && r.pre.channels != 3) {
    throw Error(what + ": input has " + std::to_string(r.pre.channels) +
                " channels; images can be prepared for 1 (grayscale) or 3 (RGB)");
  }
}

// The mnas metadata of an exported file, by kOnnxMeta* key (each value
// JSON but the dataset's), or none: normalised as mnas trains
// (train/classify.h). `source` names where they came from ("ONNX metadata").
void apply_metadata(const std::map<std::string, std::string>& meta, const std::string& what,
                    const std::string& source, ModelFile& r) {
  const auto get = [&](const char* key) {
    const auto it = meta.find(key);
    return it == meta.end() ? std::string() : it->second;
  };
  const std::string dataset = get(kOnnxMetaDataset), mean = get(kOnnxMetaMean), stddev = get(kOnnxMetaStddev),
                    crop = get(kOnnxMetaEvalCrop), names = get(kOnnxMetaClassNames);
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
      throw Error(what + ": malformed mnas metadata (mean and stddev: one number per input channel, eval_crop a "
                  "number, class_names strings)");
    }
    r.normalisation = (dataset.empty() ? std::string("mnas") : dataset) + " (" + source + ")";
  } else {
    // No mnas metadata: normalised as mnas trains (train/classify.h).
    const std::string kind = r.pre.channels == 1 ? "fashion-mnist" : "folder";
    const DatasetTraits t = dataset_traits(kind);
    r.pre.mean = t.mean;
    r.pre.stddev = t.stddev;
    if (r.pre.channels == 1 && r.num_classes == 10) r.class_names = t.class_names;
    r.normalisation = std::string(r.pre.channels == 1 ? "fashion-mnist" : "imagenet") + " (assumed: the " +
                      source.substr(0, source.find(' ')) + " file has no mnas metadata)";
  }
}

// A scalar initializer of `g` (a QuantizeLinear/DequantizeLinear scale or
// zero point) as a double; nullopt when `name` is not one.
std::optional<double> scalar_initializer(const onnx::GraphProto& g, const std::string& name) {
  for (const auto& t : g.initializer()) {
    if (t.name() != name) continue;
    const std::string& raw = t.raw_data();
    switch (t.data_type()) {
      case onnx::TensorProto::FLOAT:
        if (raw.size() == 4) {
          float v;
          std::memcpy(&v, raw.data(), 4);
          return v;
        }
        if (t.float_data_size() == 1) return t.float_data(0);
        return std::nullopt;
      case onnx::TensorProto::INT8:
        if (raw.size() == 1) return static_cast<int8_t>(raw[0]);
        if (t.int32_data_size() == 1) return t.int32_data(0);
        return std::nullopt;
      default: return std::nullopt;
    }
  }
  return std::nullopt;
}

// The quantization of an int8 graph input or output: the parameters of the
// DequantizeLinear that reads it (input) or the QuantizeLinear that writes
// it (output), constant scalars.
quant::Params onnx_io_quantization(const onnx::GraphProto& g, const std::string& tensor, bool input,
                                   const std::string& what) {
  for (const auto& n : g.node()) {
    const bool match = input ? n.op_type() == "DequantizeLinear" && n.input_size() >= 2 && n.input(0) == tensor
                             : n.op_type() == "QuantizeLinear" && n.input_size() >= 2 && n.output_size() >= 1 &&
                                   n.output(0) == tensor;
    if (!match) continue;
    const auto scale = scalar_initializer(g, n.input(1));
    const auto zero = n.input_size() >= 3 ? scalar_initializer(g, n.input(2)) : std::optional<double>(0.0);
    if (!scale || !zero || !(*scale > 0)) break;
    return {static_cast<float>(*scale), static_cast<int32_t>(*zero)};
  }
  throw Error(what + ": the int8 " + (input ? "input" : "output") + " '" + tensor + "' has no " +
              (input ? "DequantizeLinear reading" : "QuantizeLinear writing") +
              " it with a constant scale and zero point (its quantization is unknown)");
}

ModelFile read_onnx(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read ONNX file '" + path + "'");
  onnx::ModelProto m;
  if (!m.ParseFromIstream(&in) || !m.has_graph() || m.graph().input_size() < 1 || m.graph().output_size() < 1) {
    const bool named_onnx = ends_with(path, ".onnx") || ends_with(path, ".ONNX");
    throw Error("'" + path + "' is " +
                (named_onnx ? "not an ONNX model" : "not an mnas checkpoint, an ONNX or a TFLite model") +
                " (truncated or corrupt?)");
  }
  const std::string what = "ONNX file '" + path + "'";
  const auto dims_of = [&](const onnx::ValueInfoProto& v) {
    std::vector<int64_t> dims;
    for (const auto& d : v.type().tensor_type().shape().dim()) dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
    return dims;
  };
  const auto& input = m.graph().input(0);
  const auto& output = m.graph().output(0);
  const auto in_dims = dims_of(input);
  const auto out_dims = dims_of(output);
  if (in_dims.size() != 4 || in_dims[1] < 1 || in_dims[2] < 1 || in_dims[2] != in_dims[3]) {
    throw Error(what + ": input '" + input.name() + "' is not a fixed [N, C, S, S] image tensor");
  }
  ModelFile r;
  r.batch = in_dims[0] > 0 ? in_dims[0] : 1;
  r.pre.channels = static_cast<int>(in_dims[1]);
  r.pre.image_size = static_cast<int>(in_dims[2]);
  check_channels(r, what);
  if (out_dims.size() == 2 && out_dims[1] > 0) r.num_classes = static_cast<int>(out_dims[1]);
  const auto io_type = [&](const onnx::ValueInfoProto& v, const char* role) {
    const int t = v.type().tensor_type().elem_type();
    if (t != onnx::TensorProto::FLOAT && t != onnx::TensorProto::INT8) {
      throw Error(what + ": " + role + " '" + v.name() + "' has element type " + std::to_string(t) +
                  "; float32 or int8 (quantized I/O) expected");
    }
    return t == onnx::TensorProto::INT8;
  };
  r.int8_input = io_type(input, "input");
  r.int8_output = io_type(output, "output");
  if (r.int8_input) r.input_q = onnx_io_quantization(m.graph(), input.name(), true, what);
  if (r.int8_output) r.output_q = onnx_io_quantization(m.graph(), output.name(), false, what);
  std::map<std::string, std::string> meta;
  for (const auto& e : m.metadata_props()) meta[e.key()] = e.value();
  apply_metadata(meta, what, "ONNX metadata", r);
  return r;
}

ModelFile read_tflite(const std::string& path) {
  const TfLiteModelInfo info = read_tflite_model(path);
  const std::string what = "TFLite file '" + path + "'";
  const auto& in = info.input;
  const auto& out = info.output;
  if (in.shape.size() != 4 || in.shape[1] < 1 || in.shape[1] != in.shape[2] || in.shape[3] < 1) {
    throw Error(what + ": input '" + in.name + "' is not a fixed [N, S, S, C] image tensor");
  }
  ModelFile r;
  r.batch = in.shape[0] > 0 ? in.shape[0] : 1;
  r.pre.image_size = in.shape[1];
  r.pre.channels = in.shape[3];
  r.pre.nhwc = true;
  check_channels(r, what);
  if (out.shape.size() == 2 && out.shape[1] > 0) r.num_classes = out.shape[1];
  const auto io = [&](const TfLiteTensorInfo& t, const char* role, quant::Params& q) {
    if (t.type == "float32") return false;
    if (t.type != "int8" || !t.quantized || !(t.scale > 0)) {
      throw Error(what + ": " + role + " '" + t.name + "' is " + t.type +
                  (t.type == "int8" ? " without one scale and zero point" : "") +
                  "; float32 or int8 (quantized I/O, per-tensor parameters) expected");
    }
    q = {t.scale, static_cast<int32_t>(t.zero_point)};
    return true;
  };
  r.int8_input = io(in, "input", r.input_q);
  r.int8_output = io(out, "output", r.output_q);
  // The "mnas" metadata object: its values under the ONNX keys ("mnas." + name).
  std::map<std::string, std::string> meta;
  const auto it = info.metadata.find(kTfLiteMetadataName);
  if (it != info.metadata.end()) {
    try {
      const auto j = nlohmann::json::parse(it->second);
      for (const auto& [k, v] : j.items()) meta["mnas." + k] = v.is_string() ? v.get<std::string>() : v.dump();
    } catch (const nlohmann::json::exception&) {
      throw Error(what + ": its metadata '" + kTfLiteMetadataName + "' is not a JSON object");
    }
  }
  apply_metadata(meta, what, "TFLite metadata", r);
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
  if (o.model.empty()) throw ConfigError("classify: no model (checkpoint, .onnx or .tflite file)");
  std::vector<std::string> labels;
  if (!o.labels_file.empty()) labels = read_labels(o.labels_file);

  ClassifyRun run;
  run.model = o.model;
  // A checkpoint is a zip archive (torch::pickle_save); a TFLite file has
  // the flatbuffer identifier "TFL3" at byte 4 or the name *.tflite; a name
  // ending in .onnx or any other content is read as ONNX.
  std::string head(8, '\0');
  {
    std::ifstream in(o.model, std::ios::binary);
    if (!in) throw Error("cannot read model '" + o.model + "' (an mnas checkpoint, an ONNX or a TFLite file)");
    in.read(head.data(), 8);
    head.resize(static_cast<size_t>(in.gcount()));
  }
  enum class Format { kCheckpoint, kOnnx, kTfLite };
  const Format format = has_tflite_identifier(head) || ends_with(o.model, ".tflite") || ends_with(o.model, ".TFLITE")
                            ? Format::kTfLite
                        : ends_with(o.model, ".onnx") || ends_with(o.model, ".ONNX") || head.rfind("PK", 0) != 0
                            ? Format::kOnnx
                            : Format::kCheckpoint;
  Preprocess pre;
  ModelFile file;
  CheckpointInfo info;
  model::MnasNet net{nullptr};
  std::vector<std::string> model_names;
  if (format != Format::kCheckpoint) {
    file = format == Format::kOnnx ? read_onnx(o.model) : read_tflite(o.model);
    pre = file.pre;
    run.num_classes = file.num_classes;
    run.normalisation = file.normalisation;
    run.io = file.int8_input || file.int8_output ? "int8" : "float32";
    // Arm NN's name is known before a run (ONNX Runtime's version is not).
    if (format == Format::kTfLite) run.runtime = tflite_runtime_name();
    model_names = file.class_names;
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
  if (format != Format::kCheckpoint) {
    // The graph's batch is fixed: pad the last batch with zeros.
    const int64_t b = file.batch;
    const int64_t padded = (n + b - 1) / b * b;
    batch.resize(size_t(padded) * per, 0.f);
    // Quantized I/O: the prepared images quantized with the input's parameters.
    std::vector<int8_t> batch_q;
    if (file.int8_input) batch_q = quant::quantize_values(batch.data(), batch.size(), file.input_q);
    std::vector<int8_t> logits_q;
    if (format == Format::kOnnx) {
      onnxruntime::Tensor in;
      in.shape = {b, pre.channels, pre.image_size, pre.image_size};
      if (file.int8_input) {
        in.int8 = std::move(batch_q);
      } else {
        in.data = std::move(batch);
      }
      onnxruntime::Result r;
      try {
        r = onnxruntime::run(o.model, in);
      } catch (const Error& e) {
        throw Error("ONNX Runtime cannot classify with '" + o.model + "': " + e.what());
      }
      run.runtime = "ONNX Runtime " + r.version;
      if (r.output.shape.size() != 2 || r.output.shape[0] != padded || r.output.is_int8() != file.int8_output) {
        throw Error("ONNX file '" + o.model + "': output is not [batch, classes] of its declared type");
      }
      run.num_classes = static_cast<int>(r.output.shape[1]);
      logits = std::move(r.output.data);
      logits_q = std::move(r.output.int8);
    } else {
      TfLiteRun r;
      try {
        r = file.int8_input ? run_tflite_int8(o.model, batch_q) : run_tflite(o.model, batch);
      } catch (const Error& e) {
        throw Error("Arm NN cannot classify with '" + o.model + "': " + e.what());
      }
      const size_t values = r.output.size() + r.output_int8.size();
      if (r.output_shape.size() != 2 || r.output_shape[1] < 1 || values != size_t(padded) * r.output_shape[1] ||
          r.output_int8.empty() != !file.int8_output) {
        throw Error("TFLite file '" + o.model + "': output is not [batch, classes] of its declared type");
      }
      run.num_classes = static_cast<int>(r.output_shape[1]);
      logits = std::move(r.output);
      logits_q = std::move(r.output_int8);
    }
    if (file.int8_output) logits = quant::dequantize_values(logits_q, file.output_q);
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
  return {{"model", r.model},
          {"runtime", r.runtime},
          {"io", r.io},
          {"image_size", r.image_size},
          {"channels", r.channels},
          {"normalisation", r.normalisation},
          {"images", images}};
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
