#include "tapeflow/layers/noise.hpp"

#include <cmath>

#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

namespace {
// A tensor of the given shape drawn from N(mean, stddev^2) by `rng`.
Tensor normal_noise(RandomGenerator& rng, const Shape& shape, float mean, float stddev) {
  Tensor noise = Tensor::from_shape(shape);
  for (auto& v : noise) v = rng.normal(mean, stddev);
  return noise;
}
}  // namespace

GaussianNoise::GaussianNoise(const GaussianNoiseOptions& options)
    : LayerWith(std::in_place, options, "gaussian_noise", options.common(), options.seed()) {
  if (!(std::isfinite(options_.stddev()) && options_.stddev() >= 0.f))
    fail(name(), "stddev must be a finite number >= 0, got " + config_float(options_.stddev()));
}

Variable GaussianNoise::call(const Variable& x, bool training) {
  if (!training || options_.stddev() == 0.f) return x;
  return add(x, Variable(normal_noise(stream(), x.shape(), 0.f, options_.stddev())));
}

TAPEFLOW_REGISTER_LAYER(GaussianNoise)

GaussianDropout::GaussianDropout(const GaussianDropoutOptions& options)
    : LayerWith(std::in_place, options, "gaussian_dropout", options.common(), options.seed()) {
  check_rate(options_.rate());
}

Variable GaussianDropout::call(const Variable& x, bool training) {
  const float rate = options_.rate();
  if (!training || rate == 0.f) return x;
  const float stddev = std::sqrt(rate / (1.f - rate));
  return mul(x, Variable(normal_noise(stream(), x.shape(), 1.f, stddev)));
}

TAPEFLOW_REGISTER_LAYER(GaussianDropout)

}  // namespace tapeflow::layers
