#pragma once
/// The time loop that Keras' recurrent layers share (`keras.layers.RNN`): SimpleRNN, LSTM and GRU
/// (layers/simple_rnn.hpp, layers/lstm.hpp, layers/gru.hpp) derive from `detail::Recurrent` and
/// give only their step.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "tapeflow/framework/runtime/random.hpp"
#include "tapeflow/layers/detail/random_layer.hpp"
#include "tapeflow/layers/layer.hpp"

/// The options of every recurrent layer after its cell's (Keras `RNN` names and defaults):
/// `return_sequences` (false: the last output only), `return_state` (false; the states come
/// from `call_with_state`), `go_backwards` (false), `stateful` (false), `unroll` (false; kept
/// for Keras configs, the loop is the same either way), `zero_output_for_mask` (false: a
/// masked step repeats the previous output; true: it outputs zeros).
#define TAPEFLOW_RNN_FIELDS(F)     \
  F(bool, return_sequences, false) \
  F(bool, return_state, false)     \
  F(bool, go_backwards, false)     \
  F(bool, stateful, false)         \
  F(bool, unroll, false)           \
  F(bool, zero_output_for_mask, false)

/// The weight options of every recurrent cell (Keras names and defaults): `use_bias` (true),
/// `kernel_initializer` ("glorot_uniform"), `recurrent_initializer` ("orthogonal"),
/// `bias_initializer` ("zeros"), then the regularizers and constraints of `kernel`,
/// `recurrent_kernel` and `bias` (none).
#define TAPEFLOW_RECURRENT_WEIGHT_FIELDS(F)            \
  F(bool, use_bias, true)                              \
  F(Initializer, kernel_initializer, "glorot_uniform") \
  F(Initializer, recurrent_initializer, "orthogonal")  \
  F(Initializer, bias_initializer, "zeros")            \
  F(Regularizer, kernel_regularizer, {})               \
  F(Regularizer, recurrent_regularizer, {})            \
  F(Regularizer, bias_regularizer, {})                 \
  F(Constraint, kernel_constraint, {})                 \
  F(Constraint, recurrent_constraint, {})              \
  F(Constraint, bias_constraint, {})

/// The dropout options of every recurrent cell: `dropout` (0, in [0, 1)) on the inputs,
/// `recurrent_dropout` (0, in [0, 1)) on the recurrent state, `seed` (None), the op seed of the
/// masks (framework/runtime/random.hpp).
#define TAPEFLOW_RECURRENT_DROPOUT_FIELDS(F) \
  F(float, dropout, 0.f)                     \
  F(float, recurrent_dropout, 0.f)           \
  F(Seed, seed, std::nullopt)

namespace tapeflow::layers::detail {

/// What the time loop needs to know of a layer's options.
struct RecurrentSettings {
  long units = 0;
  float dropout = 0.f;
  float recurrent_dropout = 0.f;
  bool return_sequences = false;
  bool return_state = false;
  bool go_backwards = false;
  bool stateful = false;
  bool zero_output_for_mask = false;
};

/// The settings of a recurrent layer's options `o` (SimpleRNNOptions, LSTMOptions, GRUOptions).
template <class O>
RecurrentSettings recurrent_settings(const O& o) {
  return RecurrentSettings{
      o.units(),        o.dropout(),      o.recurrent_dropout(), o.return_sequences(),
      o.return_state(), o.go_backwards(), o.stateful(),          o.zero_output_for_mask()};
}

/// Base of SimpleRNN, LSTM and GRU: Keras' `RNN` layer with the cell folded in. The input is
/// `(batch, time, features)`; the states start at zeros (or at the given initial states, or at
/// the kept states of a stateful layer), the cell runs once per time step (last to first with
/// `go_backwards`), and the output is the last step's output `(batch, units)` or, with
/// `return_sequences`, every step's `(batch, time, units)` in the order processed (reversed
/// with `go_backwards`, as Keras).
///
/// Masking (`masked_call`, a `(batch, time)` mask, nonzero = the step counts): at a masked step
/// the states carry over unchanged and the output is the previous step's output (zeros before
/// the first step), or zeros with `zero_output_for_mask`. The output mask is the input mask
/// with `return_sequences`, none otherwise.
///
/// Dropout (training only, `dropout` on the inputs, `recurrent_dropout` on the recurrent state):
/// the masks are drawn once per call from the layer's random stream and used at every step, as
/// Keras 3's `DropoutRNNCell`. As Keras 3's LSTM and GRU (whose `recurrent_dropout` selects
/// their `implementation=1`), a gated cell draws one mask per gate when `recurrent_dropout` is
/// nonzero, and one input mask shared by the gates otherwise.
///
/// `stateful`: the final states of each call are kept (as values, not weights) and start the
/// next call; `reset_states()` makes the next call start from zeros again. A call with another
/// batch size than the kept states' is an Error (Keras: the batch of a stateful RNN is fixed);
/// after `reset_states()` any batch size starts afresh (so a layer built in a functional model
/// on a one-sample example is reset before training).
///
/// States: `call_with_state` returns `{output, states...}` (SimpleRNN and GRU: `h`; LSTM: `h`,
/// `c`) and takes explicit initial states; in a functional model, a layer with
/// `return_state` has `1 + state count` outputs (`call_symbolic`), and extra inputs after the
/// sequence are its initial states.
///
/// Example (a cell: SimpleRNN's step, layers/simple_rnn.cpp):
/// ```
/// void begin_sequence(const Variable& x) override {
///   inputs_ = project_inputs(x, kernel_, bias_, 1);   // x . kernel + bias, every step at once
/// }
/// std::vector<Variable> step(std::size_t t, const std::vector<Variable>& states) override {
///   return {tanh(add(inputs_[t], project_state(states[0], recurrent_kernel_, 1)))};
/// }
/// ```
class Recurrent : public RandomLayer {
 public:
  /// `{output, states...}` for `x`, with the given initial states (none: zeros, or the kept
  /// states of a stateful layer), and with a mask when `mask` is given. Builds on the first
  /// call, as `operator()`. Errors: a wrong count or shape of initial states; see `call`.
  std::vector<Variable> call_with_state(const Variable& x, bool training = false);
  std::vector<Variable> call_with_state(const Variable& x,
                                        const std::vector<Variable>& initial_state,
                                        bool training = false);
  std::vector<Variable> call_with_state(const Variable& x, const Tensor& mask,
                                        const std::vector<Variable>& initial_state,
                                        bool training = false);
  /// Keras `reset_states`: the next call of a stateful layer starts from zero states (of its
  /// own batch size). Nothing to do on a layer that is not stateful.
  void reset_states();
  /// The kept states of a stateful layer (empty before its first call and after
  /// `reset_states()`).
  const std::vector<Tensor>& states() const { return kept_states_; }
  /// The number of states (SimpleRNN and GRU: 1, LSTM: 2), each `(batch, units)`.
  virtual std::size_t state_count() const { return 1; }

