#include "tapeflow/layers/upsampling.hpp"

#include "tapeflow/framework/core/strings.hpp"
#include "tapeflow/framework/ops/conv.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

template <std::size_t N>
UpSampling<N>::UpSampling(const UpSamplingOptions<N>& options)
    : LayerWith<UpSamplingOptions<N>>("up_sampling" + std::to_string(N) + "d", options) {
  UpSamplingOptions<N>& o = this->options_;
  const std::string& n = this->name();
  const std::vector<long> given(PerAxis(o.size()));
  if (given.size() == 1)
    size_.assign(N, given[0]);
  else if (given.size() == N)
    size_ = given;
  else
    fail(n, "size must be one number or " + std::to_string(N) + " (one per spatial axis), got " +
                shape_str(given));
  for (long f : size_)
    if (f < 1) fail(n, "size must be positive, got " + shape_str(given));
  if constexpr (N > 1) {
    o.size(size_).data_format(tapeflow::detail::normalize_data_format(n, o.data_format()));
  }
  if constexpr (N == 2) {
    const std::string interp = tapeflow::detail::to_lower(o.interpolation());
    if (interp != "nearest")
      fail(n, "interpolation '" + o.interpolation() + "' is not supported (only 'nearest')");
    o.interpolation(interp);
  }
  this->set_input_spec(InputSpec{.ndim = N + 2});
}

template <std::size_t N>
std::string UpSampling<N>::class_name() const {
  return "UpSampling" + std::to_string(N) + "D";
}

template <std::size_t N>
Variable UpSampling<N>::call(const Variable& x, bool) {
  // Nearest repetition as reshape -> broadcast -> reshape: a unit axis after each spatial axis
  // is broadcast to the factor, then merged. The spatial axes are contiguous in both formats, and
  // the gradient (a sum over each repeated block) comes from broadcast_to for free, to any order.
  const Shape s = x.shape();
  const std::size_t first = this->options_.data_format() == "channels_first" ? 2 : 1;
  std::vector<long> split;
  Shape wide;
  std::vector<long> merged;
  for (std::size_t a = 0; a < s.size(); ++a) {
    const long d = static_cast<long>(s[a]);
    if (a >= first && a < first + N) {
      const long f = size_[a - first];
      split.insert(split.end(), {d, 1});
      wide.insert(wide.end(), {s[a], static_cast<std::size_t>(f)});
      merged.push_back(d * f);
    } else {
      split.push_back(d);
      wide.push_back(s[a]);
      merged.push_back(d);
    }
  }
  return reshape(broadcast_to(reshape(x, split), wide), merged);
}

template class UpSampling<1>;
template class UpSampling<2>;
template class UpSampling<3>;

TAPEFLOW_REGISTER_LAYER(UpSampling1D)
TAPEFLOW_REGISTER_LAYER(UpSampling2D)
TAPEFLOW_REGISTER_LAYER(UpSampling3D)

}  // namespace tapeflow::layers
