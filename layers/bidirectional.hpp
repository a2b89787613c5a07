#pragma once
/// Keras `Bidirectional`: a recurrent layer run forwards and backwards over the sequence, the
/// two outputs merged.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tapeflow/layers/detail/recurrent.hpp"
#include "tapeflow/layers/layer.hpp"
#include "tapeflow/layers/layer_spec.hpp"

namespace tapeflow::layers {

/// The options of `Bidirectional` after the common ones (Keras names and defaults): `layer`
/// (required: a SimpleRNN, LSTM or GRU), `merge_mode` ("concat"; "sum", "mul", "ave", or None
/// for the two outputs apart), `backward_layer` (None: a copy of `layer` going backwards).
#define TAPEFLOW_BIDIRECTIONAL_FIELDS(F)              \
  F(LayerSpec, layer, {})                             \
  F(std::optional<std::string>, merge_mode, "concat") \
  F(LayerSpec, backward_layer, {})

/// Options of `Bidirectional`. Example:
/// `BidirectionalOptions(LSTM(LSTMOptions(8))).merge_mode("sum")`
struct BidirectionalOptions : LayerOptionsBase<BidirectionalOptions> {
  BidirectionalOptions() = default;
  explicit BidirectionalOptions(const LayerSpec& l) { layer(l); }
  TAPEFLOW_DERIVED_FIELDS(BidirectionalOptions, LayerOptionsBase, TAPEFLOW_BIDIRECTIONAL_FIELDS)
};

/// Keras `Bidirectional`, default name "bidirectional". Makes two sublayers from the configs:
/// `forward_<name>` (the wrapped layer's config) and `backward_<name>` (the same with
/// `go_backwards` flipped, or `backward_layer`'s config); with `return_sequences` both output
/// zeros at masked steps (`zero_output_for_mask`, as Keras) and the backward output is put back
/// in time order before merging. Merged by `merge_mode`: "concat" on the last axis, "sum",
/// "mul", "ave"; with None the two outputs come apart (`call_on_list`, `call_with_state`; a
/// single-output call is an Error). `call_with_state` gives `{output(s), forward states...,
/// backward states...}` and takes initial states in the same order; in a functional model,
/// `return_state` adds the states as outputs. Masking as the wrapped layer. Errors: no layer,
/// a layer that is not recurrent, a bad merge_mode, a backward layer that does not go the other
/// way or differs in `return_sequences`, `return_state` or `stateful`.
///
/// Example:
/// ```
/// namespace L = tapeflow::layers;
/// L::Bidirectional bi(L::BidirectionalOptions(L::LSTM(L::LSTMOptions(4).return_sequences(true))));
/// tapeflow::Variable y = bi(x);   // x (2, 5, 3) -> y (2, 5, 8)
/// ```
class Bidirectional : public LayerWith<BidirectionalOptions> {
 public:
  explicit Bidirectional(const BidirectionalOptions& options);
  std::string class_name() const override { return "Bidirectional"; }
  detail::Recurrent& forward_layer() const { return *forward_; }
  detail::Recurrent& backward_layer() const { return *backward_; }

  /// `{output, states...}` (merge_mode None: `{forward output, backward output, states...}`).
  std::vector<Variable> call_with_state(const Variable& x,
                                        const std::vector<Variable>& initial_state = {},
                                        bool training = false);
  std::vector<Variable> call_with_state(const Variable& x, const Tensor& mask,
                                        const std::vector<Variable>& initial_state,
                                        bool training = false);
  void reset_states();

  bool supports_masking() const override { return true; }
  std::optional<Tensor> compute_mask(const Variable& x,
                                     const std::optional<Tensor>& mask) const override;
  std::vector<Variable> call_on_list(const std::vector<Variable>& inputs, bool training) override;

 protected:
  Variable call(const Variable& x, bool training) override;
  Variable call_masked(const Variable& x, const Tensor& mask, bool training) override;
  std::string extra_repr() const override;

 private:
  std::vector<Variable> with_state(const Variable& x, const Tensor* mask,
                                   const std::vector<Variable>& initial, bool training);
  Variable dispatch(const Variable& x, const Tensor* mask, bool training);
  std::vector<Variable> run(const Variable& x, const Tensor* mask,
                            const std::vector<Variable>& initial, bool training);
  std::size_t output_count() const { return options_.merge_mode() ? 1 : 2; }
  std::shared_ptr<detail::Recurrent> forward_, backward_;
  // call_with_state goes through operator() (which builds under this layer's scope): its
  // initial states in, every output back out.
  const std::vector<Variable>* pending_initial_ = nullptr;
  std::vector<Variable> all_outputs_;
};

}  // namespace tapeflow::layers
