#include "tapeflow/layers/conv.hpp"

#include <algorithm>

#include "tapeflow/framework/core/strings.hpp"
#include "tapeflow/framework/ops/conv.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/conv_transpose.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

activations::NamedActivation ActivationArg::resolve(const std::string& layer) const {
  if (!name_) return activation_;
  activations::NamedActivation named;
  try {
    named = activations::NamedActivation(*name_);
  } catch (const Error& e) {
    e.rethrow_in(layer + ": activation");  // the message already starts with "activation: "
  }
  return named;
}

std::string config_write(const ActivationArg& activation) { return activation.name(); }

void config_read(const std::string& where, const std::string& key, const std::string& text,
                 ActivationArg& out) {
  activations::NamedActivation a;
  config_read(where, key, text, a);
  out = ActivationArg(std::move(a));
}

namespace {

template <std::size_t N>
bool all_ones(const std::array<long, N>& a) {
  return std::all_of(a.begin(), a.end(), [](long e) { return e == 1; });
}

}  // namespace

template <class O>
ConvBase<O>::ConvBase(const std::string& default_name, const O& options)
    : LayerWith<O>(default_name, options) {
  O& o = this->options_;
  const std::string& n = this->name();
  if (o.filters() <= 0)
    fail(n, "filters must be a positive integer, got " + std::to_string(o.filters()));
  if constexpr (requires { o.groups(); }) {
    if (o.groups() < 1)
      fail(n, "groups must be a positive integer, got " + std::to_string(o.groups()));
    if (o.filters() % o.groups() != 0)
      fail(n, "filters " + std::to_string(o.filters()) + " must be divisible by groups " +
                  std::to_string(o.groups()));
  }
  kernel_size_ = detail::per_axis<rank>(n, "kernel_size", o.kernel_size(), 1);
  strides_ = detail::per_axis<rank>(n, "strides", o.strides(), 1);
  dilation_rate_ = detail::per_axis<rank>(n, "dilation_rate", o.dilation_rate(), 1);
  // Keras' Conv._validate_init rule, kept for the ordinary convolution only. Keras refuses the
  // combination for its transposed layers too, but only because TF's op has no kernel for it;
  // ours scatter y[i * s + t * d - pad_before] for any s and d, so those accept it.
  if (!O::transposed && !all_ones<rank>(strides_) && !all_ones<rank>(dilation_rate_))
    fail(n, "strides " + shape_str(strides_) +
                " > 1 is not supported together with "
                "dilation_rate " +
                shape_str(dilation_rate_) + " > 1");
  if constexpr (O::transposed) {
    if (o.output_padding()) {
      auto op = detail::per_axis<rank>(n, "output_padding", *o.output_padding(), 0);
      for (std::size_t a = 0; a < rank; ++a)
        if (op[a] >= strides_[a])
          fail(n, "output_padding " + shape_str(op) + " must be smaller than strides " +
                      shape_str(strides_) + " on every axis (axis " + std::to_string(a) + ": " +
                      std::to_string(op[a]) + " >= " + std::to_string(strides_[a]) + ")");
      output_padding_ = op;
      o.output_padding(PerAxis(op));
    }
  }
  const std::string p = tapeflow::detail::to_lower(o.padding());
  if (p == "causal") {
    if (rank != 1 || O::transposed) fail(n, "padding 'causal' is only supported for Conv1D");
  } else if (p != "valid" && p != "same") {
    fail(n, "unknown padding '" + o.padding() + "' (expected 'valid' or 'same'" +
                (rank == 1 && !O::transposed ? std::string(" or 'causal'") : std::string()) + ")");
  }
  const std::string data_format = tapeflow::detail::normalize_data_format(n, o.data_format());
  activation_ = o.activation().resolve(n);
  // From now on the options describe the layer exactly: its config and printed form.
  o.kernel_size(kernel_size_)
      .strides(strides_)
      .dilation_rate(dilation_rate_)
      .padding(p)
      .data_format(data_format)
      .activation(activation_);
  // No InputSpec: the base class would report a wrong rank as a ValueError before `build`;
  // `build` and `call` check the rank themselves and report it as the ShapeError it is.
}

