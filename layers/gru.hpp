#pragma once
/// Keras `GRU`: gated recurrent unit, gates update (z), reset (r) and candidate (h) in that order
/// in the weights, as Keras; `reset_after` chooses Keras 3's default (the reset gate applied
/// after the recurrent product, cuDNN's form) or the original form.
#include <string>

#include "tapeflow/framework/ops/activations.hpp"
#include "tapeflow/layers/detail/recurrent.hpp"

/// The options of `GRU` after the common ones (Keras names and defaults): `units` (required),
/// `activation` ("tanh"), `recurrent_activation` ("sigmoid"), the weight options
/// (`TAPEFLOW_RECURRENT_WEIGHT_FIELDS`), the dropout options, `reset_after` (true), and the
/// loop's (`TAPEFLOW_RNN_FIELDS`).
#define TAPEFLOW_GRU_FIELDS(F)                                     \
  F(long, units, 0)                                                \
  F(activations::NamedActivation, activation, "tanh")              \
  F(activations::NamedActivation, recurrent_activation, "sigmoid") \
  TAPEFLOW_RECURRENT_WEIGHT_FIELDS(F)                              \
  TAPEFLOW_RECURRENT_DROPOUT_FIELDS(F)                             \
  F(bool, reset_after, true)                                       \
  TAPEFLOW_RNN_FIELDS(F)

namespace tapeflow::layers {

/// Options of `GRU`. Example: `GRUOptions(16).reset_after(false).return_state(true)`
struct GRUOptions : LayerOptionsBase<GRUOptions> {
  GRUOptions() = default;
  explicit GRUOptions(long n) { units(n); }
  TAPEFLOW_DERIVED_FIELDS(GRUOptions, LayerOptionsBase, TAPEFLOW_GRU_FIELDS)
  static constexpr PrintedFields printed{
      "units",
      "activation, recurrent_activation, use_bias, dropout, recurrent_dropout, "
      "reset_after, return_sequences, return_state, go_backwards, stateful"};
};

/// Keras `GRU`, default name "gru". Weights `kernel` `(features, 3 * units)`,
/// `recurrent_kernel` `(units, 3 * units)` (columns in the gate order z, r, h) and `bias`:
/// `(2, 3 * units)` with `reset_after` (row 0 for the inputs, row 1 for the recurrent
/// product), `(3 * units,)` without. With `x_g = x_t . kernel_g + b_g` and `h` the state:
/// `z = ra(x_z + h . R_z [+ rb_z])`, `r = ra(x_r + h . R_r [+ rb_r])`, candidate
/// `hh = a(x_h + r * (h . R_h + rb_h))` (reset_after) or `a(x_h + (r * h) . R_h)`, and
/// `h' = z * h + (1 - z) * hh`. One state `h`, the output. The loop, masking, dropout and
/// `stateful` are those of `detail::Recurrent`. Errors: as `SimpleRNN`.
///
/// Example:
/// ```
/// tapeflow::layers::GRU gru(tapeflow::layers::GRUOptions(8));
/// tapeflow::Variable y = gru(x);   // x (2, 5, 3) -> y (2, 8)
/// ```
class GRU : public LayerWith<GRUOptions, detail::Recurrent> {
 public:
  explicit GRU(const GRUOptions& options);
  std::string class_name() const override { return "GRU"; }
  /// The weights (undefined before the first call; `bias` also without `use_bias`).
  const Variable& kernel() const { return kernel_; }
  const Variable& recurrent_kernel() const { return recurrent_kernel_; }
  const Variable& bias() const { return bias_; }

 protected:
  std::size_t gate_count() const override { return 3; }
  void build(const Shape& input_shape) override;
  void begin_sequence(const Variable& x) override;
  std::vector<Variable> step(std::size_t t, const std::vector<Variable>& states) override;
  void end_sequence() override;

 private:
  Variable kernel_, recurrent_kernel_, bias_;
  // During a call: the input projections per step, the recurrent bias (reset_after), and
  // without reset_after the recurrent kernel's z, r columns and its h columns.
  std::vector<Variable> inputs_;
  Variable recurrent_bias_, recurrent_zr_, recurrent_h_;
};

}  // namespace tapeflow::layers
