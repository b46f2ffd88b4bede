// The TensorFlow Lite model (float32, NHWC) of a network, emitted from the
// walk of model/network_walk.h over an eval-mode module's weights with every
// BatchNorm folded into its conv, as a flatbuffer of the official TFLite
// schema (the subset in train/tflite_schema.fbs, file identifier "TFL3").
// Used by train/export.cpp.
//
// Ops: CONV_2D / DEPTHWISE_CONV_2D with fused RELU (weights OHWI /
// 1HW(C*M)); SE as AVERAGE_POOL_2D over the whole map, CONV_2D (RELU),
// CONV_2D, LOGISTIC, MUL; residuals as ADD; the classifier as
// AVERAGE_POOL_2D, RESHAPE, FULLY_CONNECTED. Padding: TFLite's SAME where it
// equals the walk's padding (always with tf_same, and for PyTorch's
// symmetric k / 2 at stride 1 or an odd input size), VALID when there is
// none, otherwise an explicit PAD and VALID (PyTorch's symmetric padding of
// a stride-2 layer over an even input, which SAME would put bottom/right
// only). The pooling skip's average excludes the padding: SAME pooling
// where it matches, otherwise PAD, VALID pooling and a MUL by the constant
// k*k / (pixels inside the input) of each output position.
//
// int8 (post-training quantization, given calibrated ranges; the TFLite int8
// specification): float32 "input" -> QUANTIZE -> int8 network -> DEQUANTIZE
// -> float32 "logits". Activations int8 asymmetric per tensor from their
// ranges (train/quantize.h); CONV_2D / DEPTHWISE_CONV_2D weights int8
// symmetric per output channel (quantized_dimension 0 / 3), biases int32
// with scale input scale x weight scale; FULLY_CONNECTED weights per tensor
// (per-channel FULLY_CONNECTED came to TFLite after Arm NN 20.08). As the
// specification requires, AVERAGE_POOL_2D, PAD and RESHAPE keep their
// input's parameters and LOGISTIC's output is scale 1/256, zero point -128;
// the pooling skip's count constant is an int8 tensor of its own.
// Quantized I/O (int8_io): "input" and "logits" are the int8 tensors
// themselves, no QUANTIZE at the start nor DEQUANTIZE at the end; "input"
// carries the parameters of the calibrated input range (the first
// activation), "logits" those of the classifier's output range.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model/network_walk.h"
#include "model/weights.h"
#include "train/quantize.h"

namespace mnas::train {

class TfLiteEmitter : public model::Emitter<int> {
 public:
  // Declares input "input" [batch, size, size, channels] (NHWC, normalised as
  // in training) and, through classifier(), output "logits" [batch, classes].
  // `weights` must outlive the emitter, and `int8` too when given: the
  // calibrated ranges (train/calibrate.h) that make the model int8; a
  // missing range throws mnas::Error. `int8_io` (int8 only, else
  // mnas::Error): int8 "input" and "logits" tensors.
  TfLiteEmitter(const model::ModuleWeights& weights, double bn_epsilon, int batch, int channels, int size,
                int classes, const quant::Ranges* int8 = nullptr, bool int8_io = false);
  ~TfLiteEmitter() override;

  // Tensor index the network starts from: "input", or its QUANTIZE for int8.
  int input() const;

  int conv(const int& x, const model::ConvStep& step) override;
  int squeeze_excite(const int& x, const model::SqueezeExciteStep& step) override;
  int residual(const int& y, const int& input, const model::ResidualStep& step) override;
  // Names its output "logits" and makes it the subgraph's output; the step's
  // classes must be the constructor's (mnas::Error).
  int classifier(const int& x, const model::ClassifierStep& step) override;

  int operators() const;
  // The serialised model (identifier "TFL3", schema version 3) with
  // `description` and `metadata` (Model.metadata: one named buffer each, in
  // this order); once. Throws mnas::Error when classifier() was never
  // emitted or on a second call.
  std::vector<uint8_t> finish(const std::string& description,
                              const std::vector<std::pair<std::string, std::string>>& metadata = {});

 private:
  struct State;
  std::unique_ptr<State> s_;
  const model::ModuleWeights& weights_;
  double bn_epsilon_;
};

}  // namespace mnas::train
