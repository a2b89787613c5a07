#pragma once
/// Keras `MultiHeadAttention`: scaled dot-product attention over several heads ("Attention is
/// all you need"), with Keras 3's weights, masks and dropout on the attention probabilities.
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "tapeflow/framework/runtime/random.hpp"
#include "tapeflow/layers/detail/random_layer.hpp"
#include "tapeflow/layers/layer.hpp"

/// The options of `MultiHeadAttention` after the common ones (Keras names and defaults):
/// `num_heads` and `key_dim` (required, positive), `value_dim` (None: `key_dim`; the
/// constructor writes the value it uses, as Keras' config), `dropout` (0, in [0, 1): on the
/// attention probabilities, in training), `output_shape` (None: the query's last axis; one size
/// or several, Keras' int or tuple), `attention_axes` (None: every axis but the batch and the
/// features; negative axes count from the end of the query's shape), then those of every layer
/// with a kernel and a bias (`TAPEFLOW_KERNEL_BIAS_FIELDS`, shared by the four projections),
/// and `seed` (None), the dropout's op seed.
#define TAPEFLOW_MULTI_HEAD_ATTENTION_FIELDS(F)     \
  F(long, num_heads, 0)                             \
  F(long, key_dim, 0)                               \
  F(std::optional<long>, value_dim, std::nullopt)   \
  F(float, dropout, 0.f)                            \
  F(OptionalPerAxis, output_shape, std::nullopt)    \
  F(OptionalAxisList, attention_axes, std::nullopt) \
  TAPEFLOW_KERNEL_BIAS_FIELDS(F)                    \
  F(Seed, seed, std::nullopt)

namespace tapeflow::layers {

/// An `AxisList` or None (Keras' default `None`). Converts from every form `AxisList` does and
/// from `std::nullopt`. Config text: "None", "1", "(1, 2)".
///
/// Example: `MultiHeadAttentionOptions(2, 4).attention_axes({1, 2})`
class OptionalAxisList : public std::optional<AxisList> {
 public:
  using std::optional<AxisList>::optional;
  OptionalAxisList(int a) : std::optional<AxisList>(AxisList(a)) {}  // NOLINT: Keras' int
  OptionalAxisList(std::initializer_list<int> a) : std::optional<AxisList>(AxisList(a)) {}
};

/// Options of `MultiHeadAttention`.
///
/// Example: `MultiHeadAttentionOptions(/*num_heads=*/4, /*key_dim=*/16).dropout(0.1f).seed(3)`
struct MultiHeadAttentionOptions : LayerOptionsBase<MultiHeadAttentionOptions> {
  MultiHeadAttentionOptions() = default;
  MultiHeadAttentionOptions(long heads, long key_size) {
    num_heads(heads);
    key_dim(key_size);
  }
  TAPEFLOW_DERIVED_FIELDS(MultiHeadAttentionOptions, LayerOptionsBase,
                          TAPEFLOW_MULTI_HEAD_ATTENTION_FIELDS)
  static constexpr PrintedFields printed{"num_heads, key_dim, value_dim",
                                         "dropout, output_shape, attention_axes, use_bias"};
};

/// The call arguments of `MultiHeadAttention` beyond the query and the value (Keras' `key`,
/// `query_mask`, `value_mask`, `key_mask`, `attention_mask`, `use_causal_mask`, `training`),
/// meant for designated initializers, in this order:
/// `mha(q, v, {.attention_mask = m, .use_causal_mask = true, .training = true})`.
/// Masks are boolean-like: a nonzero entry lets a query position attend to a key position.
struct MultiHeadAttentionCall {
  /// The key (B, S..., key features); undefined: the value.
  Variable key = {};
  /// The Keras masks of the inputs (what a `Masking` layer's `compute_mask` gives), of the
  /// input's shape without its last axis: query (B, T...), value and key (B, S...). Padding
  /// positions of the value or key are not attended to; a padding query position attends to
  /// nothing (its probabilities are all 0, as every fully masked row).
  std::optional<Tensor> query_mask = std::nullopt;
  std::optional<Tensor> value_mask = std::nullopt;
  std::optional<Tensor> key_mask = std::nullopt;
  /// Which query positions may attend to which key positions: (B, T, S) for sequences (in
  /// general the attention scores' shape without the heads axis); missing leading axes and
  /// axes of size 1 broadcast, as in Keras.
  std::optional<Tensor> attention_mask = std::nullopt;
  /// A lower-triangular mask on top of the others: query position t attends to key positions
  /// s <= t (over the flattened attention axes when there are several).
  bool use_causal_mask = false;
  /// Dropout on the attention probabilities when true (and `dropout > 0`).
  bool training = false;
};

/// What `MultiHeadAttention::call_with_scores` returns (Keras' `return_attention_scores=True`).
struct MultiHeadAttentionResult {
  /// (B, T..., output_shape...).
  Variable output;
  /// The attention probabilities before dropout, (B, heads, T, S) for sequences (Keras' layout
  /// in general: batch, non-attention axes, heads, query attention axes, key attention axes).
  Variable scores;
};

/// Keras `MultiHeadAttention`, default name "multi_head_attention". The query (B, T..., dim),
/// value (B, S..., value features) and key (B, S..., key features; default the value) are
/// projected to `num_heads` heads (`query`, `key`: `key_dim` each, `value`: `value_dim`); each
/// head's scores `(q / sqrt(key_dim)) . k` are masked (a masked score becomes -1e9 before the
/// softmax and its probability 0 after it, as Keras' `Softmax(mask)`), softmaxed over the key
/// positions, dropped out in training, and weight the values; the heads' results go through
/// the output projection. Weights, named as Keras' EinsumDense sublayers and in Keras' order:
/// `query/kernel` (dim, heads, key_dim), `query/bias` (heads, key_dim), `key/kernel`,
/// `key/bias`, `value/kernel` (value features, heads, value_dim), `value/bias`,
/// `attention_output/kernel` (heads, value_dim, output_shape...), `attention_output/bias`
/// (output_shape...); without `use_bias`, only the kernels. The shapes are fixed by the first
/// call; a later one whose ranks or feature sizes differ is a ShapeError.
///
/// Calls: `mha(query, value)`, `mha(query, value, call)` with a `MultiHeadAttentionCall`,
/// `call_with_scores` for the scores too; `mha(x)` is self-attention (`mha(x, x)`), so the
/// layer also fits a `Sequential`; on symbolic tensors and in a `Model`, `mha({query, value})`
/// or `mha({query, value, key})`.
///
/// Errors (naming the layer and the argument): `num_heads`, `key_dim` or `value_dim` not
/// positive, `dropout` outside [0, 1), an empty or non-positive `output_shape`, empty
/// `attention_axes` or one naming the batch axis 0 (ValueError, at construction); a query or
/// value of rank < 3, a value and key whose shapes differ except on the last axis, query and
/// value of different ranks, batch sizes or non-attention axes, an attention axis out of range
/// or repeated, a mask whose shape does not fit (ShapeError, at the call).
///
/// Differences from Keras: the activity regularizer applies to the layer's output (Keras hands
/// it to the four projections); no `use_gate`, `sliding_window` or `flash_attention`; the
/// causal mask of a rank > 3 input is taken over the flattened attention positions.
///
/// Example:
/// ```
/// namespace L = tapeflow::layers;
/// L::MultiHeadAttention mha(L::MultiHeadAttentionOptions(/*num_heads=*/2, /*key_dim=*/4));
/// tapeflow::Variable y = mha(query, value);          // (8, 5, 16), (8, 7, 16) -> (8, 5, 16)
/// auto [out, scores] = mha.call_with_scores(query, value, {.use_causal_mask = true});
/// // scores: (8, 2, 5, 7); weights "multi_head_attention/query/kernel" (16, 2, 4), ...
/// auto q = tapeflow::Input({5, 16}), v = tapeflow::Input({7, 16});
/// tapeflow::Model model({q, v}, mha({q, v}));
/// ```
class MultiHeadAttention : public LayerWith<MultiHeadAttentionOptions, detail::RandomLayer> {
 public:
  explicit MultiHeadAttention(const MultiHeadAttentionOptions& options);
  std::string class_name() const override { return "MultiHeadAttention"; }