template <class O>
detail::OutputLength ConvBase<O>::transposed_length() const {
  if (!O::transposed) return nullptr;
  return [this](std::size_t axis, long in) {
    return conv_transpose_output_length(
        in, kernel_size_[axis], strides_[axis], dilation_rate_[axis], padding(),
        output_padding_ ? (*output_padding_)[axis] : -1, this->name());
  };
}

template <class O>
Shape ConvBase<O>::compute_output_shape(const Shape& s) const {
  return detail::conv_output_shape(this->name(), s, geometry(), std::size_t(filters()),
                                   transposed_length());
}

template <class O>
void ConvBase<O>::build(const Shape& s) {
  compute_output_shape(s);  // rejects an empty output before creating weights
  const O& o = this->options_;
  const std::size_t cin = s[channel_axis()];
  const std::size_t filters = std::size_t(o.filters());
  const std::size_t groups = std::size_t(this->groups());
  // Keras' build: a ValueError (the layer's argument does not fit the input).
  if (cin % groups != 0)
    fail(this->name(), "groups " + std::to_string(groups) +
                           " must divide the input channels, got " + std::to_string(cin) +
                           " channels (input shape " + shape_str(s) + ")");
  Shape kshape;
  for (long k : kernel_size_) kshape.push_back(std::size_t(k));
  if (O::transposed) {
    kshape.push_back(filters);
    kshape.push_back(cin);
  } else {
    kshape.push_back(cin / groups);
    kshape.push_back(filters);
  }
  // add_weight's errors (an initializer that throws or returns the wrong shape) already start
  // with the layer name and name the weight ("up: weight 'kernel' of shape ..."): context added
  // here would repeat the layer name.
  kernel_ = this->add_weight("kernel", kshape, o.kernel_initializer(), o.kernel_regularizer(),
                             o.kernel_constraint(), true);
  if (o.use_bias()) {
    try {
      bias_ = this->add_weight("bias", {filters}, o.bias_initializer(), o.bias_regularizer(),
                               o.bias_constraint(), true);
    } catch (const Error&) {
      // The base rolls the failed build back; do not keep a handle to the dropped kernel.
      kernel_ = Variable();
      throw;
    }
  }
}

template <class O>
Variable ConvBase<O>::call(const Variable& x, bool) {
  // Every call, not only the first (see check_conv_call_input).
  detail::check_conv_call_input(this->name(), x.shape(), this->input_shape(), geometry(),
                                std::size_t(filters()), transposed_length());
  ConvOptions co;
  co.strides(PerAxis(strides_))
      .dilation(PerAxis(dilation_rate_))
      .data_format(data_format())
      .groups(this->groups());
  if (padding() == "causal") {
    // Keras pads dilation_rate * (kernel_size - 1) on the left, then runs a valid conv.
    co.pads({{dilation_rate_[0] * (kernel_size_[0] - 1), 0}});
  } else {
    co.padding(padding());
  }
  if (output_padding_) co.output_padding(PerAxis(*output_padding_));
  Variable y;
  try {
    y = O::transposed ? conv_transpose(x, kernel_, bias_, co) : conv(x, kernel_, bias_, co);
  } catch (const Error& e) {
    e.rethrow_in(this->name());  // keeps the type (an allocation limit, a kernel's own check)
  }
  if (!activation_.is_linear()) y = activation_(y);
  return y;
}

template class ConvBase<ConvNDOptions<1>>;
template class ConvBase<ConvNDOptions<2>>;
template class ConvBase<ConvNDOptions<3>>;
template class ConvBase<ConvNDTransposeOptions<1>>;
template class ConvBase<ConvNDTransposeOptions<2>>;
template class ConvBase<ConvNDTransposeOptions<3>>;
template class ConvND<1>;
template class ConvND<2>;
template class ConvND<3>;

TAPEFLOW_REGISTER_LAYER(Conv1D)
TAPEFLOW_REGISTER_LAYER(Conv2D)
TAPEFLOW_REGISTER_LAYER(Conv3D)

}  // namespace tapeflow::layers
