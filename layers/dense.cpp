#include "tapeflow/layers/dense.hpp"

#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

Dense::Dense(const DenseOptions& options) : LayerWith("dense", options) {
  if (options_.units() <= 0)
    fail(name(), "units must be a positive integer, got " + std::to_string(options_.units()));
  if (!options_.kernel_initializer().defined()) fail(name(), "kernel_initializer is undefined");
  if (options_.use_bias() && !options_.bias_initializer().defined())
    fail(name(), "bias_initializer is undefined");
  InputSpec spec;
  spec.min_ndim = 2;
  set_input_spec(spec);
}

void Dense::build(const Shape& s) {
  const std::size_t in = s.back();
  const auto units = static_cast<std::size_t>(options_.units());
  kernel_ = add_weight("kernel", {in, units}, options_.kernel_initializer(),
                       options_.kernel_regularizer(), options_.kernel_constraint());
  if (options_.use_bias())
    bias_ = add_weight("bias", {units}, options_.bias_initializer(), options_.bias_regularizer(),
                       options_.bias_constraint());
  // From now on the last axis is fixed (Keras sets the same InputSpec in build).
  InputSpec spec;
  spec.min_ndim = 2;
  spec.axes[-1] = in;
  set_input_spec(spec);
}

Variable Dense::call(const Variable& x, bool) {
  const Shape s = x.shape();
  const long in = static_cast<long>(s.back());
  Variable y;
  if (s.size() == 2) {
    y = matmul(x, kernel_);
  } else {
    // Keras' tensordot on the last axis: one GEMM over all leading positions. The row count is
    // spelled out (not -1) so that an input with a zero-sized axis still reshapes.
    long rows = 1;
    for (std::size_t i = 0; i + 1 < s.size(); ++i) rows *= static_cast<long>(s[i]);
    y = matmul(reshape(x, {rows, in}), kernel_);
    std::vector<long> out(s.begin(), s.end());
    out.back() = options_.units();
    y = reshape(y, out);
  }
  if (bias_.defined()) y = add(y, bias_);
  if (!options_.activation().is_linear()) y = options_.activation()(y);
  return y;
}

TAPEFLOW_REGISTER_LAYER(Dense)

}  // namespace tapeflow::layers
