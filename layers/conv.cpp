#include "tapeflow/layers/conv.hpp"

#include <algorithm>
#include <cctype>

#include "tapeflow/framework/ops/conv.hpp"
#include "tapeflow/framework/ops/ops.hpp"

namespace tapeflow::layers {

namespace detail {

std::vector<long> normalize_tuple(const std::string& layer, const char* what,
                                  const std::vector<long>& v, std::size_t rank, long min_value) {
  if (v.size() != 1 && v.size() != rank)
    fail(layer, std::string(what) + " " + (v.empty() ? std::string("()") : shape_str(v)) + " has " +
                    std::to_string(v.size()) + " values, expected " +
                    (rank == 1 ? std::string("1") : "1 or " + std::to_string(rank)) +
                    " (one per spatial axis)");
  for (long e : v)
    if (e < min_value)
      fail(layer,
           std::string(what) + " " + shape_str(v) + " must be " +
               (min_value == 0 ? std::string(">= 0") : "> " + std::to_string(min_value - 1)) +
               " on every axis");
  return v.size() == rank ? v : std::vector<long>(rank, v[0]);
}

std::string normalize_data_format(const std::string& layer, const std::string& data_format) {
  return tapeflow::detail::normalize_data_format(layer, data_format);
}

}  // namespace detail

namespace {

template <std::size_t N>
std::array<long, N> to_array(const std::vector<long>& v) {
  std::array<long, N> a{};
  std::copy(v.begin(), v.end(), a.begin());
  return a;
}

template <std::size_t N>
std::vector<long> vec(const std::array<long, N>& a) {
  return std::vector<long>(a.begin(), a.end());
}

template <std::size_t N>
std::vector<long long> vec_ll(const std::array<long, N>& a) {
  return std::vector<long long>(a.begin(), a.end());
}

template <std::size_t N>
bool all_ones(const std::array<long, N>& a) {
  return std::all_of(a.begin(), a.end(), [](long e) { return e == 1; });
}

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

template <std::size_t N>
ConvBase<N>::ConvBase(const std::string& default_name, const LayerOptions& common,
                      const detail::ConvArgs& args, bool transpose)
    : Layer(default_name, common), args_(args), transpose_(transpose), filters_(args.filters) {
  const std::string& n = name();
  if (args.filters <= 0)
    fail(n, "filters must be a positive integer, got " + std::to_string(args.filters));
  kernel_size_ = to_array<N>(detail::normalize_tuple(n, "kernel_size", args.kernel_size, N, 1));
  strides_ = to_array<N>(detail::normalize_tuple(n, "strides", args.strides, N, 1));
  dilation_rate_ =
      to_array<N>(detail::normalize_tuple(n, "dilation_rate", args.dilation_rate, N, 1));
  // Keras' Conv._validate_init rule: TF has no strided dilated convolution.
  if (!all_ones<N>(strides_) && !all_ones<N>(dilation_rate_))
    fail(n, "strides " + shape_str(strides_) +
                " > 1 is not supported together with "
                "dilation_rate " +
                shape_str(dilation_rate_) + " > 1");
  if (args.output_padding) {
    if (!transpose) fail(n, "output_padding applies to transposed convolutions only");
    auto op = to_array<N>(detail::normalize_tuple(n, "output_padding", *args.output_padding, N, 0));
    for (std::size_t a = 0; a < N; ++a)
      if (op[a] >= strides_[a])
        fail(n, "output_padding " + shape_str(op) + " must be smaller than strides " +
                    shape_str(strides_) + " on every axis (axis " + std::to_string(a) + ": " +
                    std::to_string(op[a]) + " >= " + std::to_string(strides_[a]) + ")");
    output_padding_ = op;
  }
  const std::string p = lower(args.padding);
  if (p == "causal") {
    if (N != 1 || transpose) fail(n, "padding 'causal' is only supported for Conv1D");
    padding_ = p;
  } else {
    if (p != "valid" && p != "same")
      fail(n, "unknown padding '" + args.padding + "' (expected 'valid' or 'same'" +
                  (N == 1 && !transpose ? std::string(" or 'causal'") : std::string()) + ")");
    padding_ = p;
  }
  data_format_ = detail::normalize_data_format(n, args.data_format);
  if (args.activation_name) {
    try {
      activation_ = activations::Activation(*args.activation_name);
    } catch (const Error& e) {
      fail(n, std::string("activation: ") + e.what());
    }
  } else {
    activation_ = args.activation;
  }
  set_input_spec(InputSpec{.ndim = N + 2});
}

template <std::size_t N>
Shape ConvBase<N>::compute_output_shape(const Shape& s) const {
  if (s.size() != N + 2)
    fail(name(), "expected an input of rank " + std::to_string(N + 2) + ", got shape " +
                     shape_str(s) + " (rank " + std::to_string(s.size()) + ")");
  const std::size_t first = data_format_ == "channels_first" ? 2 : 1;
  Shape out = s;
  out[channel_axis()] = std::size_t(filters_);
  for (std::size_t a = 0; a < N; ++a) {
    const long in = long(s[first + a]), k = kernel_size_[a], st = strides_[a],
               d = dilation_rate_[a];
    const long dk = d * (k - 1) + 1;
    long len = 0;
    if (transpose_)
      len = conv_transpose_output_length(in, k, st, d, padding_,
                                         output_padding_ ? (*output_padding_)[a] : -1, name());
    else if (padding_ == "valid")
      len = in >= dk ? (in - dk) / st + 1 : 0;
    else  // same, causal
      len = (in + st - 1) / st;
    if (len < 1)
      fail(name(), "the input of shape " + shape_str(s) + " is too small: the output length " +
                       "along spatial axis " + std::to_string(a) + " would be " +
                       std::to_string(len) + " (input " + std::to_string(in) + ", kernel_size " +
                       std::to_string(k) + ", strides " + std::to_string(st) + ", dilation_rate " +
                       std::to_string(d) + ", padding " + padding_ + ")");
    out[first + a] = std::size_t(len);
  }
  return out;
}

template <std::size_t N>
void ConvBase<N>::build(const Shape& s) {
  compute_output_shape(s);  // rejects an empty output before creating weights
  const std::size_t cin = s[channel_axis()];
  const std::size_t filters = std::size_t(filters_);
  Shape kshape;
  for (long k : kernel_size_) kshape.push_back(std::size_t(k));
  if (transpose_) {
    kshape.push_back(filters);
    kshape.push_back(cin);
  } else {
    kshape.push_back(cin);
    kshape.push_back(filters);
  }
  // Initializer errors (a callable returning the wrong shape) name the initializer only; say
  // which layer and which argument they came from.
  try {
    kernel_ = add_weight("kernel", kshape, args_.kernel_initializer, args_.kernel_regularizer,
                         args_.kernel_constraint, true);
  } catch (const Error& e) {
    fail(name(), std::string("kernel_initializer: ") + e.what());
  }
  if (args_.use_bias) {
    try {
      bias_ = add_weight("bias", {filters}, args_.bias_initializer, args_.bias_regularizer,
                         args_.bias_constraint, true);
    } catch (const Error& e) {
      kernel_ = Variable();
      fail(name(), std::string("bias_initializer: ") + e.what());
    }
  }
}

template <std::size_t N>
Variable ConvBase<N>::call(const Variable& x, bool) {
  check_input_compatible(x.shape(), int(channel_axis()));
  compute_output_shape(x.shape());  // errors name the layer and the input
  ConvOptions co;
  co.strides(vec<N>(strides_)).dilation(vec<N>(dilation_rate_)).data_format(data_format_);
  if (padding_ == "causal") {
    // Keras pads dilation_rate * (kernel_size - 1) on the left, then runs a valid conv.
    co.pads({{dilation_rate_[0] * (kernel_size_[0] - 1), 0}});
  } else {
    co.padding(padding_);
  }
  if (output_padding_) co.output_padding(vec<N>(*output_padding_));
  Variable y;
  try {
    y = transpose_ ? conv_transpose(x, kernel_, bias_, co) : conv(x, kernel_, bias_, co);
  } catch (const Error& e) {
    fail(name(), e.what());
  }
  if (!activation_.is_linear()) y = activation_(y);
  return y;
}

template <std::size_t N>
Config ConvBase<N>::get_config() const {
  Config c = Layer::get_config();
  c["filters"] = config_int(filters_);
  c["kernel_size"] = config_ints(vec_ll<N>(kernel_size_));
  c["strides"] = config_ints(vec_ll<N>(strides_));
  c["padding"] = padding_;
  c["data_format"] = data_format_;
  c["dilation_rate"] = config_ints(vec_ll<N>(dilation_rate_));
  if (transpose_)
    c["output_padding"] = output_padding_ ? config_ints(vec_ll<N>(*output_padding_)) : "None";
  c["activation"] = activation_.name();
  c["use_bias"] = config_bool(args_.use_bias);
  c["kernel_initializer"] = args_.kernel_initializer.repr();
  c["bias_initializer"] = args_.bias_initializer.repr();
  auto reg = [](const Regularizer& r) { return r ? r.repr() : std::string("None"); };
  auto con = [](const Constraint& k) { return k ? k.repr() : std::string("None"); };
  c["kernel_regularizer"] = reg(args_.kernel_regularizer);
  c["bias_regularizer"] = reg(args_.bias_regularizer);
  c["kernel_constraint"] = con(args_.kernel_constraint);
  c["bias_constraint"] = con(args_.bias_constraint);
  return c;
}

template <std::size_t N>
std::string ConvBase<N>::extra_repr() const {
  std::string r = "filters=" + std::to_string(filters_) +
                  ", kernel_size=" + shape_str(kernel_size_) + ", strides=" + shape_str(strides_) +
                  ", padding=" + padding_;
  if (data_format_ != "channels_last") r += ", data_format=" + data_format_;
  if (!all_ones<N>(dilation_rate_)) r += ", dilation_rate=" + shape_str(dilation_rate_);
  if (output_padding_) r += ", output_padding=" + shape_str(*output_padding_);
  if (!activation_.is_linear()) r += ", activation=" + activation_.name();
  if (!args_.use_bias) r += ", use_bias=false";
  return r;
}

template class ConvBase<1>;
template class ConvBase<2>;
template class ConvBase<3>;
template class ConvND<1>;
template class ConvND<2>;
template class ConvND<3>;

}  // namespace tapeflow::layers
