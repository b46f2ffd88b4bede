#include "train/tflite_runtime.h"

#include <armnn/ArmNN.hpp>
#include <armnn/Version.hpp>
#include <armnnTfLiteParser/ITfLiteParser.hpp>

#include <chrono>
#include <type_traits>

#include "common/error.h"

namespace mnas::train {
namespace {

const char* type_name(armnn::DataType t) {
  switch (t) {
    case armnn::DataType::Float32: return "float32";
    case armnn::DataType::QAsymmS8: return "int8";
    case armnn::DataType::QAsymmU8: return "uint8";
    default: return "another type";
  }
}

// T: float (float32 "input") or int8_t (int8 "input").
template <typename T>
TfLiteRun run(const std::string& path, const std::vector<T>& input, int repeat, int warmup) {
  constexpr bool kInt8 = std::is_same_v<T, int8_t>;
  const armnn::DataType want = kInt8 ? armnn::DataType::QAsymmS8 : armnn::DataType::Float32;
  try {
    auto parser = armnnTfLiteParser::ITfLiteParser::Create();
    armnn::INetworkPtr network = parser->CreateNetworkFromBinaryFile(path.c_str());
    const auto in = parser->GetNetworkInputBindingInfo(0, "input");
    const auto out = parser->GetNetworkOutputBindingInfo(0, "logits");
    if (in.second.GetDataType() != want) {
      throw Error("TFLite model '" + path + "': its \"input\" tensor is " + type_name(in.second.GetDataType()) +
                  ", given " + type_name(want) + " values" +
                  (kInt8 ? "" : " (quantized I/O: quantize the input with the tensor's scale and zero point)"));
    }
    const armnn::DataType out_type = out.second.GetDataType();
    if (out_type != armnn::DataType::Float32 && out_type != armnn::DataType::QAsymmS8) {
      throw Error("TFLite model '" + path + "': its \"logits\" tensor is " + type_name(out_type) +
                  ", expected float32 or int8");
    }
    const size_t in_size = in.second.GetNumElements();
    if (input.empty() || input.size() % in_size != 0) {
      throw Error("TFLite model '" + path + "': input has " + std::to_string(in_size) +
                  " values, given " + std::to_string(input.size()) + " (not a multiple)");
    }
    const size_t runs = input.size() / in_size;
    armnn::IRuntimePtr runtime = armnn::IRuntime::Create(armnn::IRuntime::CreationOptions());
    armnn::IOptimizedNetworkPtr optimized =
        armnn::Optimize(*network, {armnn::Compute::CpuRef}, runtime->GetDeviceSpec());
    if (!optimized) throw Error("Arm NN could not optimise the TFLite model '" + path + "' for CpuRef");
    armnn::NetworkId id = 0;
    std::string message;
    if (runtime->LoadNetwork(id, std::move(optimized), message, armnn::INetworkProperties()) !=
        armnn::Status::Success) {
      throw Error("Arm NN could not load the TFLite model '" + path + "': " + message);
    }
    TfLiteRun r;
    const size_t out_size = out.second.GetNumElements();
    const bool int8_out = out_type == armnn::DataType::QAsymmS8;
    if (int8_out) {
      r.output_int8.resize(out_size * runs);
    } else {
      r.output.resize(out_size * runs);
    }
    const auto out_at = [&](size_t k) -> void* {
      return int8_out ? static_cast<void*>(r.output_int8.data() + k * out_size)
                      : static_cast<void*>(r.output.data() + k * out_size);
    };
    for (unsigned d = 0; d < out.second.GetNumDimensions(); ++d) r.output_shape.push_back(out.second.GetShape()[d]);
    for (size_t k = 0; k < runs; ++k) {
      const armnn::InputTensors inputs{{in.first, armnn::ConstTensor(in.second, input.data() + k * in_size)}};
      const armnn::OutputTensors outputs{{out.first, armnn::Tensor(out.second, out_at(k))}};
      if (runtime->EnqueueWorkload(id, inputs, outputs) != armnn::Status::Success) {
        throw Error("Arm NN failed to run the TFLite model '" + path + "'");
      }
    }
    const armnn::InputTensors first{{in.first, armnn::ConstTensor(in.second, input.data())}};
    const armnn::OutputTensors scratch{{out.first, armnn::Tensor(out.second, out_at(0))}};
    for (int i = 0; i < warmup + repeat; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      if (runtime->EnqueueWorkload(id, first, scratch) != armnn::Status::Success) {
        throw Error("Arm NN failed to run the TFLite model '" + path + "'");
      }
      const std::chrono::duration<double, std::milli> ms = std::chrono::steady_clock::now() - t0;
      if (i >= warmup) r.run_ms.push_back(ms.count());
    }
    runtime->UnloadNetwork(id);
    return r;
  } catch (const armnn::Exception& e) {
    throw Error("Arm NN rejected the TFLite model '" + path + "': " + e.what());
  }
}

}  // namespace

TfLiteRun run_tflite(const std::string& path, const std::vector<float>& input, int repeat, int warmup) {
  return run(path, input, repeat, warmup);
}

TfLiteRun run_tflite_int8(const std::string& path, const std::vector<int8_t>& input, int repeat, int warmup) {
  return run(path, input, repeat, warmup);
}

std::string tflite_runtime_name() {
  return std::string("Arm NN ") + ARMNN_VERSION + " (TfLite parser, CpuRef backend)";  // Debian 20.08: libarmnn 22.0.0
}

}  // namespace mnas::train
