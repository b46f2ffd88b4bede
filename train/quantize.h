// Post-training int8 quantization: the maths shared by the int8 ONNX (QDQ)
// and TFLite exports. Torch-free.
//
// Conventions (the TFLite int8 quantization specification, which ONNX
// Runtime's static quantization uses too): real = scale * (q - zero_point).
//  - Activations: int8 asymmetric per tensor over the calibrated range
//    [min, max] widened to include 0 (so that zero padding and ReLU's zero
//    are exact): scale = (max - min) / 255, zero_point = round(-128 - min /
//    scale), in [-128, 127].
//  - Weights: int8 symmetric per output channel (zero_point 0), scale =
//    max |w| / 127, values in [-127, 127] (-128 unused, as TFLite requires).
//  - Biases: int32, zero_point 0, scale = input scale x weight scale of the
//    channel (what integer conv kernels add to their int32 accumulators).
// Rounding is to nearest, ties to even (ONNX QuantizeLinear, std::nearbyint
// in the default rounding mode), saturating to the type's range.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace mnas::train::quant {

// The min and max of the values seen by observe() (calibration statistics of
// one tensor). Empty until something finite was observed; NaN and infinite
// values are ignored.
struct Range {
  float min = std::numeric_limits<float>::infinity();
  float max = -std::numeric_limits<float>::infinity();
  void observe(const float* values, size_t n);
  bool empty() const { return min > max; }
};

// The calibrated range of every quantized tensor of a network, by key:
// "input"; a conv step's output (after its ReLU): its module ("stem",
// "blocks.3.depthwise"); squeeze-excite: "<module>/pool", "/reduce",
// "/expand" (before the sigmoid), "/gate" (after it), "/out" (x * gate);
// the n-th residual of the network (0-based): "residual:<n>/pool" (the
// pooling skip's average) and "residual:<n>" (the sum); the classifier:
// "<module>/pool" and "<module>/logits". train/calibrate.h records them,
// the int8 emitters read them.
using Ranges = std::map<std::string, Range>;
inline constexpr const char* kInputKey = "input";
inline std::string key(const std::string& module, const std::string& point) { return module + "/" + point; }
inline std::string residual_key(int n) { return "residual:" + std::to_string(n); }
// The range at `k`; throws mnas::Error naming the key when calibration did not record it.
const Range& at(const Ranges& ranges, const std::string& k);

// real = scale * (q - zero_point).
struct Params {
  float scale = 1.f;
  int32_t zero_point = 0;
};

// Asymmetric int8 parameters for a calibrated `range` (widened to include 0;
// an empty range or one that is only 0 gives scale 1, zero_point -128 for
// [0, 0]). Throws ConfigError when the range is not finite.
Params activation_params(const Range& range);

// Symmetric per-channel int8 scales of `weights`, `channels` consecutive runs
// of `per_channel` values (output-channel-major, as PyTorch's [O, ...]
// weights): max |w| / 127 for each, 1 for an all-zero channel. Throws
// ConfigError when weights.size() != channels * per_channel or a weight is
// not finite.
std::vector<float> channel_scales(const std::vector<float>& weights, int64_t channels, int64_t per_channel);

// round(v / p.scale) + p.zero_point, saturated to [-128, 127].
int8_t quantize_int8(float v, const Params& p);

// `weights` (as channel_scales) quantized with `scales[c]` per channel,
// zero_point 0, saturated to [-127, 127].
std::vector<int8_t> quantize_channels(const std::vector<float>& weights, const std::vector<float>& scales);

// Biases as int32 with scale input_scale * weight_scales[c], zero_point 0
// (saturated). Throws ConfigError when the sizes differ.
std::vector<int32_t> quantize_bias(const std::vector<float>& bias, float input_scale,
                                   const std::vector<float>& weight_scales);

// p.scale * (q - p.zero_point).
inline float dequantize(int32_t q, const Params& p) { return p.scale * static_cast<float>(q - p.zero_point); }

// Whole tensors (quantized I/O: the float input a model's int8 "input"
// tensor stands for, its int8 "logits"): quantize_int8 / dequantize of
// every value with the tensor's parameters `p`.
std::vector<int8_t> quantize_values(const float* values, size_t n, const Params& p);
std::vector<float> dequantize_values(const std::vector<int8_t>& q, const Params& p);

}  // namespace mnas::train::quant