  /// The single-input call (self-attention) and the symbolic calls inherited from `Layer`.
  using Layer::operator();
  /// Attention of `query` over `value` (and `call.key`); the activity regularizer, if any,
  /// applies to the output.
  Variable operator()(const Variable& query, const Variable& value,
                      const MultiHeadAttentionCall& call = {});
  /// The same call, with the attention probabilities.
  MultiHeadAttentionResult call_with_scores(const Variable& query, const Variable& value,
                                            const MultiHeadAttentionCall& call = {});
  /// `{query, value}` or `{query, value, key}`, as a model runs it; one input is self-attention.
  std::vector<Variable> call_on_list(const std::vector<Variable>& inputs, bool training) override;

  /// The projection weights (undefined before the first call; the biases also without
  /// `use_bias`).
  const Variable& query_kernel() const { return query_kernel_; }
  const Variable& query_bias() const { return query_bias_; }
  const Variable& key_kernel() const { return key_kernel_; }
  const Variable& key_bias() const { return key_bias_; }
  const Variable& value_kernel() const { return value_kernel_; }
  const Variable& value_bias() const { return value_bias_; }
  const Variable& output_kernel() const { return output_kernel_; }
  const Variable& output_bias() const { return output_bias_; }

 protected:
  /// Creates the weights from the shapes of the pending call (the query's is `input_shape`).
  void build(const Shape& input_shape) override;
  /// Runs the pending call (`x` is its query), or self-attention on `x` outside one.
  Variable call(const Variable& x, bool training) override;

 private:
  struct Pending {
    const Variable* value;
    const MultiHeadAttentionCall* call;
    Variable scores;  // out
  };
  Variable run_call(const Variable& query, const Variable& value, const Variable& key,
                    const MultiHeadAttentionCall& call, bool training, Variable* scores);
  void check_shapes(const Shape& query, const Shape& value, const Shape& key) const;
  // The attention axes of an input of rank `rank`, as input axes in [1, rank - 2].
  std::vector<std::size_t> attention_axes_for(std::size_t rank) const;
  MultiHeadAttentionResult invoke(const Variable& query, const Variable& value,
                                  const MultiHeadAttentionCall& call);

  Pending* pending_ = nullptr;
  Shape value_shape_, key_shape_;
  Variable query_kernel_, query_bias_, key_kernel_, key_bias_, value_kernel_, value_bias_,
      output_kernel_, output_bias_;
};

}  // namespace tapeflow::layers
