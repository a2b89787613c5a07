#include "tapeflow/layers/global_pooling.hpp"

#include "tapeflow/framework/ops/conv.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

template <std::size_t N>
GlobalPoolingBase<N>::GlobalPoolingBase(const std::string& default_name,
                                        const GlobalPoolingOptions& options, bool is_max)
    : LayerWith(default_name, options), is_max_(is_max) {
  options_.data_format(tapeflow::detail::normalize_data_format(name(), options_.data_format()));
  set_input_spec(InputSpec{.ndim = N + 2});
}

template <std::size_t N>
Shape GlobalPoolingBase<N>::compute_output_shape(const Shape& s) const {
  if (s.size() != N + 2)
    fail_shape(name(), "expected an input of rank " + std::to_string(N + 2) + ", got shape " +
                           shape_str(s) + " (rank " + std::to_string(s.size()) + ")");
  const std::size_t c = data_format() == "channels_first" ? s[1] : s.back();
  if (!keepdims()) return Shape{s[0], c};
  Shape out(N + 2, 1);
  out[0] = s[0];
  out[data_format() == "channels_first" ? 1 : N + 1] = c;
  return out;
}

template <std::size_t N>
Variable GlobalPoolingBase<N>::call(const Variable& x, bool) {
  const int first = data_format() == "channels_first" ? 2 : 1;
  Axes axes;
  for (int a = 0; a < int(N); ++a) axes.push_back(first + a);
  // TF's reduce_max / reduce_mean, whose gradients these reductions share.
  return is_max_ ? max(x, axes, keepdims()) : mean(x, axes, keepdims());
}

Variable GlobalAveragePooling1D::call_masked(const Variable& x, const Tensor& mask, bool) {
  // A mask covers the leading axes (Layer::masked_call): (batch, steps) of channels_last input.
  if (data_format() == "channels_first" || mask.dimension() != 2)
    fail_shape(name(), "mask: expected (batch, steps) for a channels_last input, got " +
                           shape_str(Shape(mask.shape().begin(), mask.shape().end())) +
                           " for an input of shape " + shape_str(x.shape()));
  Tensor m = mask;
  m.reshape({mask.shape()[0], mask.shape()[1], 1});  // broadcast over the channels
  const Variable weights(std::move(m));
  return div(sum(mul(x, weights), {1}, keepdims()), sum(weights, {1}, keepdims()));
}

template class GlobalPoolingBase<1>;
template class GlobalPoolingBase<2>;
template class GlobalPoolingBase<3>;
template class GlobalMaxPoolingND<1>;
template class GlobalMaxPoolingND<2>;
template class GlobalMaxPoolingND<3>;
template class GlobalAveragePoolingND<1>;
template class GlobalAveragePoolingND<2>;
template class GlobalAveragePoolingND<3>;

TAPEFLOW_REGISTER_LAYER(GlobalMaxPooling1D)
TAPEFLOW_REGISTER_LAYER(GlobalMaxPooling2D)
TAPEFLOW_REGISTER_LAYER(GlobalMaxPooling3D)
TAPEFLOW_REGISTER_LAYER(GlobalAveragePooling1D)
TAPEFLOW_REGISTER_LAYER(GlobalAveragePooling2D)
TAPEFLOW_REGISTER_LAYER(GlobalAveragePooling3D)

}  // namespace tapeflow::layers
