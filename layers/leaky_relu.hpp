#pragma once
/// Keras `LeakyReLU` layer: `x` for `x > 0`, `alpha * x` otherwise.
#include <string>

#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

/// Options of `LeakyReLU`: `alpha`, the slope for negative inputs (Keras layer default 0.3;
/// Keras 3 calls it `negative_slope`, also accepted here as a setter).
///
/// Example: `LeakyReLUOptions().alpha(0.1f)`
struct LeakyReLUOptions : LayerOptionsBase<LeakyReLUOptions> {
  TAPEFLOW_ARG(float, alpha) = 0.3f;

 public:
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
class LeakyReLU : public Layer {
 public:
  explicit LeakyReLU(const LeakyReLUOptions& options = {});
  std::string class_name() const override { return "LeakyReLU"; }
  const LeakyReLUOptions& options() const { return options_; }
  /// Base keys plus `alpha`.
  Config get_config() const override;

 protected:
  Variable call(const Variable& x, bool training) override;
  /// `alpha=0.3`.
  std::string extra_repr() const override;

 private:
  LeakyReLUOptions options_;
};

}  // namespace tapeflow::layers