  bool supports_masking() const override { return true; }
  /// The input mask with `return_sequences`, none otherwise.
  std::optional<Tensor> compute_mask(const Variable& x,
                                     const std::optional<Tensor>& mask) const override;
  /// Inputs `{x, initial states...}`; outputs `{output}` or, with `return_state`,
  /// `{output, states...}`.
  std::vector<Variable> call_on_list(const std::vector<Variable>& inputs, bool training) override;

 protected:
  Recurrent(const std::string& default_name, const LayerOptions& common, const Seed& seed,
            const RecurrentSettings& settings);

  Variable call(const Variable& x, bool training) override;
  Variable call_masked(const Variable& x, const Tensor& mask, bool training) override;

  // ---- what a cell gives -----------------------------------------------------------------
  /// The number of gates that may each get their own dropout masks (SimpleRNN 1, LSTM 4,
  /// GRU 3).
  virtual std::size_t gate_count() const { return 1; }
  /// Before the first step of a call: precompute what does not depend on the state (the input
  /// projections of every step, `project_inputs`). `x` is `(batch, time, features)`.
  virtual void begin_sequence(const Variable& x) = 0;
  /// One step: the new states from the states before it; the output is the first new state.
  /// `t` is the index of the step in `x` (counting from the start whatever the direction).
  virtual std::vector<Variable> step(std::size_t t, const std::vector<Variable>& states) = 0;
  /// After the last step (drop what `begin_sequence` kept).
  virtual void end_sequence() = 0;

  // ---- helpers for the cells -------------------------------------------------------------
  /// `v` times the dropout mask of gate `g` (the shared mask when there is one, `v` as is when
  /// there is none): `input_mask` for inputs `(batch, features)` or `(batch, time, features)`,
  /// `recurrent_mask` for states `(batch, units)`.
  Variable input_masked(const Variable& v, std::size_t g) const;
  Variable recurrent_masked(const Variable& h, std::size_t g) const;
  /// Whether the gates have masks of their own (then products must be taken gate by gate).
  bool per_gate_input_masks() const { return input_masks_.size() > 1; }
  bool per_gate_recurrent_masks() const { return recurrent_masks_.size() > 1; }
  /// The input projection of every step: `x` `(batch, time, features)` times `kernel`
  /// `(features, gates * units)` (each gate's columns with its own input mask when the gates
  /// have their own), plus `bias` `(gates * units)` when defined; one `(batch, gates * units)`
  /// value per time step.
  std::vector<Variable> project_inputs(const Variable& x, const Variable& kernel,
                                       const Variable& bias, std::size_t gates) const;
  /// `h` `(batch, units)` times `kernel` `(units, gates * units)` with the recurrent masks of
  /// gates `first_gate, first_gate + 1, ...` (one product when they share one).
  Variable project_state(const Variable& h, const Variable& kernel, std::size_t gates,
                         std::size_t first_gate = 0) const;

  const RecurrentSettings& settings() const { return settings_; }
  /// Errors naming the layer for a `units`, `dropout` or `recurrent_dropout` out of range.
  void check_settings() const;

 private:
  // The loop: `mask` (batch, time) or null, `initial` empty for the default states.
  std::vector<Variable> run_loop(const Variable& x, const Tensor* mask,
                                 const std::vector<Variable>& initial, bool training);
  Variable dispatch(const Variable& x, const Tensor* mask, bool training);
  std::vector<Variable> call_with_state_impl(const Variable& x, const Tensor* mask,
                                             const std::vector<Variable>& initial_state,
                                             bool training);
  Tensor dropout_mask(std::size_t rows, std::size_t cols, float rate);

  RecurrentSettings settings_;
  std::vector<Variable> input_masks_;      // empty, one shared, or one per gate
  std::vector<Variable> recurrent_masks_;  // the same for the state
  std::vector<Tensor> kept_states_;        // stateful
  // call_with_state passes its initial states to `call` and gets the states back through these
  // (so that the first call still builds through `operator()`).
  const std::vector<Variable>* pending_initial_ = nullptr;
  std::vector<Variable> last_states_;
};

}  // namespace tapeflow::layers::detail
