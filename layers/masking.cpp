#include "tapeflow/layers/masking.hpp"

#include <algorithm>

#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

Masking::Masking(const MaskingOptions& options) : LayerWith("masking", options) {
  set_input_spec(InputSpec{.min_ndim = 2});
}

std::optional<Tensor> Masking::compute_mask(const Variable& x, const std::optional<Tensor>&) const {
  const Shape& s = x.shape();
  if (s.size() < 2)
    fail_shape(name(),
               "expected an input of rank >= 2 (batch, time, ...), got shape " + shape_str(s));
  const std::size_t features = s.back(),
                    steps = x.value().size() / std::max<std::size_t>(1, features);
  const Shape mask_shape(s.begin(), s.end() - 1);
  Tensor mask = Tensor::from_shape(mask_shape);
  const float* px = x.value().data();
  const float value = options_.mask_value();
  for (std::size_t t = 0; t < steps; ++t) {
    bool any = false;
    // A NaN feature counts as different from every value, as TF's not_equal.
    for (std::size_t f = 0; f < features && !any; ++f) any = !(px[t * features + f] == value);
    mask.flat(t) = any ? 1.f : 0.f;
  }
  return mask;
}

Variable Masking::call(const Variable& x, bool) {
  Tensor keep = *compute_mask(x, std::nullopt);
  Shape broadcast(keep.shape().begin(), keep.shape().end());
  broadcast.push_back(1);
  keep.reshape(broadcast);
  return mul(x, Variable(std::move(keep)));
}

TAPEFLOW_REGISTER_LAYER(Masking)

}  // namespace tapeflow::layers
