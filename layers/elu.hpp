#pragma once
/// Keras `ELU` layer: the exponential linear unit.
#include <string>

#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

/// The option of `ELU` after the common ones: `alpha` (1), the scale of the negative part.
#define TAPEFLOW_ELU_FIELDS(F) F(float, alpha, 1.f)

/// Options of `ELU`. Example: `ELUOptions().alpha(0.5f)`
struct ELUOptions : LayerOptionsBase<ELUOptions> {
  TAPEFLOW_DERIVED_FIELDS(ELUOptions, LayerOptionsBase, TAPEFLOW_ELU_FIELDS)
  static constexpr PrintedFields printed{"", "alpha"};
};

/// Keras `ELU`, default name "elu": `x` for `x > 0`, `alpha * (exp(x) - 1)` otherwise, as
/// `activations::elu`. No weights; same shape as the input. Error: a non-finite `alpha`.
///
/// Example:
/// ```
/// tapeflow::layers::ELU elu;
/// tapeflow::Variable y = elu(x);                    // [-1, 2] -> [-0.632, 2]
/// ```
class ELU : public LayerWith<ELUOptions> {
 public:
  explicit ELU(const ELUOptions& options = {});
  std::string class_name() const override { return "ELU"; }

 protected:
  Variable call(const Variable& x, bool training) override;
};

}  // namespace tapeflow::layers
