// A TFLite file's I/O tensors and metadata (train/tflite_model.h).
#include "train/tflite_model.h"

#include <flatbuffers/flatbuffers.h>

#include <fstream>
#include <iterator>

#include "common/error.h"
#include "train/tflite_schema_generated.h"

namespace mnas::train {
namespace {

namespace tfl = mnas::tflite;

std::string type_name(tfl::TensorType t) {
  switch (t) {
    case tfl::TensorType::FLOAT32: return "float32";
    case tfl::TensorType::INT8: return "int8";
    case tfl::TensorType::UINT8: return "uint8";
    case tfl::TensorType::INT32: return "int32";
  }
  return "type " + std::to_string(static_cast<int>(t));
}

TfLiteTensorInfo tensor_info(const tfl::SubGraph& g, int index, const std::string& path, const char* what) {
  if (!g.tensors() || index < 0 || static_cast<flatbuffers::uoffset_t>(index) >= g.tensors()->size()) {
    throw Error("TFLite file '" + path + "': the " + what + " names tensor " + std::to_string(index) +
                ", which does not exist");
  }
  const tfl::Tensor& t = *g.tensors()->Get(static_cast<flatbuffers::uoffset_t>(index));
  TfLiteTensorInfo r;
  if (t.name()) r.name = t.name()->str();
  if (t.shape()) r.shape.assign(t.shape()->begin(), t.shape()->end());
  r.type = type_name(t.type());
  const tfl::QuantizationParameters* q = t.quantization();
  if (q && q->scale() && q->scale()->size() == 1) {
    r.quantized = true;
    r.scale = q->scale()->Get(0);
    r.zero_point = q->zero_point() && q->zero_point()->size() == 1 ? q->zero_point()->Get(0) : 0;
  }
  return r;
}

}  // namespace

bool has_tflite_identifier(const std::string& head) {
  return head.size() >= 8 && head.compare(4, 4, tfl::ModelIdentifier()) == 0;
}

TfLiteModelInfo read_tflite_model(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read TFLite file '" + path + "'");
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  if (!has_tflite_identifier(bytes)) {
    throw Error("'" + path + "' is not a TFLite file (no \"TFL3\" identifier at byte 4; " +
                std::to_string(bytes.size()) + " bytes)");
  }
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  flatbuffers::Verifier v(data, bytes.size());
  if (!tfl::VerifyModelBuffer(v)) {
    throw Error("TFLite file '" + path + "' does not verify against the TFLite schema (truncated or corrupt; " +
                std::to_string(bytes.size()) + " bytes)");
  }
  const tfl::Model& m = *tfl::GetModel(data);
  if (!m.subgraphs() || m.subgraphs()->size() == 0) throw Error("TFLite file '" + path + "' has no subgraph");
  const tfl::SubGraph& g = *m.subgraphs()->Get(0);
  if (!g.inputs() || g.inputs()->size() == 0 || !g.outputs() || g.outputs()->size() == 0) {
    throw Error("TFLite file '" + path + "': its subgraph has no input or no output");
  }
  TfLiteModelInfo r;
  r.input = tensor_info(g, g.inputs()->Get(0), path, "subgraph input");
  r.output = tensor_info(g, g.outputs()->Get(0), path, "subgraph output");
  if (m.description()) r.description = m.description()->str();
  if (m.metadata()) {
    for (const tfl::Metadata* e : *m.metadata()) {
      const std::string name = e->name() ? e->name()->str() : "";
      if (!m.buffers() || e->buffer() >= m.buffers()->size()) {
        throw Error("TFLite file '" + path + "': metadata '" + name + "' names buffer " +
                    std::to_string(e->buffer()) + ", which does not exist");
      }
      const auto* b = m.buffers()->Get(e->buffer())->data();
      r.metadata[name] = b ? std::string(reinterpret_cast<const char*>(b->data()), b->size()) : std::string();
    }
  }
  return r;
}

}  // namespace mnas::train
