#pragma once
/// Keras `Embedding`: looks up a learned vector for each integer id.
#include <optional>
#include <string>

#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

/// The options of `Embedding` after the common ones (Keras names and defaults): `input_dim`
/// (vocabulary size) and `output_dim` (vector size), both required; `embeddings_initializer`
/// ("uniform": uniform in ±0.05), `embeddings_regularizer`, `embeddings_constraint`,
/// `mask_zero` (false: with true, id 0 is padding, and the output's mask, `compute_mask`, marks
/// the other ids for the layers after it, layers/masking.hpp). Keras' `input_length` is not
/// supported (shapes are always known).
#define TAPEFLOW_EMBEDDING_FIELDS(F)                \
  F(long, input_dim, 0)                             \
  F(long, output_dim, 0)                            \
  F(Initializer, embeddings_initializer, "uniform") \
  F(Regularizer, embeddings_regularizer, {})        \
  F(Constraint, embeddings_constraint, {})          \
  F(bool, mask_zero, false)

/// Options of `Embedding`.
///
/// Example: `EmbeddingOptions(1000, 64).embeddings_regularizer(regularizers::l2(1e-5))`
struct EmbeddingOptions : LayerOptionsBase<EmbeddingOptions> {
  EmbeddingOptions() = default;
  EmbeddingOptions(long in, long out) { input_dim(in).output_dim(out); }
  TAPEFLOW_DERIVED_FIELDS(EmbeddingOptions, LayerOptionsBase, TAPEFLOW_EMBEDDING_FIELDS)
  static constexpr PrintedFields printed{"input_dim, output_dim"};
};

/// Keras `Embedding`, default name "embedding". The input holds integer ids stored as floats,
/// any shape of rank >= 1; the output has shape `input.shape + (output_dim,)`, row `i` of the
/// weight `embeddings` `(input_dim, output_dim)` for id `i`. The gradient goes to `embeddings`
/// (rows summed per id, as `tf.gather`); the ids get none.
/// Errors: `input_dim` or `output_dim` <= 0; an id that is not an integer, or outside
/// `[0, input_dim)` (the message names the id, its position and `input_dim`).
///
/// Example:
/// ```
/// tapeflow::layers::Embedding emb(tapeflow::layers::EmbeddingOptions(10, 4));
/// tapeflow::Variable y = emb(tapeflow::Tensor{{1.f, 7.f, 7.f}});   // (1, 3) -> (1, 3, 4)
/// ```
class Embedding : public LayerWith<EmbeddingOptions> {
 public:
  explicit Embedding(const EmbeddingOptions& options);
  std::string class_name() const override { return "Embedding"; }
  /// With `mask_zero`, `ids != 0` (the input's shape); none otherwise (Keras).
  std::optional<Tensor> compute_mask(const Variable& ids,
                                     const std::optional<Tensor>& mask) const override;
  /// The table (undefined before the first call).
  const Variable& embeddings() const { return embeddings_; }

 protected:
  void build(const Shape& input_shape) override;
  Variable call(const Variable& x, bool training) override;

 private:
  Variable embeddings_;
};

}  // namespace tapeflow::layers
