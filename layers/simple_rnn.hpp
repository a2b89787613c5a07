#pragma once
/// Keras `SimpleRNN`: a fully connected recurrent layer, `h_t = activation(x_t . kernel +
/// h_{t-1} . recurrent_kernel + bias)`.
#include <string>

#include "tapeflow/framework/ops/activations.hpp"
#include "tapeflow/layers/detail/recurrent.hpp"

/// The options of `SimpleRNN` after the common ones (Keras names and defaults): `units`
/// (required), `activation` ("tanh"), the weight options (`TAPEFLOW_RECURRENT_WEIGHT_FIELDS`),
/// the dropout options (`TAPEFLOW_RECURRENT_DROPOUT_FIELDS`) and the loop's
/// (`TAPEFLOW_RNN_FIELDS`: `return_sequences`, `return_state`, `go_backwards`, `stateful`,
/// `unroll`, `zero_output_for_mask`).
#define TAPEFLOW_SIMPLE_RNN_FIELDS(F)                 \
  F(long, units, 0)                                   \
  F(activations::NamedActivation, activation, "tanh") \
  TAPEFLOW_RECURRENT_WEIGHT_FIELDS(F)                 \
  TAPEFLOW_RECURRENT_DROPOUT_FIELDS(F)                \
  TAPEFLOW_RNN_FIELDS(F)

namespace tapeflow::layers {

/// Options of `SimpleRNN`. Example: `SimpleRNNOptions(8).return_sequences(true).dropout(0.1f)`
struct SimpleRNNOptions : LayerOptionsBase<SimpleRNNOptions> {
  SimpleRNNOptions() = default;
  explicit SimpleRNNOptions(long n) { units(n); }
  TAPEFLOW_DERIVED_FIELDS(SimpleRNNOptions, LayerOptionsBase, TAPEFLOW_SIMPLE_RNN_FIELDS)
  static constexpr PrintedFields printed{
      "units",
      "activation, use_bias, dropout, recurrent_dropout, return_sequences, return_state, "
      "go_backwards, stateful"};
};

/// Keras `SimpleRNN`, default name "simple_rnn". Weights `kernel` `(features, units)`,
/// `recurrent_kernel` `(units, units)`, `bias` `(units,)`; one state `h`, which is also the
/// output. The time loop, masking, dropout, states and `stateful` are those of
/// `detail::Recurrent`. Errors: `units <= 0`, `dropout` or `recurrent_dropout` outside [0, 1),
/// an input of rank other than 3 or with another feature count than the built one.
///
/// Example:
/// ```
/// tapeflow::layers::SimpleRNN rnn(tapeflow::layers::SimpleRNNOptions(4));
/// tapeflow::Variable y = rnn(x);   // x (2, 5, 3) -> y (2, 4), the last step's output
/// ```
class SimpleRNN : public LayerWith<SimpleRNNOptions, detail::Recurrent> {
 public:
  explicit SimpleRNN(const SimpleRNNOptions& options);
  std::string class_name() const override { return "SimpleRNN"; }
  /// The weights (undefined before the first call; `bias` also without `use_bias`).
  const Variable& kernel() const { return kernel_; }
  const Variable& recurrent_kernel() const { return recurrent_kernel_; }
  const Variable& bias() const { return bias_; }

 protected:
  void build(const Shape& input_shape) override;
  void begin_sequence(const Variable& x) override;
  std::vector<Variable> step(std::size_t t, const std::vector<Variable>& states) override;
  void end_sequence() override { inputs_.clear(); }

 private:
  Variable kernel_, recurrent_kernel_, bias_;
  std::vector<Variable> inputs_;  // per step, during a call
};

}  // namespace tapeflow::layers
