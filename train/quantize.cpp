#include "train/quantize.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace mnas::train::quant {

void Range::observe(const float* values, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float v = values[i];
    if (!std::isfinite(v)) continue;
    min = std::min(min, v);
    max = std::max(max, v);
  }
}

const Range& at(const Ranges& ranges, const std::string& k) {
  const auto it = ranges.find(k);
  if (it == ranges.end()) throw Error("int8 quantization: no calibrated range for tensor '" + k + "'");
  return it->second;
}

Params activation_params(const Range& r) {
  if (r.empty()) return {1.f, -128};
  if (!std::isfinite(r.min) || !std::isfinite(r.max)) {
    throw ConfigError("int8 quantization: calibrated range [" + std::to_string(r.min) + ", " +
                      std::to_string(r.max) + "] is not finite");
  }
  const double lo = std::min(0.0, static_cast<double>(r.min)), hi = std::max(0.0, static_cast<double>(r.max));
  if (hi - lo <= 0) return {1.f, -128};
  Params p;
  p.scale = static_cast<float>((hi - lo) / 255.0);
  const double zp = std::nearbyint(-128.0 - lo / static_cast<double>(p.scale));
  p.zero_point = static_cast<int32_t>(std::clamp(zp, -128.0, 127.0));
  return p;
}

std::vector<float> channel_scales(const std::vector<float>& w, int64_t channels, int64_t per_channel) {
  if (channels < 1 || per_channel < 1 || static_cast<int64_t>(w.size()) != channels * per_channel) {
    throw ConfigError("int8 quantization: " + std::to_string(w.size()) + " weights are not " +
                      std::to_string(channels) + " channels of " + std::to_string(per_channel));
  }
  std::vector<float> scales(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) {
    float m = 0;
    for (int64_t i = 0; i < per_channel; ++i) {
      const float v = w[static_cast<size_t>(c * per_channel + i)];
      if (!std::isfinite(v)) {
        throw ConfigError("int8 quantization: weight " + std::to_string(i) + " of channel " + std::to_string(c) +
                          " is not finite");
      }
      m = std::max(m, std::fabs(v));
    }
    scales[static_cast<size_t>(c)] = m > 0 ? m / 127.f : 1.f;
  }
  return scales;
}

int8_t quantize_int8(float v, const Params& p) {
  const double q = std::nearbyint(static_cast<double>(v) / p.scale) + p.zero_point;
  return static_cast<int8_t>(std::clamp(q, -128.0, 127.0));
}

std::vector<int8_t> quantize_values(const float* values, size_t n, const Params& p) {
  std::vector<int8_t> q(n);
  for (size_t i = 0; i < n; ++i) q[i] = quantize_int8(values[i], p);
  return q;
}

std::vector<float> dequantize_values(const std::vector<int8_t>& q, const Params& p) {
  std::vector<float> v(q.size());
  for (size_t i = 0; i < q.size(); ++i) v[i] = dequantize(q[i], p);
  return v;
}

std::vector<int8_t> quantize_channels(const std::vector<float>& w, const std::vector<float>& scales) {
  if (scales.empty() || w.size() % scales.size() != 0) {
    throw ConfigError("int8 quantization: " + std::to_string(w.size()) + " weights do not split into " +
                      std::to_string(scales.size()) + " channels");
  }
  const size_t per = w.size() / scales.size();
  std::vector<int8_t> q(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    const double v = std::nearbyint(static_cast<double>(w[i]) / scales[i / per]);
    q[i] = static_cast<int8_t>(std::clamp(v, -127.0, 127.0));
  }
  return q;
}

std::vector<int32_t> quantize_bias(const std::vector<float>& bias, float input_scale,
                                   const std::vector<float>& weight_scales) {
  if (bias.size() != weight_scales.size()) {
    throw ConfigError("int8 quantization: " + std::to_string(bias.size()) + " biases for " +
                      std::to_string(weight_scales.size()) + " weight channels");
  }
  std::vector<int32_t> q(bias.size());
  constexpr double lo = std::numeric_limits<int32_t>::min(), hi = std::numeric_limits<int32_t>::max();
  for (size_t c = 0; c < bias.size(); ++c) {
    const double s = static_cast<double>(input_scale) * weight_scales[c];
    q[c] = static_cast<int32_t>(std::clamp(std::nearbyint(bias[c] / s), lo, hi));
  }
  return q;
}

}  // namespace mnas::train::quant
