#include "tapeflow/layers/upsampling.hpp"

#include <cctype>

#include "tapeflow/framework/ops/ops.hpp"

namespace tapeflow::layers {

namespace {

std::string lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

}  // namespace

template <std::size_t N>
UpSampling<N>::UpSampling(const UpSamplingOptions<N>& options)
    : Layer("up_sampling" + std::to_string(N) + "d", options.common()), options_(options) {
  const auto& s = options_.size();
  if (s.size() == 1)
    size_.assign(N, s[0]);
  else if (s.size() == N)
    size_ = s;
  else
    fail(name(), "size must be one number or " + std::to_string(N) +
                     " (one per spatial axis), got " + shape_str(s));
  for (long f : size_)
    if (f < 1) fail(name(), "size must be positive, got " + shape_str(s));
  std::string f = lower(options_.data_format());
  if (f != "channels_last" && f != "channels_first")
    fail(name(), "data_format must be 'channels_last' or 'channels_first', got '" +
                     options_.data_format() + "'");
  std::string interp = lower(options_.interpolation());
  if (interp != "nearest")
    fail(name(),
         "interpolation '" + options_.interpolation() + "' is not supported (only 'nearest')");
  if constexpr (N > 1) options_.data_format(f);
  if constexpr (N == 2) options_.interpolation(interp);
  InputSpec spec;
  spec.ndim = N + 2;
  set_input_spec(spec);
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
  const std::size_t first = options_.data_format() == "channels_first" ? 2 : 1;
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

template <std::size_t N>
Config UpSampling<N>::get_config() const {
  Config c = Layer::get_config();
  if constexpr (N == 1) {
    c["size"] = config_int(size_[0]);
  } else {
    c["size"] = config_ints(std::vector<long long>(size_.begin(), size_.end()));
    c["data_format"] = options_.data_format();
  }
  if constexpr (N == 2) c["interpolation"] = options_.interpolation();
  return c;
}

template <std::size_t N>
std::string UpSampling<N>::extra_repr() const {
  std::string r = "size=" + (N == 1 ? std::to_string(size_[0]) : shape_str(size_));
  if (options_.data_format() != "channels_last") r += ", data_format=" + options_.data_format();
  return r;
}

template class UpSampling<1>;
template class UpSampling<2>;
template class UpSampling<3>;

}  // namespace tapeflow::layers
