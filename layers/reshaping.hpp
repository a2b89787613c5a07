#pragma once
/// Keras' shape layers without weights: `Flatten`, `Reshape`, `Permute` and `RepeatVector`. The
/// batch axis (0) is never touched; shapes and axes name the other axes only, as in Keras.
#include <string>
#include <vector>

#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

/// The option of `Flatten` after the common ones: `data_format` ("channels_last", default, or
/// "channels_first", any case). With channels_first, an input of rank >= 3 is first moved to
/// channels_last, so the flattened order is the same as for the equivalent channels_last model
/// (Keras).
#define TAPEFLOW_FLATTEN_FIELDS(F) F(std::string, data_format, "channels_last")

/// Options of `Flatten`. Example: `FlattenOptions().data_format("channels_first")`
struct FlattenOptions : LayerOptionsBase<FlattenOptions> {
  TAPEFLOW_DERIVED_FIELDS(FlattenOptions, LayerOptionsBase, TAPEFLOW_FLATTEN_FIELDS)
  static constexpr PrintedFields printed{"", "data_format"};
};

/// Keras `Flatten`: `(batch, d1, ..., dn) -> (batch, d1 * ... * dn)`; `(batch,)` -> `(batch, 1)`.
/// Default name "flatten".
///
/// Example:
/// ```
/// tapeflow::layers::Flatten flat;
/// tapeflow::Variable y = flat(x);   // x (2, 3, 4, 5) -> y (2, 60)
/// ```
class Flatten : public LayerWith<FlattenOptions> {
 public:
  explicit Flatten(const FlattenOptions& options = {});
  std::string class_name() const override { return "Flatten"; }

 protected:
  Variable call(const Variable& x, bool training) override;
};

/// The option of `Reshape` after the common ones: `target_shape` (required, without the batch
/// axis), where one entry may be -1 (inferred from the input size, as in Keras).
#define TAPEFLOW_RESHAPE_FIELDS(F) F(std::vector<long>, target_shape, {})

/// Options of `Reshape`. Example: `ReshapeOptions({-1, 4})`
struct ReshapeOptions : LayerOptionsBase<ReshapeOptions> {
  ReshapeOptions() = default;
  explicit ReshapeOptions(std::vector<long> shape) { target_shape(std::move(shape)); }
  TAPEFLOW_DERIVED_FIELDS(ReshapeOptions, LayerOptionsBase, TAPEFLOW_RESHAPE_FIELDS)
  static constexpr PrintedFields printed{"target_shape"};
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
class Reshape : public LayerWith<ReshapeOptions> {
 public:
  explicit Reshape(const ReshapeOptions& options);
  std::string class_name() const override { return "Reshape"; }

 protected:
  Variable call(const Variable& x, bool training) override;
};

/// The option of `Permute` after the common ones: `dims` (required), a permutation of `1..n`
/// (1-based, the batch axis excluded, as in Keras): output axis `i` is input axis `dims[i-1]`.
#define TAPEFLOW_PERMUTE_FIELDS(F) F(std::vector<int>, dims, {})

/// Options of `Permute`. Example: `PermuteOptions({2, 1})`
struct PermuteOptions : LayerOptionsBase<PermuteOptions> {
  PermuteOptions() = default;
  explicit PermuteOptions(std::vector<int> d) { dims(std::move(d)); }
  TAPEFLOW_DERIVED_FIELDS(PermuteOptions, LayerOptionsBase, TAPEFLOW_PERMUTE_FIELDS)
  static constexpr PrintedFields printed{"dims"};
};

/// Keras `Permute`: reorders the non-batch axes; the input must have rank `dims.size() + 1`.
/// Default name "permute".
///
/// Example:
/// ```
/// tapeflow::layers::Permute p(tapeflow::layers::PermuteOptions({2, 1}));
/// tapeflow::Variable y = p(x);   // x (4, 10, 64) -> y (4, 64, 10)
/// ```
class Permute : public LayerWith<PermuteOptions> {
 public:
  explicit Permute(const PermuteOptions& options);
  std::string class_name() const override { return "Permute"; }

 protected:
  Variable call(const Variable& x, bool training) override;
};

/// The option of `RepeatVector` after the common ones: `n` (required, >= 1), the number of
/// repetitions.
#define TAPEFLOW_REPEAT_VECTOR_FIELDS(F) F(long, n, 0)

/// Options of `RepeatVector`. Example: `RepeatVectorOptions(3)`
struct RepeatVectorOptions : LayerOptionsBase<RepeatVectorOptions> {
  RepeatVectorOptions() = default;
  explicit RepeatVectorOptions(long times) { n(times); }
  TAPEFLOW_DERIVED_FIELDS(RepeatVectorOptions, LayerOptionsBase, TAPEFLOW_REPEAT_VECTOR_FIELDS)
  static constexpr PrintedFields printed{"n"};
};

/// Keras `RepeatVector`: `(batch, features) -> (batch, n, features)`, each sample's vector
/// repeated `n` times. Default name "repeat_vector". Errors: `n` < 1; an input of rank other
/// than 2.
///
/// Example:
/// ```
/// tapeflow::layers::RepeatVector rep(tapeflow::layers::RepeatVectorOptions(3));
/// tapeflow::Variable y = rep(x);   // x (2, 4) -> y (2, 3, 4)
/// ```
class RepeatVector : public LayerWith<RepeatVectorOptions> {
 public:
  explicit RepeatVector(const RepeatVectorOptions& options);
  std::string class_name() const override { return "RepeatVector"; }

 protected:
  Variable call(const Variable& x, bool training) override;
};

}  // namespace tapeflow::layers
