#pragma once
/// Keras' noise layers `GaussianNoise` and `GaussianDropout`: random perturbations in training
/// only (the identity in inference).
#include <optional>
#include <string>

#include "tapeflow/framework/runtime/random.hpp"
#include "tapeflow/layers/detail/random_layer.hpp"
#include "tapeflow/layers/layer.hpp"

/// The options of `GaussianNoise` after the common ones: `stddev` (required, >= 0), the
/// standard deviation of the noise; `seed` (None), the op seed (framework/runtime/random.hpp).
#define TAPEFLOW_GAUSSIAN_NOISE_FIELDS(F) \
  F(float, stddev, 0.f)                   \
  F(Seed, seed, std::nullopt)

/// The options of `GaussianDropout` after the common ones: `rate` (required, in [0, 1)), the
/// drop probability of the equivalent dropout; `seed` (None).
#define TAPEFLOW_GAUSSIAN_DROPOUT_FIELDS(F) \
  F(float, rate, 0.f)                       \
  F(Seed, seed, std::nullopt)

namespace tapeflow::layers {

/// Options of `GaussianNoise`. Example: `GaussianNoiseOptions(0.1f).seed(3)`
struct GaussianNoiseOptions : LayerOptionsBase<GaussianNoiseOptions> {
  GaussianNoiseOptions() = default;
  explicit GaussianNoiseOptions(float s) { stddev(s); }
  TAPEFLOW_DERIVED_FIELDS(GaussianNoiseOptions, LayerOptionsBase, TAPEFLOW_GAUSSIAN_NOISE_FIELDS)
  static constexpr PrintedFields printed{"stddev"};
};

/// Keras `GaussianNoise`, default name "gaussian_noise": with `training=true`,
/// `x + N(0, stddev^2)` drawn for every element from the layer's random stream
/// (`detail::RandomLayer`); with `training=false`, or `stddev == 0`, `x` as is. The gradient is
/// the identity. Error: a negative or non-finite `stddev`.
///
/// Example:
/// ```
/// tapeflow::layers::GaussianNoise noise(tapeflow::layers::GaussianNoiseOptions(0.1f));
/// tapeflow::Variable y = noise(x, /*training=*/true);   // x plus noise of spread 0.1
/// ```
class GaussianNoise : public LayerWith<GaussianNoiseOptions, detail::RandomLayer> {
 public:
  explicit GaussianNoise(const GaussianNoiseOptions& options);
  std::string class_name() const override { return "GaussianNoise"; }

 protected:
  Variable call(const Variable& x, bool training) override;
};

/// Options of `GaussianDropout`. Example: `GaussianDropoutOptions(0.2f)`
struct GaussianDropoutOptions : LayerOptionsBase<GaussianDropoutOptions> {
  GaussianDropoutOptions() = default;
  explicit GaussianDropoutOptions(float r) { rate(r); }
  TAPEFLOW_DERIVED_FIELDS(GaussianDropoutOptions, LayerOptionsBase,
                          TAPEFLOW_GAUSSIAN_DROPOUT_FIELDS)
  static constexpr PrintedFields printed{"rate"};
};

/// Keras `GaussianDropout`, default name "gaussian_dropout": with `training=true`,
/// `x * N(1, rate / (1 - rate))` drawn for every element from the layer's random stream (the
/// same mean and variance as dropout's scaled mask); with `training=false`, or `rate == 0`, `x`
/// as is. The gradient is the same noise. Error: `rate` outside [0, 1).
///
/// Example:
/// ```
/// tapeflow::layers::GaussianDropout drop(tapeflow::layers::GaussianDropoutOptions(0.2f));
/// tapeflow::Variable y = drop(x, /*training=*/true);   // x times noise of mean 1, spread 0.5
/// ```
class GaussianDropout : public LayerWith<GaussianDropoutOptions, detail::RandomLayer> {
 public:
  explicit GaussianDropout(const GaussianDropoutOptions& options);
  std::string class_name() const override { return "GaussianDropout"; }

 protected:
  Variable call(const Variable& x, bool training) override;
};

}  // namespace tapeflow::layers
