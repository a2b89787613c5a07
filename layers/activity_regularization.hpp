#pragma once
/// Keras `ActivityRegularization`: the identity, adding an L1/L2 penalty on its output to the
/// model's losses.
#include <string>

#include "tapeflow/layers/layer.hpp"

/// The options of `ActivityRegularization` after the common ones (Keras names and defaults):
/// `l1` (0), `l2` (0), the factors of the penalty `l1 * sum(|y|) + l2 * sum(y^2)`; both >= 0.
#define TAPEFLOW_ACTIVITY_REGULARIZATION_FIELDS(F) \
  F(float, l1, 0.f)                                \
  F(float, l2, 0.f)

namespace tapeflow::layers {

/// Options of `ActivityRegularization`. Example: `ActivityRegularizationOptions().l1(1e-4f)`
struct ActivityRegularizationOptions : LayerOptionsBase<ActivityRegularizationOptions> {
  TAPEFLOW_DERIVED_FIELDS(ActivityRegularizationOptions, LayerOptionsBase,
                          TAPEFLOW_ACTIVITY_REGULARIZATION_FIELDS)
  static constexpr PrintedFields printed{"l1, l2"};
};

/// Keras `ActivityRegularization`, default name "activity_regularization": returns its input
/// and, on each call, adds `(l1 * sum(|x|) + l2 * sum(x^2)) / batch_size` to `losses()` and the
/// graph's REGULARIZATION_LOSSES: the activity regularizer `l1_l2(l1, l2)` of the common options
/// (see `Layer::operator()`), which this layer sets itself. Its config has `l1` and `l2`, not
/// `activity_regularizer` (as Keras). Errors: a negative or non-finite factor, and an
/// `activity_regularizer` given in the options (the factors say it).
///
/// Example:
/// ```
/// tapeflow::layers::ActivityRegularization reg(
///     tapeflow::layers::ActivityRegularizationOptions().l2(0.01f));
/// tapeflow::Variable y = reg(x);   // y == x; reg.losses()[0] == 0.01 * sum(x^2) / batch
/// ```
class ActivityRegularization : public LayerWith<ActivityRegularizationOptions> {
 public:
  explicit ActivityRegularization(const ActivityRegularizationOptions& options = {});
  std::string class_name() const override { return "ActivityRegularization"; }
  /// Passes a mask on (Keras): the identity keeps the shape.
  bool supports_masking() const override { return true; }
  Config get_config() const override;

 protected:
  Variable call(const Variable& x, bool training) override;
};

}  // namespace tapeflow::layers
