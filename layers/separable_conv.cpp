#include "tapeflow/layers/separable_conv.hpp"

#include "tapeflow/framework/ops/conv.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

// The argument checks, the output shape and the depthwise step live in DepthwiseConvBase
// (layers/depthwise_conv.cpp, which also instantiates it for these options).

template <std::size_t N>
void SeparableConvND<N>::build(const Shape& s) {
  const auto& o = this->options_;
  const Shape dshape = this->depthwise_shape(s);
  Shape pshape(N, 1);
  pshape.push_back(dshape[N] * dshape[N + 1]);
  pshape.push_back(std::size_t(o.filters()));
  // Keras' creation order: depthwise, pointwise, bias. A failure rolls the whole build back
  // (the base), so no handle to a dropped weight is kept.
  try {
    this->depthwise_kernel_ =
        this->add_weight("depthwise_kernel", dshape, o.depthwise_initializer(),
                         o.depthwise_regularizer(), o.depthwise_constraint(), true);
    pointwise_kernel_ = this->add_weight("pointwise_kernel", pshape, o.pointwise_initializer(),
                                         o.pointwise_regularizer(), o.pointwise_constraint(), true);
    if (o.use_bias())
      this->bias_ = this->add_weight("bias", {std::size_t(o.filters())}, o.bias_initializer(),
                                     o.bias_regularizer(), o.bias_constraint(), true);
  } catch (const Error&) {
    this->depthwise_kernel_ = Variable();
    pointwise_kernel_ = Variable();
    throw;
  }
}

template <std::size_t N>
Variable SeparableConvND<N>::call(const Variable& x, bool) {
  this->check_call_input(x.shape());
  // Both steps channels_last: a channels_first input is transposed once, not once per step.
  const bool first = this->data_format() == "channels_first";
  Variable z = this->depthwise_step(first ? tapeflow::detail::to_channels_last(x) : x, Variable());
  Variable y;
  try {
    y = conv(z, pointwise_kernel_, this->bias_, ConvOptions());  // 1x1: one GEMM
  } catch (const Error& e) {
    e.rethrow_in(this->name());
  }
  if (first) y = tapeflow::detail::to_channels_first(y);
  return this->activate(y);
}

template class SeparableConvND<1>;
template class SeparableConvND<2>;

TAPEFLOW_REGISTER_LAYER(SeparableConv1D)
TAPEFLOW_REGISTER_LAYER(SeparableConv2D)

}  // namespace tapeflow::layers
