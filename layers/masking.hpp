#pragma once
/// Keras `Masking`: marks the time steps whose features all equal a value as padding, for the
/// layers after it that take a mask (the recurrent layers, attention, global average pooling).
#include <optional>
#include <string>

#include "tapeflow/layers/layer.hpp"

/// The option of `Masking` after the common ones (Keras name and default): `mask_value` (0).
#define TAPEFLOW_MASKING_FIELDS(F) F(float, mask_value, 0.f)

namespace tapeflow::layers {

/// Options of `Masking`. Example: `MaskingOptions(-1.f)`
struct MaskingOptions : LayerOptionsBase<MaskingOptions> {
  MaskingOptions() = default;
  explicit MaskingOptions(float v) { mask_value(v); }
  TAPEFLOW_DERIVED_FIELDS(MaskingOptions, LayerOptionsBase, TAPEFLOW_MASKING_FIELDS)
  static constexpr PrintedFields printed{"mask_value"};
};

/// Keras `Masking`, default name "masking". For an input `(batch, time, ..., features)`, a
/// step is masked when every feature equals `mask_value`: its mask, `compute_mask`, is
/// `any(x != mask_value)` over the last axis (1 where the step counts, 0 where masked), and the
/// output is `x` with the masked steps set to 0. In a `Model` or `Sequential` the mask goes to
/// the next layers (layers/layer.hpp, "masking"): those that support masking use it (an RNN
/// skips the masked steps) or pass it on; others drop it. Called directly, get the mask with
/// `compute_mask(x, std::nullopt)` and hand it on with `masked_call`. Error: an input of rank
/// below 2.
///
/// Example:
/// ```
/// tapeflow::layers::Masking masking;
/// tapeflow::Variable y = masking(x);                      // x (2, 5, 3), padded steps all 0
/// auto mask = masking.compute_mask(x, std::nullopt);      // (2, 5): 1 for the real steps
/// tapeflow::Variable h = lstm.masked_call(y, *mask);      // the padding is skipped
/// ```
class Masking : public LayerWith<MaskingOptions> {
 public:
  explicit Masking(const MaskingOptions& options = {});
  std::string class_name() const override { return "Masking"; }
  bool supports_masking() const override { return true; }
  /// `any(x != mask_value)` over the last axis, whatever the input's mask (Keras).
  std::optional<Tensor> compute_mask(const Variable& x,
                                     const std::optional<Tensor>& mask) const override;

 protected:
  Variable call(const Variable& x, bool training) override;
};

}  // namespace tapeflow::layers
