#include "tapeflow/layers/simple_rnn.hpp"

#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

SimpleRNN::SimpleRNN(const SimpleRNNOptions& options)
    : LayerWith(std::in_place, options, "simple_rnn", options.common(), options.seed(),
                detail::recurrent_settings(options)) {
  check_settings();
}

void SimpleRNN::build(const Shape& s) {
  const std::size_t in = s.back();
  const auto units = static_cast<std::size_t>(options_.units());
  kernel_ = add_weight("kernel", {in, units}, options_.kernel_initializer(),
                       options_.kernel_regularizer(), options_.kernel_constraint());
  recurrent_kernel_ =
      add_weight("recurrent_kernel", {units, units}, options_.recurrent_initializer(),
                 options_.recurrent_regularizer(), options_.recurrent_constraint());
  if (options_.use_bias())
    bias_ = add_weight("bias", {units}, options_.bias_initializer(), options_.bias_regularizer(),
                       options_.bias_constraint());
  set_input_spec(InputSpec{.ndim = 3, .axes = {{-1, in}}});
}

void SimpleRNN::begin_sequence(const Variable& x) {
  inputs_ = project_inputs(x, kernel_, bias_, 1);
}

std::vector<Variable> SimpleRNN::step(std::size_t t, const std::vector<Variable>& states) {
  Variable h = add(inputs_[t], project_state(states[0], recurrent_kernel_, 1));
  if (!options_.activation().is_linear()) h = options_.activation()(h);
  return {h};
}

TAPEFLOW_REGISTER_LAYER(SimpleRNN)

}  // namespace tapeflow::layers
