#pragma once
/// Keras `ReLU` layer: the rectifier with Keras' three options (a cap, a slope below the
/// threshold, the threshold).
#include <optional>
#include <string>

#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

/// The options of `ReLU` after the common ones (Keras names and defaults): `max_value` (None:
/// no cap), `negative_slope` (0), `threshold` (0). All three must be >= 0 (Keras).
#define TAPEFLOW_RELU_FIELDS(F)                    \
  F(std::optional<float>, max_value, std::nullopt) \
  F(float, negative_slope, 0.f)                    \
  F(float, threshold, 0.f)

/// Options of `ReLU`.
///
/// Example: `ReLUOptions().max_value(6.f)` (ReLU6), `ReLUOptions().negative_slope(0.1f)`
struct ReLUOptions : LayerOptionsBase<ReLUOptions> {
  TAPEFLOW_DERIVED_FIELDS(ReLUOptions, LayerOptionsBase, TAPEFLOW_RELU_FIELDS)
  static constexpr PrintedFields printed{"", "max_value, negative_slope, threshold"};
};

/// Keras `ReLU`, default name "re_lu": `x` above `threshold` (capped at `max_value`), and
/// `negative_slope * (x - threshold)` at or below it, as `activations::relu` with the same
/// arguments. No weights; same shape as the input. Errors: a negative or non-finite option.
///
/// Example:
/// ```
/// tapeflow::layers::ReLU relu6(tapeflow::layers::ReLUOptions().max_value(6.f));
/// tapeflow::Variable y = relu6(x);                  // [-1, 3, 9] -> [0, 3, 6]
/// ```
class ReLU : public LayerWith<ReLUOptions> {
 public:
  explicit ReLU(const ReLUOptions& options = {});
  std::string class_name() const override { return "ReLU"; }

 protected:
  Variable call(const Variable& x, bool training) override;
};

}  // namespace tapeflow::layers
