#include "tapeflow/layers/conv3d_transpose.hpp"

#include <mutex>

#include "tapeflow/framework/ops/conv.hpp"
#include "tapeflow/framework/ops/ops.hpp"

namespace tapeflow::layers {

namespace {

std::array<long, 3> triple(const std::string& layer, const char* what, const std::vector<long>& v,
                           long min_value) {
  if (v.size() != 1 && v.size() != 3)
    fail(layer, std::string(what) + " must be one number or 3 (depth, height, width), got " +
                    (v.empty() ? std::string("none") : shape_str(v)));
  for (long e : v)
    if (e < min_value)
      fail(layer, std::string(what) + " must be " + (min_value == 0 ? "non-negative" : "positive") +
                      " on every axis, got " + shape_str(v));
  return v.size() == 1 ? std::array<long, 3>{v[0], v[0], v[0]}
                       : std::array<long, 3>{v[0], v[1], v[2]};
}

std::vector<long> vec(const std::array<long, 3>& a) { return {a[0], a[1], a[2]}; }
std::vector<long long> vec_ll(const std::array<long, 3>& a) { return {a[0], a[1], a[2]}; }

std::mutex functional_mutex;
std::vector<std::shared_ptr<Layer>>& functional_registry() {
  static std::vector<std::shared_ptr<Layer>> layers;
  return layers;
}

}  // namespace

Conv3DTranspose::Conv3DTranspose(const Conv3DTransposeOptions& o)
    : Layer("conv3d_transpose", o.common()), options_(o) {
  const std::string& n = name();
  if (o.filters() <= 0) fail(n, "filters must be positive, got " + std::to_string(o.filters()));
  kernel_size_ = triple(n, "kernel_size", o.kernel_size(), 1);
  strides_ = triple(n, "strides", o.strides(), 1);
  dilation_rate_ = triple(n, "dilation_rate", o.dilation_rate(), 1);
  if (o.output_padding()) {
    auto op = triple(n, "output_padding", *o.output_padding(), 0);
    for (std::size_t a = 0; a < 3; ++a)
      if (op[a] >= strides_[a])
        fail(n, "output_padding " + shape_str(op) + " must be smaller than strides " +
                    shape_str(strides_) + " on every axis (axis " + std::to_string(a) + ": " +
                    std::to_string(op[a]) + " >= " + std::to_string(strides_[a]) + ")");
    output_padding_ = op;
  }
  padding_ = detail::normalize_padding(n, o.padding());
  data_format_ = detail::normalize_data_format(n, o.data_format());
  if (o.activation_name()) {
    try {
      activation_ = activations::Activation(*o.activation_name());
    } catch (const Error& e) {
      fail(n, std::string("activation: ") + e.what());
    }
  } else {
    activation_ = o.activation();
  }
  set_input_spec(InputSpec{.ndim = 5});
}

Shape Conv3DTranspose::compute_output_shape(const Shape& s) const {
  if (s.size() != 5)
    fail(name(), "expected an input of rank 5, got shape " + shape_str(s) + " (rank " +
                     std::to_string(s.size()) + ")");
  const std::size_t first = data_format_ == "channels_first" ? 2 : 1;
  Shape out = s;
  out[channel_axis()] = std::size_t(options_.filters());
  for (std::size_t a = 0; a < 3; ++a) {
    const long in = long(s[first + a]);
    const long len =
        conv_transpose_output_length(in, kernel_size_[a], strides_[a], dilation_rate_[a], padding_,
                                     output_padding_ ? (*output_padding_)[a] : -1, name());
    if (len < 1)
      fail(name(), "the output length along spatial axis " + std::to_string(a) + " would be " +
                       std::to_string(len) + " (input " + std::to_string(in) + ", kernel_size " +
                       std::to_string(kernel_size_[a]) + ", strides " +
                       std::to_string(strides_[a]) + ", dilation_rate " +
                       std::to_string(dilation_rate_[a]) + ", padding " + padding_ + ")");
    out[first + a] = std::size_t(len);
  }
  return out;
}

void Conv3DTranspose::build(const Shape& s) {
  compute_output_shape(s);  // rejects a non-positive output length before creating weights
  const std::size_t cin = s[channel_axis()];
  const std::size_t filters = std::size_t(options_.filters());
  const Shape kshape{std::size_t(kernel_size_[0]), std::size_t(kernel_size_[1]),
                     std::size_t(kernel_size_[2]), filters, cin};
  // Initializer errors (a callable returning the wrong shape) name the initializer only; say
  // which layer and which argument it came from.
  try {
    kernel_ = add_weight("kernel", kshape, options_.kernel_initializer(),
                         options_.kernel_regularizer(), options_.kernel_constraint(), true);
  } catch (const Error& e) {
    fail(name(), std::string("kernel_initializer: ") + e.what());
  }
  if (options_.use_bias()) {
    try {
      bias_ = add_weight("bias", {filters}, options_.bias_initializer(),
                         options_.bias_regularizer(), options_.bias_constraint(), true);
    } catch (const Error& e) {
      kernel_ = Variable();
      fail(name(), std::string("bias_initializer: ") + e.what());
    }
  }
}

Variable Conv3DTranspose::call(const Variable& x, bool) {
  check_input_compatible(x.shape(), int(channel_axis()));
  ConvOptions co;
  co.strides(vec(strides_))
      .dilation(vec(dilation_rate_))
      .padding(padding_)
      .data_format(data_format_);
  if (output_padding_) co.output_padding(vec(*output_padding_));
  Variable y;
  try {
    y = conv_transpose(x, kernel_, bias_, co);
  } catch (const Error& e) {
    fail(name(), e.what());
  }
  if (!activation_.is_linear()) y = activation_(y);
  return y;
}

Config Conv3DTranspose::get_config() const {
  Config c = Layer::get_config();
  c["filters"] = config_int(options_.filters());
  c["kernel_size"] = config_ints(vec_ll(kernel_size_));
  c["strides"] = config_ints(vec_ll(strides_));
  c["padding"] = padding_;
  c["data_format"] = data_format_;
  c["dilation_rate"] = config_ints(vec_ll(dilation_rate_));
  c["output_padding"] = output_padding_ ? config_ints(vec_ll(*output_padding_)) : "None";
  c["activation"] = activation_.name();
  c["use_bias"] = config_bool(options_.use_bias());
  c["kernel_initializer"] = options_.kernel_initializer().repr();
  c["bias_initializer"] = options_.bias_initializer().repr();
  auto reg = [](const Regularizer& r) { return r ? r.repr() : std::string("None"); };
  auto con = [](const Constraint& k) { return k ? k.repr() : std::string("None"); };
  c["kernel_regularizer"] = reg(options_.kernel_regularizer());
  c["bias_regularizer"] = reg(options_.bias_regularizer());
  c["kernel_constraint"] = con(options_.kernel_constraint());
  c["bias_constraint"] = con(options_.bias_constraint());
  return c;
}

std::string Conv3DTranspose::extra_repr() const {
  std::string r = "filters=" + std::to_string(options_.filters()) +
                  ", kernel_size=" + shape_str(kernel_size_) + ", strides=" + shape_str(strides_) +
                  ", padding=" + padding_;
  if (data_format_ != "channels_last") r += ", data_format=" + data_format_;
  if (dilation_rate_ != std::array<long, 3>{1, 1, 1})
    r += ", dilation_rate=" + shape_str(dilation_rate_);
  if (output_padding_) r += ", output_padding=" + shape_str(*output_padding_);
  if (!activation_.is_linear()) r += ", activation=" + activation_.name();
  if (!options_.use_bias()) r += ", use_bias=false";
  return r;
}

Variable conv3d_transpose(const Variable& inputs, long filters,
                          const std::vector<long>& kernel_size,
                          const Conv3DTransposeOptions& options) {
  Conv3DTransposeOptions o = options;
  o.filters(filters);
  o.kernel_size(kernel_size);
  auto layer = std::make_shared<Conv3DTranspose>(o);
  Variable y = (*layer)(inputs);
  std::lock_guard<std::mutex> lock(functional_mutex);
  functional_registry().push_back(layer);
  return y;
}

Variable conv3d_transpose(const Variable& inputs, long filters, long kernel_size,
                          const Conv3DTransposeOptions& options) {
  return conv3d_transpose(inputs, filters, std::vector<long>{kernel_size}, options);
}

std::vector<std::shared_ptr<Layer>> functional_layers() {
  std::lock_guard<std::mutex> lock(functional_mutex);
  return functional_registry();
}

}  // namespace tapeflow::layers
