#pragma once
/// Keras `PReLU` layer: a leaky ReLU whose negative slopes are learned weights.
#include <string>
#include <vector>

#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

/// Options of `PReLU` (Keras names and defaults): `alpha_initializer` ("zeros"),
/// `alpha_regularizer`, `alpha_constraint`, and `shared_axes`: input axes (1-based, the batch
/// axis 0 excluded, as in Keras) along which the slopes are shared; e.g. `{1, 2, 3}` for one
/// slope per channel of a `(batch, d, h, w, channels)` input.
///
/// Example: `PReLUOptions().shared_axes({1, 2}).alpha_initializer(initializers::constant(0.25f))`
struct PReLUOptions : LayerOptionsBase<PReLUOptions> {
  TAPEFLOW_ARG(Initializer, alpha_initializer) = "zeros";
  TAPEFLOW_ARG(Regularizer, alpha_regularizer);
  TAPEFLOW_ARG(Constraint, alpha_constraint);
  TAPEFLOW_ARG(std::vector<int>, shared_axes);
};

/// Keras `PReLU`, default name "p_re_lu": `y = max(x, 0) + alpha * min(x, 0)` elementwise, with
/// the weight `alpha` of shape `input_shape[1:]`, size 1 along each shared axis. Same shape as
/// the input. Errors: an input of rank < 2; a shared axis outside `[1, rank)`; after the first
/// call, an input whose rank or non-shared sizes differ.
///
/// Example:
/// ```
/// tapeflow::layers::PReLU act(tapeflow::layers::PReLUOptions().shared_axes({1}));
/// tapeflow::Variable y = act(x);   // x (batch, 5, 3): alpha (1, 3)
/// ```
class PReLU : public Layer {
 public:
  explicit PReLU(const PReLUOptions& options = {});
  std::string class_name() const override { return "PReLU"; }
  const PReLUOptions& options() const { return options_; }
  /// The slopes (undefined before the first call).
  const Variable& alpha() const { return alpha_; }
  /// Base keys plus `alpha_initializer`, `alpha_regularizer`, `alpha_constraint`,
  /// `shared_axes` ("None" when unset).
  Config get_config() const override;

 protected:
  void build(const Shape& input_shape) override;
  Variable call(const Variable& x, bool training) override;
  /// `shared_axes=(1, 2)` when set, else empty.
  std::string extra_repr() const override;

 private:
  PReLUOptions options_;
  Variable alpha_;
};

}  // namespace tapeflow::layers
