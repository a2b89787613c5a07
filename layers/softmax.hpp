#pragma once
/// Keras `Softmax` layer: the softmax along one axis.
#include <string>

#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

/// The option of `Softmax` after the common ones: `axis` (-1; negative counts from the end).
#define TAPEFLOW_SOFTMAX_FIELDS(F) F(int, axis, -1)

/// Options of `Softmax`. Example: `SoftmaxOptions().axis(1)`
struct SoftmaxOptions : LayerOptionsBase<SoftmaxOptions> {
  TAPEFLOW_DERIVED_FIELDS(SoftmaxOptions, LayerOptionsBase, TAPEFLOW_SOFTMAX_FIELDS)
  static constexpr PrintedFields printed{"", "axis"};
};

/// Keras `Softmax`, default name "softmax": `exp(x) / sum(exp(x))` along `axis` (computed
/// stably, as `activations::softmax`). No weights; same shape as the input. Error: an `axis`
/// outside the input's rank (naming the layer, the axis and the shape), on every call.
///
/// Example:
/// ```
/// tapeflow::layers::Softmax probs;
/// tapeflow::Variable y = probs(logits);             // (2, 5): each row sums to 1
/// ```
class Softmax : public LayerWith<SoftmaxOptions> {
 public:
  explicit Softmax(const SoftmaxOptions& options = {});
  std::string class_name() const override { return "Softmax"; }

 protected:
  Variable call(const Variable& x, bool training) override;
};

}  // namespace tapeflow::layers
