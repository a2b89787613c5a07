#include "tapeflow/layers/lstm.hpp"

#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

LSTM::LSTM(const LSTMOptions& options)
    : LayerWith(std::in_place, options, "lstm", options.common(), options.seed(),
                detail::recurrent_settings(options)) {
  check_settings();
}

void LSTM::build(const Shape& s) {
  const std::size_t in = s.back();
  const auto units = static_cast<std::size_t>(options_.units());
  kernel_ = add_weight("kernel", {in, 4 * units}, options_.kernel_initializer(),
                       options_.kernel_regularizer(), options_.kernel_constraint());
  recurrent_kernel_ =
      add_weight("recurrent_kernel", {units, 4 * units}, options_.recurrent_initializer(),
                 options_.recurrent_regularizer(), options_.recurrent_constraint());
  if (options_.use_bias()) {
    Initializer init = options_.bias_initializer();
    if (options_.unit_forget_bias()) {
      // Keras: bias_initializer for i, ones for f, bias_initializer for c and o.
      const Initializer given = init;
      init = [given, units](const Shape&) {
        Tensor b = Tensor::from_shape({4 * units});
        Tensor first = given(Shape{units});
        Tensor rest = given(Shape{2 * units});
        for (std::size_t i = 0; i < units; ++i) {
          b(i) = first(i);
          b(units + i) = 1.f;
        }
        for (std::size_t i = 0; i < 2 * units; ++i) b(2 * units + i) = rest(i);
        return b;
      };
    }
    bias_ = add_weight("bias", {4 * units}, init, options_.bias_regularizer(),
                       options_.bias_constraint());
  }
  set_input_spec(InputSpec{.ndim = 3, .axes = {{-1, in}}});
}

void LSTM::begin_sequence(const Variable& x) { inputs_ = project_inputs(x, kernel_, bias_, 4); }

std::vector<Variable> LSTM::step(std::size_t t, const std::vector<Variable>& states) {
  const auto& act = options_.activation();
  const auto& ract = options_.recurrent_activation();
  std::vector<Variable> z =
      split(add(inputs_[t], project_state(states[0], recurrent_kernel_, 4)), 4, 1);
  Variable i = ract(z[0]);
  Variable f = ract(z[1]);
  Variable c = add(mul(f, states[1]), mul(i, act(z[2])));
  Variable o = ract(z[3]);
  Variable h = mul(o, act(c));
  return {h, c};
}

TAPEFLOW_REGISTER_LAYER(LSTM)

}  // namespace tapeflow::layers
