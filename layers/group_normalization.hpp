#pragma once
/// Keras `GroupNormalization`: normalizes each sample over groups of channels (instance
/// normalization with `groups` = channels), the usual choice for small 3-D batches.
#include <string>

#include "tapeflow/layers/detail/normalization.hpp"
#include "tapeflow/layers/layer.hpp"

/// The option of `GroupNormalization` before those of every normalization layer (Keras' order):
/// `groups` (32), the number of channel groups; -1 means one group per channel.
#define TAPEFLOW_GROUP_NORMALIZATION_FIELDS(F) \
  F(int, groups, 32)                           \
  TAPEFLOW_NORMALIZATION_FIELDS(F)

namespace tapeflow::layers {

/// Options of `GroupNormalization`: `groups` (32), then those of every normalization layer
/// (`TAPEFLOW_NORMALIZATION_FIELDS`: `axis` -1, a single axis here, the channel axis; `epsilon`
/// 1e-3; `center`, `scale`; the initializers, regularizers and constraints of `beta` and
/// `gamma`; Keras names and defaults).
///
/// Example: `GroupNormalizationOptions(8)`, `GroupNormalizationOptions(-1).axis(1)` (instance
/// normalization, channels_first)
struct GroupNormalizationOptions : LayerOptionsBase<GroupNormalizationOptions> {
  GroupNormalizationOptions() = default;
  explicit GroupNormalizationOptions(int g) { groups(g); }
  TAPEFLOW_DERIVED_FIELDS(GroupNormalizationOptions, LayerOptionsBase,
                          TAPEFLOW_GROUP_NORMALIZATION_FIELDS)
  static constexpr PrintedFields printed{"groups, axis, epsilon", "center, scale"};
};

/// Keras `GroupNormalization`, default name "group_normalization": the channels (axis `axis`)
/// split into `groups` consecutive groups; each sample's group normalized with its own mean and
/// biased variance over the group's channels and every other non-batch axis, then
/// `* gamma + beta` per channel (weights of shape `(channels,)`). `groups` = channels (or -1) is
/// instance normalization, `groups` = 1 layer normalization over all non-batch axes. Same in
/// training and inference; fused and threaded (`group_norm`, framework/ops/normalization.hpp).
/// Errors: `groups` 0 or below -1, more than one axis, a negative or non-finite epsilon (at
/// construction); an axis out of range or the batch axis, more groups than channels, `groups`
/// not dividing the channels (at the first call); after it, an input of another rank or
/// channel count.
///
/// Example:
/// ```
/// tapeflow::layers::GroupNormalization norm(tapeflow::layers::GroupNormalizationOptions(4));
/// tapeflow::Variable y = norm(x);   // x (2, 8, 8, 8, 16): 4 groups of 4 channels per sample
/// ```
class GroupNormalization : public detail::Normalization<GroupNormalizationOptions> {
 public:
  explicit GroupNormalization(const GroupNormalizationOptions& options = {});
  std::string class_name() const override { return "GroupNormalization"; }

 protected:
  void build(const Shape& input_shape) override;
  Variable call(const Variable& x, bool training) override;

 private:
  std::size_t groups_ = 0;  // the effective number of groups (set by build)
};

}  // namespace tapeflow::layers
