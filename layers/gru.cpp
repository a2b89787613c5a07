#include "tapeflow/layers/gru.hpp"

#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

GRU::GRU(const GRUOptions& options)
    : LayerWith(std::in_place, options, "gru", options.common(), options.seed(),
                detail::recurrent_settings(options)) {
  check_settings();
}

void GRU::build(const Shape& s) {
  const std::size_t in = s.back();
  const auto units = static_cast<std::size_t>(options_.units());
  kernel_ = add_weight("kernel", {in, 3 * units}, options_.kernel_initializer(),
                       options_.kernel_regularizer(), options_.kernel_constraint());
  recurrent_kernel_ =
      add_weight("recurrent_kernel", {units, 3 * units}, options_.recurrent_initializer(),
                 options_.recurrent_regularizer(), options_.recurrent_constraint());
  if (options_.use_bias()) {
    const Shape bias_shape = options_.reset_after() ? Shape{2, 3 * units} : Shape{3 * units};
    bias_ = add_weight("bias", bias_shape, options_.bias_initializer(), options_.bias_regularizer(),
                       options_.bias_constraint());
  }
  set_input_spec(InputSpec{.ndim = 3, .axes = {{-1, in}}});
}

void GRU::begin_sequence(const Variable& x) {
  const long u3 = 3 * options_.units();
  Variable input_bias;
  if (bias_.defined() && options_.reset_after()) {
    input_bias = reshape(slice(bias_, {0, 0}, {1, u3}), {u3});
    recurrent_bias_ = reshape(slice(bias_, {1, 0}, {1, u3}), {u3});
  } else {
    input_bias = bias_;
  }
  inputs_ = project_inputs(x, kernel_, input_bias, 3);
  if (!options_.reset_after()) {
    const long units = options_.units();
    recurrent_zr_ = slice(recurrent_kernel_, {0, 0}, {units, 2 * units});
    recurrent_h_ = slice(recurrent_kernel_, {0, 2 * units}, {units, units});
  }
}

void GRU::end_sequence() {
  inputs_.clear();
  recurrent_bias_ = recurrent_zr_ = recurrent_h_ = Variable();
}

std::vector<Variable> GRU::step(std::size_t t, const std::vector<Variable>& states) {
  const auto& act = options_.activation();
  const auto& ract = options_.recurrent_activation();
  const Variable& h = states[0];
  std::vector<Variable> x = split(inputs_[t], 3, 1);
  Variable z, r, hh;
  if (options_.reset_after()) {
    Variable inner = project_state(h, recurrent_kernel_, 3);
    if (recurrent_bias_.defined()) inner = add(inner, recurrent_bias_);
    std::vector<Variable> rec = split(inner, 3, 1);
    z = ract(add(x[0], rec[0]));
    r = ract(add(x[1], rec[1]));
    hh = act(add(x[2], mul(r, rec[2])));
  } else {
    std::vector<Variable> rec = split(project_state(h, recurrent_zr_, 2), 2, 1);
    z = ract(add(x[0], rec[0]));
    r = ract(add(x[1], rec[1]));
    hh = act(add(x[2], matmul(mul(r, recurrent_masked(h, 2)), recurrent_h_)));
  }
  // The previous state mixed with the candidate by the update gate (undropped h, as Keras).
  return {add(mul(z, h), mul(sub(scalar(1.f), z), hh))};
}

TAPEFLOW_REGISTER_LAYER(GRU)

}  // namespace tapeflow::layers
