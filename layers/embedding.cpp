#include "tapeflow/layers/embedding.hpp"

#include <cmath>

#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

Embedding::Embedding(const EmbeddingOptions& options) : LayerWith("embedding", options) {
  if (options_.input_dim() <= 0)
    fail(name(),
         "input_dim must be a positive integer, got " + std::to_string(options_.input_dim()));
  if (options_.output_dim() <= 0)
    fail(name(),
         "output_dim must be a positive integer, got " + std::to_string(options_.output_dim()));
  InputSpec spec;
  spec.min_ndim = 1;
  set_input_spec(spec);
}

void Embedding::build(const Shape&) {
  embeddings_ = add_weight("embeddings",
                           {static_cast<std::size_t>(options_.input_dim()),
                            static_cast<std::size_t>(options_.output_dim())},
                           options_.embeddings_initializer(), options_.embeddings_regularizer(),
                           options_.embeddings_constraint());
}

Variable Embedding::call(const Variable& x, bool) {
  const Tensor& ids = x.value();
  IndexTensor idx = IndexTensor::from_shape(ids.shape());
  const long n = options_.input_dim();
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const float v = ids.data()[i];
    if (!(std::isfinite(v) && v == std::floor(v)))
      fail(name(), "the input must hold integer ids, got " + config_float(v) +
                       " at flat position " + std::to_string(i) + " of shape " +
                       shape_str(ids.shape()));
    if (v < 0 || v >= static_cast<float>(n))
      fail(name(), "id " + config_float(v) + " at flat position " + std::to_string(i) +
                       " is out of range [0, " + std::to_string(n) + ") (input_dim " +
                       std::to_string(n) + ")");
    idx.data()[i] = static_cast<std::int64_t>(v);
  }
  return gather(embeddings_, idx, 0);
}

std::optional<Tensor> Embedding::compute_mask(const Variable& ids,
                                              const std::optional<Tensor>&) const {
  if (!options_.mask_zero()) return std::nullopt;
  Tensor mask = Tensor::from_shape(ids.shape());
  for (std::size_t i = 0; i < mask.size(); ++i) mask.flat(i) = ids.value().flat(i) != 0.f;
  return mask;
}

TAPEFLOW_REGISTER_LAYER(Embedding)

}  // namespace tapeflow::layers
