#include "tapeflow/layers/padding.hpp"

#include "tapeflow/framework/nn/fields.hpp"
#include "tapeflow/framework/ops/conv.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

namespace {

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

// Resolves the amounts `arg` of a layer over N axes and normalizes its options in place (the
// pairs, and the data_format for N > 1), so that they describe the layer exactly.
template <std::size_t N, class O>
AxisPairs::Pairs normalize(const std::string& layer, O& options, AxisPairs& amounts,
                           const char* arg) {
  AxisPairs::Pairs pairs = amounts.resolve(N, layer, arg);
  amounts = AxisPairs(pairs);
  if constexpr (N > 1)
    options.data_format(tapeflow::detail::normalize_data_format(layer, options.data_format()));
  return pairs;
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

std::string config_write(const AxisPairs& amounts) {
  if (amounts.is_pairs_) return pairs_str(amounts.pairs_);
  return amounts.str();
}

void config_read(const std::string& where, const std::string& key, const std::string& text,
                 AxisPairs& out) {
  const std::string t = tapeflow::detail::trim_space(text);
  if (t.empty() || t.front() != '(') {
    long v = 0;
    tapeflow::config_read(where, key, t, v);
    out = AxisPairs(v);
    return;
  }
  if (t.find('(', 1) == std::string::npos) {
    std::vector<long> values;
    tapeflow::config_read(where, key, t, values);
    out = AxisPairs(std::move(values));
    return;
  }
  // A tuple of pairs: split the inside on the commas between the pairs.
  if (t.back() != ')')
    tapeflow::detail::bad_config_value(where, key, text, "a tuple of pairs like ((1, 1), (2, 2))");
  AxisPairs::Pairs pairs;
  std::size_t start = 1;
  while (start < t.size() - 1) {
    const std::size_t open = t.find('(', start);
    const std::size_t close = open == std::string::npos ? open : t.find(')', open);
    if (close == std::string::npos) break;
    std::vector<long> pair;
    tapeflow::config_read(where, key, t.substr(open, close - open + 1), pair);
    if (pair.size() != 2 || t.find_first_not_of(", ", start) != open)
      tapeflow::detail::bad_config_value(where, key, text,
                                         "a tuple of pairs like ((1, 1), (2, 2))");
    pairs.emplace_back(pair[0], pair[1]);
    start = close + 1;
  }
  if (pairs.empty() || t.find_first_not_of(", ", start) != t.size() - 1)
    tapeflow::detail::bad_config_value(where, key, text, "a tuple of pairs like ((1, 1), (2, 2))");
  out = AxisPairs(std::move(pairs));
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
    : LayerWith<ZeroPaddingOptions<N>>("zero_padding" + std::to_string(N) + "d", options) {
  padding_ = normalize<N>(this->name(), this->options_, this->options_.padding(), "padding");
  this->set_input_spec(InputSpec{.ndim = N + 2});
}

template <std::size_t N>
std::string ZeroPadding<N>::class_name() const {
  return "ZeroPadding" + std::to_string(N) + "D";
}

template <std::size_t N>
Variable ZeroPadding<N>::call(const Variable& x, bool) {
  const std::size_t first = first_spatial_axis(this->options_.data_format());
  std::vector<std::pair<std::size_t, std::size_t>> pads(x.dim(), {0, 0});
  for (std::size_t i = 0; i < N; ++i)
    pads[first + i] = {static_cast<std::size_t>(padding_[i].first),
                       static_cast<std::size_t>(padding_[i].second)};
  return pad(x, pads);
}

// ---- Cropping ------------------------------------------------------------------------------

template <std::size_t N>
Cropping<N>::Cropping(const CroppingOptions<N>& options)
    : LayerWith<CroppingOptions<N>>("cropping" + std::to_string(N) + "d", options) {
  cropping_ = normalize<N>(this->name(), this->options_, this->options_.cropping(), "cropping");
  this->set_input_spec(InputSpec{.ndim = N + 2});
}

template <std::size_t N>
std::string Cropping<N>::class_name() const {
  return "Cropping" + std::to_string(N) + "D";
}

template <std::size_t N>
Variable Cropping<N>::call(const Variable& x, bool) {
  const Shape s = x.shape();
  const std::size_t first = first_spatial_axis(this->options_.data_format());
  std::vector<long> begin(s.size(), 0);
  std::vector<long> size(s.begin(), s.end());
  for (std::size_t i = 0; i < N; ++i) {
    const std::size_t a = first + i;
    const long have = static_cast<long>(s[a]);
    const long cut = cropping_[i].first + cropping_[i].second;
    if (cut >= have)
      fail_shape(this->name(), "cropping " + pairs_str(cropping_) + " removes " +
                                   std::to_string(cut) + " elements from axis " +
                                   std::to_string(a) + " of the input (spatial axis " +
                                   std::to_string(i) + ", size " + std::to_string(have) +
                                   "): it must be smaller than the size; input shape " +
                                   shape_str(s) + " (" + this->options_.data_format() + ")");
    begin[a] = cropping_[i].first;
    size[a] = have - cut;
  }
  return slice(x, begin, size);
}

template class ZeroPadding<1>;
template class ZeroPadding<2>;
template class ZeroPadding<3>;
template class Cropping<1>;
template class Cropping<2>;
template class Cropping<3>;

TAPEFLOW_REGISTER_LAYER(ZeroPadding1D)
TAPEFLOW_REGISTER_LAYER(ZeroPadding2D)
TAPEFLOW_REGISTER_LAYER(ZeroPadding3D)
TAPEFLOW_REGISTER_LAYER(Cropping1D)
TAPEFLOW_REGISTER_LAYER(Cropping2D)
TAPEFLOW_REGISTER_LAYER(Cropping3D)

}  // namespace tapeflow::layers
