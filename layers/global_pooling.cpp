#include "tapeflow/layers/global_pooling.hpp"

#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/conv.hpp"

namespace tapeflow::layers {

template <std::size_t N>
GlobalPoolingBase<N>::GlobalPoolingBase(const std::string& default_name,
                                        const GlobalPoolingOptions& o, bool is_max)
    : Layer(default_name, o.common()), is_max_(is_max), keepdims_(o.keepdims()) {
  data_format_ = detail::normalize_data_format(name(), o.data_format());
  set_input_spec(InputSpec{.ndim = N + 2});
}

template <std::size_t N>
Shape GlobalPoolingBase<N>::compute_output_shape(const Shape& s) const {
  if (s.size() != N + 2)
    fail(name(), "expected an input of rank " + std::to_string(N + 2) + ", got shape " +
                     shape_str(s) + " (rank " + std::to_string(s.size()) + ")");
  const std::size_t c = data_format_ == "channels_first" ? s[1] : s.back();
  if (!keepdims_) return Shape{s[0], c};
  Shape out(N + 2, 1);
  out[0] = s[0];
  out[data_format_ == "channels_first" ? 1 : N + 1] = c;
  return out;
}

template <std::size_t N>
Variable GlobalPoolingBase<N>::call(const Variable& x, bool) {
  const int first = data_format_ == "channels_first" ? 2 : 1;
  Axes axes;
  for (int a = 0; a < int(N); ++a) axes.push_back(first + a);
  // TF's reduce_max / reduce_mean, whose gradients these reductions share.
  return is_max_ ? max(x, axes, keepdims_) : mean(x, axes, keepdims_);
}

template <std::size_t N>
Config GlobalPoolingBase<N>::get_config() const {
  Config c = Layer::get_config();
  c["data_format"] = data_format_;
  c["keepdims"] = config_bool(keepdims_);
  return c;
}

template <std::size_t N>
std::string GlobalPoolingBase<N>::extra_repr() const {
  std::string r;
  if (data_format_ != "channels_last") r += "data_format=" + data_format_;
  if (keepdims_) r += std::string(r.empty() ? "" : ", ") + "keepdims=true";
  return r;
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

}  // namespace tapeflow::layers
