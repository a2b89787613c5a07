#include "tapeflow/layers/pooling.hpp"

#include <algorithm>
#include <cctype>

#include "tapeflow/framework/ops/pooling.hpp"
#include "tapeflow/layers/conv.hpp"

namespace tapeflow::layers {

namespace {

template <std::size_t N>
std::array<long, N> to_array(const std::vector<long>& v) {
  std::array<long, N> a{};
  std::copy(v.begin(), v.end(), a.begin());
  return a;
}

template <std::size_t N>
std::vector<long long> vec_ll(const std::array<long, N>& a) {
  return std::vector<long long>(a.begin(), a.end());
}

}  // namespace

template <std::size_t N>
PoolingBase<N>::PoolingBase(const std::string& default_name, const PoolingNDOptions<N>& o,
                            bool is_max)
    : Layer(default_name, o.common()), is_max_(is_max) {
  const std::string& n = name();
  pool_size_ = to_array<N>(detail::normalize_tuple(n, "pool_size", o.pool_size(), N, 1));
  strides_ = o.strides() ? to_array<N>(detail::normalize_tuple(n, "strides", *o.strides(), N, 1))
                         : pool_size_;
  std::string p = o.padding();
  for (auto& c : p) c = char(std::tolower(static_cast<unsigned char>(c)));
  if (p != "valid" && p != "same")
    fail(n, "unknown padding '" + o.padding() + "' (expected 'valid' or 'same')");
  padding_ = p;
  data_format_ = detail::normalize_data_format(n, o.data_format());
  set_input_spec(InputSpec{.ndim = N + 2});
}

template <std::size_t N>
Shape PoolingBase<N>::compute_output_shape(const Shape& s) const {
  if (s.size() != N + 2)
    fail(name(), "expected an input of rank " + std::to_string(N + 2) + ", got shape " +
                     shape_str(s) + " (rank " + std::to_string(s.size()) + ")");
  const std::size_t first = data_format_ == "channels_first" ? 2 : 1;
  Shape out = s;
  for (std::size_t a = 0; a < N; ++a) {
    const long in = long(s[first + a]);
    if (padding_ == "valid" && in < pool_size_[a])
      fail(name(), "the input of shape " + shape_str(s) + " is too small: spatial axis " +
                       std::to_string(a) + " has length " + std::to_string(in) +
                       ", shorter than pool_size " + std::to_string(pool_size_[a]) +
                       " (padding valid)");
    out[first + a] =
        std::size_t(pool_output_length(in, pool_size_[a], strides_[a], padding_, name()));
  }
  return out;
}

template <std::size_t N>
Variable PoolingBase<N>::call(const Variable& x, bool) {
  compute_output_shape(x.shape());  // errors name the layer
  PoolOptions po(std::vector<long>(pool_size_.begin(), pool_size_.end()));
  po.strides(std::vector<long>(strides_.begin(), strides_.end()))
      .padding(padding_)
      .data_format(data_format_);
  return is_max_ ? max_pool(x, po) : avg_pool(x, po);
}

template <std::size_t N>
Config PoolingBase<N>::get_config() const {
  Config c = Layer::get_config();
  c["pool_size"] = config_ints(vec_ll<N>(pool_size_));
  c["strides"] = config_ints(vec_ll<N>(strides_));
  c["padding"] = padding_;
  c["data_format"] = data_format_;
  return c;
}

template <std::size_t N>
std::string PoolingBase<N>::extra_repr() const {
  std::string r = "pool_size=" + shape_str(pool_size_) + ", strides=" + shape_str(strides_) +
                  ", padding=" + padding_;
  if (data_format_ != "channels_last") r += ", data_format=" + data_format_;
  return r;
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

}  // namespace tapeflow::layers
