#include "tapeflow/layers/detail/recurrent.hpp"

#include <cmath>
#include <utility>

#include "tapeflow/framework/ops/ops.hpp"

namespace tapeflow::layers::detail {

Recurrent::Recurrent(const std::string& default_name, const LayerOptions& common, const Seed& seed,
                     const RecurrentSettings& settings)
    : RandomLayer(default_name, common, seed), settings_(settings) {
  set_input_spec(InputSpec{.ndim = 3});
}

void Recurrent::check_settings() const {
  if (settings_.units <= 0)
    fail(name(), "units must be a positive integer, got " + std::to_string(settings_.units));
  if (!(settings_.dropout >= 0.f && settings_.dropout < 1.f))
    fail(name(), "dropout must be in [0, 1), got " + config_float(settings_.dropout));
  if (!(settings_.recurrent_dropout >= 0.f && settings_.recurrent_dropout < 1.f))
    fail(name(),
         "recurrent_dropout must be in [0, 1), got " + config_float(settings_.recurrent_dropout));
}

// ---- public calls ----------------------------------------------------------------------------

std::vector<Variable> Recurrent::call_with_state(const Variable& x, bool training) {
  return call_with_state_impl(x, nullptr, {}, training);
}

std::vector<Variable> Recurrent::call_with_state(const Variable& x,
                                                 const std::vector<Variable>& initial_state,
                                                 bool training) {
  return call_with_state_impl(x, nullptr, initial_state, training);
}

std::vector<Variable> Recurrent::call_with_state(const Variable& x, const Tensor& mask,
                                                 const std::vector<Variable>& initial_state,
                                                 bool training) {
  return call_with_state_impl(x, &mask, initial_state, training);
}

std::vector<Variable> Recurrent::call_with_state_impl(const Variable& x, const Tensor* mask,
                                                      const std::vector<Variable>& initial_state,
                                                      bool training) {
  // Through operator() / masked_call, so that the first call builds and the activity
  // regularizer applies; `call` reads the initial states and leaves the final ones here.
  struct Pending {
    Recurrent& self;
    ~Pending() { self.pending_initial_ = nullptr; }
  } guard{*this};
  pending_initial_ = &initial_state;
  last_states_.clear();
  Variable y = mask ? masked_call(x, *mask, training) : (*this)(x, training);
  std::vector<Variable> out{y};
  out.insert(out.end(), last_states_.begin(), last_states_.end());
  last_states_.clear();
  return out;
}

std::vector<Variable> Recurrent::call_on_list(const std::vector<Variable>& inputs, bool training) {
  if (inputs.empty()) fail(name(), "takes a sequence and optional initial states, got no input");
  std::vector<Variable> initial(inputs.begin() + 1, inputs.end());
  std::vector<Variable> out = call_with_state_impl(inputs[0], nullptr, initial, training);
  if (!settings_.return_state) out.resize(1);
  return out;
}

void Recurrent::reset_states() {
  // Dropped rather than zeroed: the next call starts from zeros of its own batch size (the
  // same values as Keras' zeroed states), so a layer built on a symbolic example can be reset.
  kept_states_.clear();
}

std::optional<Tensor> Recurrent::compute_mask(const Variable&,
                                              const std::optional<Tensor>& mask) const {
  if (!mask || !settings_.return_sequences) return std::nullopt;
  return mask;
}

Variable Recurrent::call(const Variable& x, bool training) {
  return dispatch(x, nullptr, training);
}

Variable Recurrent::call_masked(const Variable& x, const Tensor& mask, bool training) {
  return dispatch(x, &mask, training);
}

Variable Recurrent::dispatch(const Variable& x, const Tensor* mask, bool training) {
  static const std::vector<Variable> none;
  const std::vector<Variable>& initial = pending_initial_ ? *pending_initial_ : none;
  // A nested call (a layer calling this one inside its own call) must not see these states.
  pending_initial_ = nullptr;
  std::vector<Variable> out = run_loop(x, mask, initial, training);
  last_states_.assign(out.begin() + 1, out.end());
  return out[0];
}

// ---- dropout masks ---------------------------------------------------------------------------

Tensor Recurrent::dropout_mask(std::size_t rows, std::size_t cols, float rate) {
  RandomGenerator& rng = stream();
  const float scale = 1.f / (1.f - rate);
  Tensor m = Tensor::from_shape({rows, cols});
  // As Dropout: an element is kept when its uniform draw is >= rate.
  for (auto& v : m) v = rng.uniform01() >= rate ? scale : 0.f;
  return m;
}

Variable Recurrent::input_masked(const Variable& v, std::size_t g) const {
  if (input_masks_.empty()) return v;
  const Variable& m = input_masks_[input_masks_.size() == 1 ? 0 : g];
  if (v.shape().size() == 3) {
    // (batch, features) -> (batch, 1, features): the same mask at every step.
    const Shape& s = m.shape();
    return mul(v, reshape(m, {static_cast<long>(s[0]), 1, static_cast<long>(s[1])}));
  }
  return mul(v, m);
}

Variable Recurrent::recurrent_masked(const Variable& h, std::size_t g) const {
  if (recurrent_masks_.empty()) return h;
  return mul(h, recurrent_masks_[recurrent_masks_.size() == 1 ? 0 : g]);
}

// ---- projections -----------------------------------------------------------------------------

std::vector<Variable> Recurrent::project_inputs(const Variable& x, const Variable& kernel,
                                                const Variable& bias, std::size_t gates) const {
  const Shape s = x.shape();
  const long batch = static_cast<long>(s[0]), time = static_cast<long>(s[1]);
  const long features = static_cast<long>(s[2]);
  const long cols = static_cast<long>(kernel.shape()[1]);
  // One GEMM over every step (the masks are the same at each step).
  auto product = [&](const Variable& in, const Variable& k) {
    return matmul(reshape(in, {batch * time, features}), k);
  };
  Variable p;
  if (!per_gate_input_masks()) {
    p = product(input_masked(x, 0), kernel);
  } else {
    std::vector<Variable> parts = split(kernel, gates, 1);
    std::vector<Variable> columns;
    for (std::size_t g = 0; g < gates; ++g)
      columns.push_back(product(input_masked(x, g), parts[g]));
    p = concat(columns, 1);
  }
  if (bias.defined()) p = add(p, bias);
  p = reshape(p, {batch, time, cols});
  std::vector<Variable> steps;
  steps.reserve(static_cast<std::size_t>(time));
  for (Variable& v : split(p, static_cast<std::size_t>(time), 1))
    steps.push_back(reshape(v, {batch, cols}));
  return steps;
}

Variable Recurrent::project_state(const Variable& h, const Variable& kernel, std::size_t gates,
                                  std::size_t first_gate) const {
  if (!per_gate_recurrent_masks()) return matmul(recurrent_masked(h, 0), kernel);
  std::vector<Variable> parts = split(kernel, gates, 1);
  std::vector<Variable> columns;
  for (std::size_t g = 0; g < gates; ++g)
    columns.push_back(matmul(recurrent_masked(h, first_gate + g), parts[g]));
  return concat(columns, 1);
}

// ---- the loop --------------------------------------------------------------------------------

std::vector<Variable> Recurrent::run_loop(const Variable& x, const Tensor* mask,
                                          const std::vector<Variable>& initial, bool training) {
  const Shape s = x.shape();
  const std::size_t batch = s[0], time = s[1], features = s[2];
  const auto units = static_cast<std::size_t>(settings_.units);
  const std::size_t n_states = state_count();
  if (time == 0) fail_shape(name(), "needs at least one time step, got shape " + shape_str(s));
  if (mask && mask->shape() != Shape{batch, time})
    fail_shape(name(), "the mask must have shape (batch, time) = " + shape_str(Shape{batch, time}) +
                           ", got " + shape_str(mask->shape()));

  // The states before the first step.
  std::vector<Variable> states;
  if (!initial.empty()) {
    if (initial.size() != n_states)
      fail(name(), "takes " + std::to_string(n_states) + " initial state(s), got " +
                       std::to_string(initial.size()));
    for (std::size_t i = 0; i < n_states; ++i)
      if (initial[i].shape() != Shape{batch, units})
        fail_shape(name(), "initial state " + std::to_string(i) + " must have shape " +
                               shape_str(Shape{batch, units}) + ", got " +
                               shape_str(initial[i].shape()));
    states = initial;
  } else if (settings_.stateful && !kept_states_.empty()) {
    if (kept_states_[0].shape()[0] != batch)
      fail(name(), "is stateful with batch size " + std::to_string(kept_states_[0].shape()[0]) +
                       " but got an input of shape " + shape_str(s) +
                       " (keep the batch size, or call reset_states() first)");
    for (const Tensor& t : kept_states_) states.emplace_back(t);
  } else {
    for (std::size_t i = 0; i < n_states; ++i)
      states.emplace_back(Tensor(xt::zeros<float>({batch, units})));
  }

  // Dropout masks: one draw per call, the same at every step (Keras' DropoutRNNCell); per gate
  // when recurrent_dropout is set (Keras 3's implementation 1).
  input_masks_.clear();
  recurrent_masks_.clear();
  if (training) {
    const std::size_t count = settings_.recurrent_dropout > 0.f ? gate_count() : 1;
    if (settings_.dropout > 0.f)
      for (std::size_t g = 0; g < count; ++g)
        input_masks_.emplace_back(dropout_mask(batch, features, settings_.dropout));
    if (settings_.recurrent_dropout > 0.f)
      for (std::size_t g = 0; g < count; ++g)
        recurrent_masks_.emplace_back(dropout_mask(batch, units, settings_.recurrent_dropout));
  }
  struct Cleanup {
    Recurrent& self;
    ~Cleanup() {
      self.end_sequence();
      self.input_masks_.clear();
      self.recurrent_masks_.clear();
    }
  } cleanup{*this};
  begin_sequence(x);

  Variable zeros(Tensor(xt::zeros<float>({batch, units})));
  Variable prev_output = zeros;
  std::vector<Variable> outputs;
  if (settings_.return_sequences) outputs.reserve(time);
  for (std::size_t k = 0; k < time; ++k) {
    const std::size_t t = settings_.go_backwards ? time - 1 - k : k;
    std::vector<Variable> next = step(t, states);
    Variable output = next[0];
    if (mask) {
      Tensor m = Tensor::from_shape({batch, 1});
      for (std::size_t b = 0; b < batch; ++b) m(b, 0) = (*mask)(b, t) != 0.f ? 1.f : 0.f;
      Variable keep(std::move(m));
      output = where(keep, output, settings_.zero_output_for_mask ? zeros : prev_output);
      for (std::size_t i = 0; i < n_states; ++i) next[i] = where(keep, next[i], states[i]);
    }
    if (settings_.return_sequences) outputs.push_back(output);
    prev_output = output;
    states = std::move(next);
  }

  if (settings_.stateful) {
    kept_states_.clear();
    for (const Variable& v : states) kept_states_.push_back(v.value());
  }
  std::vector<Variable> out{settings_.return_sequences ? stack(outputs, 1) : prev_output};
  out.insert(out.end(), states.begin(), states.end());
  return out;
}

}  // namespace tapeflow::layers::detail
