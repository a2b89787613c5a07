#pragma once
/// Keras `LeakyReLU` layer: `x` for `x > 0`, `alpha * x` otherwise.
#include <string>

#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

/// The option of `LeakyReLU` after the common ones: `alpha`, the slope for negative inputs
/// (Keras layer default 0.3; Keras 3 calls it `negative_slope`, also accepted as a setter).
#define TAPEFLOW_LEAKY_RELU_FIELDS(F) F(float, alpha, 0.3f)

/// Options of `LeakyReLU`.
///
/// Example: `LeakyReLUOptions().alpha(0.1f)`
struct LeakyReLUOptions : LayerOptionsBase<LeakyReLUOptions> {
  TAPEFLOW_DERIVED_FIELDS(LeakyReLUOptions, LayerOptionsBase, TAPEFLOW_LEAKY_RELU_FIELDS)
  static constexpr PrintedFields printed{"alpha"};
  /// Keras 3 name of `alpha`.
  LeakyReLUOptions& negative_slope(float v) { return alpha(v); }
};

/// Keras `LeakyReLU`, default name "leaky_re_lu". No weights; same shape as the input.
/// Error: a non-finite `alpha`.
///
/// Example:
/// ```
/// tapeflow::layers::LeakyReLU act;                  // alpha 0.3
/// tapeflow::Variable y = act(x);                    // [-1, 2] -> [-0.3, 2]
/// ```
class LeakyReLU : public LayerWith<LeakyReLUOptions> {
 public:
  explicit LeakyReLU(const LeakyReLUOptions& options = {});
  std::string class_name() const override { return "LeakyReLU"; }

 protected:
  Variable call(const Variable& x, bool training) override;
};

}  // namespace tapeflow::layers
