#include "train/tflite_runtime.h"

#include <armnn/ArmNN.hpp>
#include <armnn/Version.hpp>
#include <armnnTfLiteParser/ITfLiteParser.hpp>

#include "common/error.h"

namespace mnas::train {

TfLiteRun run_tflite(const std::string& path, const std::vector<float>& input) {
  try {
    auto parser = armnnTfLiteParser::ITfLiteParser::Create();
    armnn::INetworkPtr network = parser->CreateNetworkFromBinaryFile(path.c_str());
    const auto in = parser->GetNetworkInputBindingInfo(0, "input");
    const auto out = parser->GetNetworkOutputBindingInfo(0, "logits");
    if (in.second.GetNumElements() != input.size()) {
      throw Error("TFLite model '" + path + "': input has " + std::to_string(in.second.GetNumElements()) +
                  " values, given " + std::to_string(input.size()));
    }
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
    r.output.resize(out.second.GetNumElements());
    for (unsigned d = 0; d < out.second.GetNumDimensions(); ++d) r.output_shape.push_back(out.second.GetShape()[d]);
    const armnn::InputTensors inputs{{in.first, armnn::ConstTensor(in.second, input.data())}};
    const armnn::OutputTensors outputs{{out.first, armnn::Tensor(out.second, r.output.data())}};
    if (runtime->EnqueueWorkload(id, inputs, outputs) != armnn::Status::Success) {
      throw Error("Arm NN failed to run the TFLite model '" + path + "'");
    }
    runtime->UnloadNetwork(id);
    return r;
  } catch (const armnn::Exception& e) {
    throw Error("Arm NN rejected the TFLite model '" + path + "': " + e.what());
  }
}

std::string tflite_runtime_name() {
  return std::string("Arm NN ") + ARMNN_VERSION + " (TfLite parser, CpuRef backend)";  // Debian 20.08: libarmnn 22.0.0
}

}  // namespace mnas::train
