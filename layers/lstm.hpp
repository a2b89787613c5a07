#pragma once
/// Keras `LSTM`: long short-term memory, gates input, forget, cell and output (in that order in
/// the weights, as Keras).
#include <string>

#include "tapeflow/framework/ops/activations.hpp"
#include "tapeflow/layers/detail/recurrent.hpp"

/// The options of `LSTM` after the common ones (Keras names and defaults): `units` (required),
/// `activation` ("tanh"), `recurrent_activation` ("sigmoid"), `unit_forget_bias` (true: the
/// forget gate's bias starts at ones, whatever `bias_initializer`), the weight options
/// (`TAPEFLOW_RECURRENT_WEIGHT_FIELDS`), the dropout options and the loop's
/// (`TAPEFLOW_RNN_FIELDS`).
#define TAPEFLOW_LSTM_FIELDS(F)                                    \
  F(long, units, 0)                                                \
  F(activations::NamedActivation, activation, "tanh")              \
  F(activations::NamedActivation, recurrent_activation, "sigmoid") \
  F(bool, unit_forget_bias, true)                                  \
  TAPEFLOW_RECURRENT_WEIGHT_FIELDS(F)                              \
  TAPEFLOW_RECURRENT_DROPOUT_FIELDS(F)                             \
  TAPEFLOW_RNN_FIELDS(F)

namespace tapeflow::layers {

/// Options of `LSTM`. Example: `LSTMOptions(16).return_sequences(true).recurrent_dropout(0.2f)`
struct LSTMOptions : LayerOptionsBase<LSTMOptions> {
  LSTMOptions() = default;
  explicit LSTMOptions(long n) { units(n); }
  TAPEFLOW_DERIVED_FIELDS(LSTMOptions, LayerOptionsBase, TAPEFLOW_LSTM_FIELDS)
  static constexpr PrintedFields printed{
      "units",
      "activation, recurrent_activation, use_bias, dropout, recurrent_dropout, "
      "return_sequences, return_state, go_backwards, stateful"};
};

/// Keras `LSTM`, default name "lstm". Weights `kernel` `(features, 4 * units)`,
/// `recurrent_kernel` `(units, 4 * units)`, `bias` `(4 * units,)`, the columns of each in the
/// gate order i, f, c, o. With `z = x_t . kernel + h . recurrent_kernel + bias` split in four:
/// `i = ra(z_i)`, `f = ra(z_f)`, `c' = f * c + i * a(z_c)`, `o = ra(z_o)`, `h' = o * a(c')`
/// (`a` = activation, `ra` = recurrent_activation). Two states, `h` (the output) and `c`
/// (`call_with_state` gives `{output, h, c}`). The loop, masking, dropout and `stateful` are
/// those of `detail::Recurrent`. Errors: as `SimpleRNN`.
///
/// Example:
/// ```
/// tapeflow::layers::LSTM lstm(tapeflow::layers::LSTMOptions(8).return_sequences(true));
/// tapeflow::Variable y = lstm(x);   // x (2, 5, 3) -> y (2, 5, 8)
/// ```
class LSTM : public LayerWith<LSTMOptions, detail::Recurrent> {
 public:
  explicit LSTM(const LSTMOptions& options);
  std::string class_name() const override { return "LSTM"; }
  std::size_t state_count() const override { return 2; }
  /// The weights (undefined before the first call; `bias` also without `use_bias`).
  const Variable& kernel() const { return kernel_; }
  const Variable& recurrent_kernel() const { return recurrent_kernel_; }
  const Variable& bias() const { return bias_; }

 protected:
  std::size_t gate_count() const override { return 4; }
  void build(const Shape& input_shape) override;
  void begin_sequence(const Variable& x) override;
  std::vector<Variable> step(std::size_t t, const std::vector<Variable>& states) override;
  void end_sequence() override { inputs_.clear(); }

 private:
  Variable kernel_, recurrent_kernel_, bias_;
  std::vector<Variable> inputs_;  // per step, during a call
};

}  // namespace tapeflow::layers
