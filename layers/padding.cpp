#include "tapeflow/layers/padding.hpp"

#include <cctype>

#include "tapeflow/framework/ops/ops.hpp"

namespace tapeflow::layers {

namespace {

std::string data_format_of(const std::string& where, const std::string& f) {
  std::string s = f;
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (s != "channels_last" && s != "channels_first")
    fail(where, "data_format must be 'channels_last' or 'channels_first', got '" + f + "'");
  return s;
}

std::string pair_str(const std::pair<long, long>& p) {
  return "(" + std::to_string(p.first) + ", " + std::to_string(p.second) + ")";
}

// Keras writes a 1-D amount as one (before, after) tuple and the others as a tuple of pairs.
std::string pairs_str(const AxisPairs::Pairs& p) {
  if (p.size() == 1) return pair_str(p[0]);
  std::string s = "(";
  for (std::size_t i = 0; i < p.size(); ++i) s += (i ? ", " : "") + pair_str(p[i]);
  return s + ")";
}

std::size_t first_spatial_axis(const std::string& data_format) {
  return data_format == "channels_first" ? 2 : 1;
}

}  // namespace

// ---- AxisPairs -----------------------------------------------------------------------------

AxisPairs::Pairs AxisPairs::resolve(std::size_t n, const std::string& where,
                                    const std::string& arg) const {
  Pairs out;
  if (is_pairs_) {
    out = pairs_;
  } else if (values_.size() == 1) {
    out.assign(n, {values_[0], values_[0]});
  } else if (n == 1 && values_.size() == 2) {
    out = {{values_[0], values_[1]}};
  } else if (values_.size() == n) {
    for (long v : values_) out.emplace_back(v, v);
  }
  if (out.size() != n) {
    const std::string forms = n == 1
                                  ? "one number or a (before, after) pair"
                                  : "one number, " + std::to_string(n) + " numbers (one per " +
                                        "axis) or " + std::to_string(n) + " (before, after) pairs";
    fail(where, arg + " must be " + forms + ", got " + str());
  }
  for (const auto& [b, a] : out)
    if (b < 0 || a < 0) fail(where, arg + " must not be negative, got " + str());
  return out;
}

std::string AxisPairs::str() const {
  if (is_pairs_) {
    std::string s = "(";
    for (std::size_t i = 0; i < pairs_.size(); ++i) s += (i ? ", " : "") + pair_str(pairs_[i]);
    return s + (pairs_.size() == 1 ? ",)" : ")");
  }
  if (values_.size() == 1) return std::to_string(values_[0]);
  return shape_str(values_);
}

// ---- ZeroPadding ---------------------------------------------------------------------------

template <std::size_t N>
ZeroPadding<N>::ZeroPadding(const ZeroPaddingOptions<N>& options)
    : Layer("zero_padding" + std::to_string(N) + "d", options.common()), options_(options) {
  padding_ = options_.padding().resolve(N, name(), "padding");
  const std::string f = data_format_of(name(), options_.data_format());
  if constexpr (N > 1) options_.data_format(f);
  InputSpec spec;
  spec.ndim = N + 2;
  set_input_spec(spec);
}

template <std::size_t N>
std::string ZeroPadding<N>::class_name() const {
  return "ZeroPadding" + std::to_string(N) + "D";
}

template <std::size_t N>
Variable ZeroPadding<N>::call(const Variable& x, bool) {
  const std::size_t first = first_spatial_axis(options_.data_format());
  std::vector<std::pair<std::size_t, std::size_t>> pads(x.dim(), {0, 0});
  for (std::size_t i = 0; i < N; ++i)
    pads[first + i] = {static_cast<std::size_t>(padding_[i].first),
                       static_cast<std::size_t>(padding_[i].second)};
  return pad(x, pads);
}

template <std::size_t N>
Config ZeroPadding<N>::get_config() const {
  Config c = Layer::get_config();
  c["padding"] = pairs_str(padding_);
  if constexpr (N > 1) c["data_format"] = options_.data_format();
  return c;
}

template <std::size_t N>
std::string ZeroPadding<N>::extra_repr() const {
  std::string r = "padding=" + pairs_str(padding_);
  if (options_.data_format() != "channels_last") r += ", data_format=" + options_.data_format();
  return r;
}

// ---- Cropping ------------------------------------------------------------------------------

template <std::size_t N>
Cropping<N>::Cropping(const CroppingOptions<N>& options)
    : Layer("cropping" + std::to_string(N) + "d", options.common()), options_(options) {
  cropping_ = options_.cropping().resolve(N, name(), "cropping");
  const std::string f = data_format_of(name(), options_.data_format());
  if constexpr (N > 1) options_.data_format(f);
  InputSpec spec;
  spec.ndim = N + 2;
  set_input_spec(spec);
}

template <std::size_t N>
std::string Cropping<N>::class_name() const {
  return "Cropping" + std::to_string(N) + "D";
}

template <std::size_t N>
Variable Cropping<N>::call(const Variable& x, bool) {
  const Shape s = x.shape();
  const std::size_t first = first_spatial_axis(options_.data_format());
  std::vector<long> begin(s.size(), 0);
  std::vector<long> size(s.begin(), s.end());
  for (std::size_t i = 0; i < N; ++i) {
    const std::size_t a = first + i;
    const long have = static_cast<long>(s[a]);
    const long cut = cropping_[i].first + cropping_[i].second;
    if (cut >= have)
      fail(name(), "cropping " + pairs_str(cropping_) + " removes " + std::to_string(cut) +
                       " elements from axis " + std::to_string(a) + " of the input (spatial axis " +
                       std::to_string(i) + ", size " + std::to_string(have) +
                       "): it must be smaller than the size; input shape " + shape_str(s) + " (" +
                       options_.data_format() + ")");
    begin[a] = cropping_[i].first;
    size[a] = have - cut;
  }
  return slice(x, begin, size);
}

template <std::size_t N>
Config Cropping<N>::get_config() const {
  Config c = Layer::get_config();
  c["cropping"] = pairs_str(cropping_);
  if constexpr (N > 1) c["data_format"] = options_.data_format();
  return c;
}

template <std::size_t N>
std::string Cropping<N>::extra_repr() const {
  std::string r = "cropping=" + pairs_str(cropping_);
  if (options_.data_format() != "channels_last") r += ", data_format=" + options_.data_format();
  return r;
}

template class ZeroPadding<1>;
template class ZeroPadding<2>;
template class ZeroPadding<3>;
template class Cropping<1>;
template class Cropping<2>;
template class Cropping<3>;

}  // namespace tapeflow::layers
