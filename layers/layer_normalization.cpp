#include "tapeflow/layers/layer_normalization.hpp"

#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

LayerNormalization::LayerNormalization(const LayerNormalizationOptions& options)
    : Normalization("layer_normalization", options) {}

void LayerNormalization::build(const Shape& s) {
  build_axes(s);
  Shape param;
  for (auto a : axes_) param.push_back(s[a]);
  add_gamma_beta(param);
  fix_input_spec(s);
}

Variable LayerNormalization::call(const Variable& x, bool) {
  Axes red(axes_.begin(), axes_.end());
  Variable mu = mean(x, red, /*keepdims=*/true);
  Variable centered = sub(x, mu);
  Variable var = mean(square(centered), red, /*keepdims=*/true);
  Variable y = mul(centered, rsqrt(add(var, scalar(options_.epsilon()))));
  // The weights hold only the normalized axes; reshaped to broadcast against x.
  return scale_and_shift(y, broadcast_shape(x.shape()));
}

TAPEFLOW_REGISTER_LAYER(LayerNormalization)

}  // namespace tapeflow::layers
