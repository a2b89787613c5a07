#include "tapeflow/layers/depthwise_conv.hpp"

#include "tapeflow/framework/core/strings.hpp"
#include "tapeflow/framework/ops/conv.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/registry.hpp"
#include "tapeflow/layers/separable_conv.hpp"

namespace tapeflow::layers {

template <class O>
DepthwiseConvBase<O>::DepthwiseConvBase(const std::string& default_name, const O& options)
    : LayerWith<O>(default_name, options) {
  O& o = this->options_;
  const std::string& n = this->name();
  if constexpr (requires { o.filters(); }) {
    if (o.filters() <= 0)
      fail(n, "filters must be a positive integer, got " + std::to_string(o.filters()));
  }
  if (o.depth_multiplier() <= 0)
    fail(n, "depth_multiplier must be a positive integer, got " +
                std::to_string(o.depth_multiplier()));
  kernel_size_ = detail::per_axis<rank>(n, "kernel_size", o.kernel_size(), 1);
  strides_ = detail::per_axis<rank>(n, "strides", o.strides(), 1);
  dilation_rate_ = detail::per_axis<rank>(n, "dilation_rate", o.dilation_rate(), 1);
  const std::string p = tapeflow::detail::to_lower(o.padding());
  if (p != "valid" && p != "same")
    fail(n, "unknown padding '" + o.padding() + "' (expected 'valid' or 'same')");
  const std::string data_format = tapeflow::detail::normalize_data_format(n, o.data_format());
  activation_ = o.activation().resolve(n);
  // From now on the options describe the layer exactly: its config and printed form.
  o.kernel_size(kernel_size_)
      .strides(strides_)
      .dilation_rate(dilation_rate_)
      .padding(p)
      .data_format(data_format)
      .activation(activation_);
}

template <class O>
Shape DepthwiseConvBase<O>::compute_output_shape(const Shape& s) const {
  detail::check_conv_input_rank(this->name(), s, geometry());  // before reading the channels
  return detail::conv_output_shape(this->name(), s, geometry(), output_channels(s[channel_axis()]));
}

template <class O>
Shape DepthwiseConvBase<O>::depthwise_shape(const Shape& s) const {
  compute_output_shape(s);  // rejects an empty output before any weight is created
  Shape k;
  for (long e : kernel_size_) k.push_back(std::size_t(e));
  k.push_back(s[channel_axis()]);
  k.push_back(std::size_t(depth_multiplier()));
  return k;
}

template <class O>
void DepthwiseConvBase<O>::check_call_input(const Shape& s) const {
  // Every call, as Keras' input spec (see check_conv_call_input).
  const Shape& built = this->input_shape();
  detail::check_conv_call_input(this->name(), s, built, geometry(),
                                output_channels(built[channel_axis()]));
}

template <class O>
Variable DepthwiseConvBase<O>::depthwise_step(const Variable& x, const Variable& bias) const {
  // A grouped convolution with one group per input channel: the kernel (k..., C, dm) read as
  // (k..., 1, C * dm) has the same memory order, and group c's filters are c * dm + m, TF's
  // order of the depthwise outputs.
  const Shape ks = depthwise_kernel_.shape();
  const long channels = long(ks[rank]), dm = long(ks[rank + 1]);
  std::vector<long> grouped;
  for (std::size_t a = 0; a < rank; ++a) grouped.push_back(long(ks[a]));
  grouped.push_back(1);
  grouped.push_back(channels * dm);
  ConvOptions co;
  co.strides(PerAxis(strides_))
      .dilation(PerAxis(dilation_rate_))
      .padding(padding())
      .groups(channels);
  Variable y;
  try {
    y = conv(x, reshape(depthwise_kernel_, grouped), bias, co);
  } catch (const Error& e) {
    e.rethrow_in(this->name());  // keeps the type (an allocation limit, a kernel's own check)
  }
  return y;
}

template <std::size_t N>
void DepthwiseConvND<N>::build(const Shape& s) {
  const auto& o = this->options_;
  const Shape kshape = this->depthwise_shape(s);
  this->depthwise_kernel_ =
      this->add_weight("depthwise_kernel", kshape, o.depthwise_initializer(),
                       o.depthwise_regularizer(), o.depthwise_constraint(), true);
  if (o.use_bias()) {
    try {
      this->bias_ =
          this->add_weight("bias", {this->output_channels(s[this->channel_axis()])},
                           o.bias_initializer(), o.bias_regularizer(), o.bias_constraint(), true);
    } catch (const Error&) {
      this->depthwise_kernel_ = Variable();  // the base rolls the failed build back
      throw;
    }
  }
}

template <std::size_t N>
Variable DepthwiseConvND<N>::call(const Variable& x, bool) {
  this->check_call_input(x.shape());
  const bool first = this->data_format() == "channels_first";
  Variable y = this->depthwise_step(first ? tapeflow::detail::to_channels_last(x) : x, this->bias_);
  if (first) y = tapeflow::detail::to_channels_first(y);
  return this->activate(y);
}

template class DepthwiseConvBase<DepthwiseConvNDOptions<1>>;
template class DepthwiseConvBase<DepthwiseConvNDOptions<2>>;
template class DepthwiseConvBase<SeparableConvNDOptions<1>>;
template class DepthwiseConvBase<SeparableConvNDOptions<2>>;
template class DepthwiseConvND<1>;
template class DepthwiseConvND<2>;

TAPEFLOW_REGISTER_LAYER(DepthwiseConv1D)
TAPEFLOW_REGISTER_LAYER(DepthwiseConv2D)

}  // namespace tapeflow::layers
