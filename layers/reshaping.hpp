#pragma once
/// Keras' shape layers without weights: `Flatten`, `Reshape` and `Permute`. The batch axis (0)
/// is never touched; shapes and axes name the other axes only, as in Keras.
#include <string>
#include <vector>

#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

/// Options of `Flatten`: `data_format` (`"channels_last"`, default, or `"channels_first"`, any
/// case). With channels_first, an input of rank >= 3 is first moved to channels_last, so the
/// flattened order is the same as for the equivalent channels_last model (Keras).
struct FlattenOptions : LayerOptionsBase<FlattenOptions> {
  TAPEFLOW_ARG(std::string, data_format) = "channels_last";
};

/// Keras `Flatten`: `(batch, d1, ..., dn) -> (batch, d1 * ... * dn)`; `(batch,)` -> `(batch, 1)`.
/// Default name "flatten".
///
/// Example:
/// ```
/// tapeflow::layers::Flatten flat;
/// tapeflow::Variable y = flat(x);   // x (2, 3, 4, 5) -> y (2, 60)
/// ```
class Flatten : public Layer {
 public:
  explicit Flatten(const FlattenOptions& options = {});
  std::string class_name() const override { return "Flatten"; }
  const FlattenOptions& options() const { return options_; }
  /// Base keys plus `data_format`.
  Config get_config() const override;

 protected:
  Variable call(const Variable& x, bool training) override;
  std::string extra_repr() const override;

 private:
  FlattenOptions options_;
};

/// Options of `Reshape`: the required `target_shape` (without the batch axis), where one entry
/// may be -1 (inferred from the input size, as in Keras).
struct ReshapeOptions : LayerOptionsBase<ReshapeOptions> {
  explicit ReshapeOptions(std::vector<long> target_shape)
      : target_shape_(std::move(target_shape)) {}
  TAPEFLOW_ARG(std::vector<long>, target_shape);
};

/// Keras `Reshape`: `(batch, ...) -> (batch, *target_shape)`. Default name "reshape". A target
/// whose size differs from the input's (per sample) is an Error naming the layer and both
/// shapes.
///
/// Example:
/// ```
/// tapeflow::layers::Reshape r(tapeflow::layers::ReshapeOptions({-1, 4}));
/// tapeflow::Variable y = r(x);   // x (2, 3, 4) -> y (2, 3, 4); x (2, 8) -> y (2, 2, 4)
/// ```
class Reshape : public Layer {
 public:
  explicit Reshape(const ReshapeOptions& options);
  std::string class_name() const override { return "Reshape"; }
  const ReshapeOptions& options() const { return options_; }
  /// Base keys plus `target_shape`.
  Config get_config() const override;

 protected:
  Variable call(const Variable& x, bool training) override;
  std::string extra_repr() const override;

 private:
  ReshapeOptions options_;
};

/// Options of `Permute`: the required `dims`, a permutation of `1..n` (1-based, the batch axis
/// excluded, as in Keras): output axis `i` is input axis `dims[i-1]`.
struct PermuteOptions : LayerOptionsBase<PermuteOptions> {
  explicit PermuteOptions(std::vector<int> dims) : dims_(std::move(dims)) {}
  TAPEFLOW_ARG(std::vector<int>, dims);
};

/// Keras `Permute`: reorders the non-batch axes; the input must have rank `dims.size() + 1`.
/// Default name "permute".
///
/// Example:
/// ```
/// tapeflow::layers::Permute p(tapeflow::layers::PermuteOptions({2, 1}));
/// tapeflow::Variable y = p(x);   // x (4, 10, 64) -> y (4, 64, 10)
/// ```
class Permute : public Layer {
 public:
  explicit Permute(const PermuteOptions& options);
  std::string class_name() const override { return "Permute"; }
  const PermuteOptions& options() const { return options_; }
  /// Base keys plus `dims`.
  Config get_config() const override;

 protected:
  Variable call(const Variable& x, bool training) override;
  std::string extra_repr() const override;

 private:
  PermuteOptions options_;
};

}  // namespace tapeflow::layers
