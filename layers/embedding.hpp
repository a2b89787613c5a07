#pragma once
/// Keras `Embedding`: looks up a learned vector for each integer id.
#include <string>

#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

/// Options of `Embedding` (Keras names and defaults): the required `input_dim` (vocabulary size)
/// and `output_dim` (vector size), `embeddings_initializer` ("uniform": uniform in ±0.05),
/// `embeddings_regularizer`, `embeddings_constraint`. Keras' `mask_zero` and `input_length` are
/// not supported (tapeflow has no masks; shapes are always known).
///
/// Example: `EmbeddingOptions(1000, 64).embeddings_regularizer(regularizers::l2(1e-5))`
struct EmbeddingOptions : LayerOptionsBase<EmbeddingOptions> {
  EmbeddingOptions(long input_dim, long output_dim)
      : input_dim_(input_dim), output_dim_(output_dim) {}
  TAPEFLOW_ARG(long, input_dim);
  TAPEFLOW_ARG(long, output_dim);
  TAPEFLOW_ARG(Initializer, embeddings_initializer) = "uniform";
  TAPEFLOW_ARG(Regularizer, embeddings_regularizer);
  TAPEFLOW_ARG(Constraint, embeddings_constraint);
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
class Embedding : public Layer {
 public:
  explicit Embedding(const EmbeddingOptions& options);
  std::string class_name() const override { return "Embedding"; }
  const EmbeddingOptions& options() const { return options_; }
  /// The table (undefined before the first call).
  const Variable& embeddings() const { return embeddings_; }
  /// Base keys plus `input_dim`, `output_dim`, `embeddings_initializer`,
  /// `embeddings_regularizer`, `embeddings_constraint` ("None" when unset).
  Config get_config() const override;

 protected:
  void build(const Shape& input_shape) override;
  Variable call(const Variable& x, bool training) override;
  /// `input_dim=1000, output_dim=64`.
  std::string extra_repr() const override;

 private:
  EmbeddingOptions options_;
  Variable embeddings_;
};

}  // namespace tapeflow::layers
