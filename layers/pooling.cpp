#include "tapeflow/layers/pooling.hpp"

#include "tapeflow/framework/ops/conv.hpp"
#include "tapeflow/framework/ops/pooling.hpp"
#include "tapeflow/layers/conv.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

template <std::size_t N>
PoolingBase<N>::PoolingBase(const std::string& default_name, const PoolingNDOptions<N>& options,
                            bool is_max)
    : LayerWith<PoolingNDOptions<N>>(default_name, options), is_max_(is_max) {
  PoolingNDOptions<N>& o = this->options_;
  const std::string& n = this->name();
  pool_size_ = detail::per_axis<N>(n, "pool_size", o.pool_size(), 1);
  strides_ = o.strides() ? detail::per_axis<N>(n, "strides", *o.strides(), 1) : pool_size_;
  o.pool_size(pool_size_)
      .strides(PerAxis(strides_))
      .padding(tapeflow::detail::normalize_padding(n, o.padding()))
      .data_format(tapeflow::detail::normalize_data_format(n, o.data_format()));
  this->set_input_spec(InputSpec{.ndim = N + 2});
}

template <std::size_t N>
Shape PoolingBase<N>::compute_output_shape(const Shape& s) const {
  const std::string& n = this->name();
  if (s.size() != N + 2)
    fail_shape(n, "expected an input of rank " + std::to_string(N + 2) + ", got shape " +
                      shape_str(s) + " (rank " + std::to_string(s.size()) + ")");
  const std::size_t first = data_format() == "channels_first" ? 2 : 1;
  Shape out = s;
  for (std::size_t a = 0; a < N; ++a) {
    const long in = long(s[first + a]);
    if (padding() == "valid" && in < pool_size_[a])
      fail_shape(n, "the input of shape " + shape_str(s) + " is too small: spatial axis " +
                        std::to_string(a) + " has length " + std::to_string(in) +
                        ", shorter than pool_size " + std::to_string(pool_size_[a]) +
                        " (padding valid)");
    out[first + a] = std::size_t(pool_output_length(in, pool_size_[a], strides_[a], padding(), n));
  }
  return out;
}

template <std::size_t N>
Variable PoolingBase<N>::call(const Variable& x, bool) {
  compute_output_shape(x.shape());  // errors name the layer
  const PoolingNDOptions<N>& o = this->options_;
  PoolOptions po(o.pool_size());
  po.strides(*o.strides()).padding(padding()).data_format(data_format());
  return is_max_ ? max_pool(x, po) : avg_pool(x, po);
}

template class PoolingBase<1>;
template class PoolingBase<2>;
template class PoolingBase<3>;
template class MaxPoolingND<1>;
template class MaxPoolingND<2>;
template class MaxPoolingND<3>;
template class AveragePoolingND<1>;
template class AveragePoolingND<2>;
template class AveragePoolingND<3>;

TAPEFLOW_REGISTER_LAYER(MaxPooling1D)
TAPEFLOW_REGISTER_LAYER(MaxPooling2D)
TAPEFLOW_REGISTER_LAYER(MaxPooling3D)
TAPEFLOW_REGISTER_LAYER(AveragePooling1D)
TAPEFLOW_REGISTER_LAYER(AveragePooling2D)
TAPEFLOW_REGISTER_LAYER(AveragePooling3D)

}  // namespace tapeflow::layers
