#pragma once
/// Keras `PReLU` layer: a leaky ReLU whose negative slopes are learned weights.
#include <string>
#include <vector>

#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

/// The options of `PReLU` after the common ones (Keras names and defaults): `alpha_initializer`
/// ("zeros"), `alpha_regularizer`, `alpha_constraint`, and `shared_axes` (None): input axes
/// (1-based, the batch axis 0 excluded, as in Keras) along which the slopes are shared; e.g.
/// `{1, 2, 3}` for one slope per channel of a `(batch, d, h, w, channels)` input.
#define TAPEFLOW_PRELU_FIELDS(F)             \
  F(Initializer, alpha_initializer, "zeros") \
  F(Regularizer, alpha_regularizer, {})      \
  F(Constraint, alpha_constraint, {})        \
  F(NoneableList<int>, shared_axes, {})

/// Options of `PReLU`.
///
/// Example: `PReLUOptions().shared_axes({1, 2}).alpha_initializer(initializers::constant(0.25f))`
struct PReLUOptions : LayerOptionsBase<PReLUOptions> {
  TAPEFLOW_DERIVED_FIELDS(PReLUOptions, LayerOptionsBase, TAPEFLOW_PRELU_FIELDS)
  static constexpr PrintedFields printed{"", "shared_axes"};
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
class PReLU : public LayerWith<PReLUOptions> {
 public:
  explicit PReLU(const PReLUOptions& options = {});
  std::string class_name() const override { return "PReLU"; }
  /// The slopes (undefined before the first call).
  const Variable& alpha() const { return alpha_; }

 protected:
  void build(const Shape& input_shape) override;
  Variable call(const Variable& x, bool training) override;

 private:
  Variable alpha_;
};

}  // namespace tapeflow::layers
