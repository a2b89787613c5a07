#include "tapeflow/layers/multi_head_attention.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <xtensor/xmanipulation.hpp>

#include "tapeflow/framework/ops/activations.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

namespace {

// What Keras' Softmax puts in place of a masked score (float32) before normalizing.
constexpr float kMhaMaskedScore = -1e9f;

long mha_product(const Shape& s, std::size_t from, std::size_t to) {
  long n = 1;
  for (std::size_t i = from; i < to; ++i) n *= static_cast<long>(s[i]);
  return n;
}

// Keras' EinsumDense "...d,dxy->...xy" (plus bias "xy"): one GEMM over all leading positions.
// `bound` is the number of trailing input axes contracted with the kernel's leading ones.
Variable mha_project(const Variable& x, const Variable& kernel, const Variable& bias,
                     std::size_t bound) {
  const Shape xs = x.shape();
  const Shape ks = kernel.shape();
  const std::size_t free = xs.size() - bound;
  const long in = mha_product(xs, free, xs.size());
  const long out = mha_product(ks, bound, ks.size());
  // The row count is spelled out (not -1) so that an input with a zero-sized axis reshapes.
  Variable y = matmul(reshape(x, {mha_product(xs, 0, free), in}), reshape(kernel, {in, out}));
  std::vector<long> shape(xs.begin(), xs.begin() + static_cast<long>(free));
  shape.insert(shape.end(), ks.begin() + static_cast<long>(bound), ks.end());
  y = reshape(y, shape);
  return bias.defined() ? add(y, bias) : y;
}

// A 0/1 tensor from a boolean-like mask (nonzero = attend, Keras' cast to bool).
Tensor mha_bool(const Tensor& m) { return Tensor(xt::cast<float>(xt::not_equal(m, 0.f))); }

}  // namespace

MultiHeadAttention::MultiHeadAttention(const MultiHeadAttentionOptions& options)
    : LayerWith(std::in_place, options, "multi_head_attention", options.common(), options.seed()) {
  if (options_.num_heads() <= 0)
    fail(name(),
         "num_heads must be a positive integer, got " + std::to_string(options_.num_heads()));
  if (options_.key_dim() <= 0)
    fail(name(), "key_dim must be a positive integer, got " + std::to_string(options_.key_dim()));
  if (options_.value_dim() && *options_.value_dim() <= 0)
    fail(name(), "value_dim must be a positive integer or None, got " +
                     std::to_string(*options_.value_dim()));
  // Keras' config holds the value dimension it uses.
  if (!options_.value_dim()) options_.value_dim(options_.key_dim());
  const float rate = options_.dropout();
  if (!(rate >= 0.f && rate < 1.f))
    fail(name(), "dropout must be in [0, 1), got " + config_float(rate));
  if (options_.output_shape()) {
    if (options_.output_shape()->empty()) fail(name(), "output_shape must not be empty");
    for (long d : *options_.output_shape())
      if (d <= 0)
        fail(name(), "output_shape must hold positive sizes, got " +
                         tapeflow::config_write(*options_.output_shape()));
  }
  if (options_.attention_axes()) {
    const AxisList& axes = *options_.attention_axes();
    if (axes.empty()) fail(name(), "attention_axes must not be empty (None: the default)");
    for (int a : axes)
      if (a == 0) fail(name(), "attention_axes " + config_write(axes) + " holds the batch axis 0");
  }
  if (!options_.kernel_initializer().defined()) fail(name(), "kernel_initializer is undefined");
  if (options_.use_bias() && !options_.bias_initializer().defined())
    fail(name(), "bias_initializer is undefined");
  set_input_spec(InputSpec{.min_ndim = 3});
}

std::vector<std::size_t> MultiHeadAttention::attention_axes_for(std::size_t rank) const {
  std::vector<std::size_t> axes;
  if (!options_.attention_axes()) {
    for (std::size_t a = 1; a + 1 < rank; ++a) axes.push_back(a);
    return axes;
  }
  const AxisList& given = *options_.attention_axes();
  for (int a : given) {
    // Keras counts a negative axis from the end of the input's shape.
    const long n = a < 0 ? static_cast<long>(rank) + a : a;
    if (n < 1 || n > static_cast<long>(rank) - 2)
      fail_shape(name(), "attention_axes " + config_write(given) + ": axis " + std::to_string(a) +
                             " is not a sequence axis of an input of rank " + std::to_string(rank) +
                             " (use axes 1 to " + std::to_string(rank - 2) + ")");
    const auto u = static_cast<std::size_t>(n);
    if (std::find(axes.begin(), axes.end(), u) != axes.end())
      fail_shape(name(), "attention_axes " + config_write(given) + " names axis " +
                             std::to_string(u) + " twice");
    axes.push_back(u);
  }
  return axes;
}

void MultiHeadAttention::check_shapes(const Shape& q, const Shape& v, const Shape& k) const {
  const std::string shapes =
      "query " + shape_str(q) + ", value " + shape_str(v) + ", key " + shape_str(k);
  if (q.size() < 3 || v.size() < 3)
    fail_shape(name(), "query and value must have rank >= 3 (batch, positions..., features), got " +
                           shapes);
  if (v.size() != k.size() || !std::equal(v.begin(), v.end() - 1, k.begin()))
    fail_shape(name(),
               "value and key must have the same shape except on the last axis, got " + shapes);
  if (q.size() != v.size())
    fail_shape(name(), "query and value must have the same rank, got " + shapes);
  if (q[0] != v[0]) fail_shape(name(), "query and value have different batch sizes: " + shapes);
  const std::vector<std::size_t> axes = attention_axes_for(q.size());
  for (std::size_t a = 1; a + 1 < q.size(); ++a)
    if (std::find(axes.begin(), axes.end(), a) == axes.end() && q[a] != v[a])
      fail_shape(name(), "query and value differ on axis " + std::to_string(a) +
                             ", which is not an attention axis: " + shapes);
  if (built()) {
    const Shape& bq = input_shape();
    auto mismatch = [&](const char* what, const Shape& now, const Shape& then) {
      if (now.size() != then.size() || now.back() != then.back())
        fail_shape(name(), std::string(what) + " has shape " + shape_str(now) +
                               " but the layer was built for " + shape_str(then) +
                               " (the rank and the last axis must match)");
    };
    mismatch("query", q, bq);
    mismatch("value", v, value_shape_);
    mismatch("key", k, key_shape_);
  }
}

void MultiHeadAttention::build(const Shape& query_shape) {
  const Shape value_shape = pending_ ? pending_->value->shape() : query_shape;
  const Shape key_shape =
      pending_ && pending_->call->key.defined() ? pending_->call->key.shape() : value_shape;
  check_shapes(query_shape, value_shape, key_shape);
  const auto heads = static_cast<std::size_t>(options_.num_heads());
  const auto kd = static_cast<std::size_t>(options_.key_dim());
  const auto vd = static_cast<std::size_t>(*options_.value_dim());
  Shape out;
  if (options_.output_shape())
    for (long d : *options_.output_shape()) out.push_back(static_cast<std::size_t>(d));
  else
    out.push_back(query_shape.back());
  const auto& o = options_;
  auto kernel = [&](const std::string& n, const Shape& s) {
    return add_weight(n + "/kernel", s, o.kernel_initializer(), o.kernel_regularizer(),
                      o.kernel_constraint());
  };
  auto bias = [&](const std::string& n, const Shape& s) {
    return o.use_bias() ? add_weight(n + "/bias", s, o.bias_initializer(), o.bias_regularizer(),
                                     o.bias_constraint())
                        : Variable();
  };
  // Keras' order: query, key, value, attention_output; each kernel, then its bias.
  query_kernel_ = kernel("query", {query_shape.back(), heads, kd});
  query_bias_ = bias("query", {heads, kd});
  key_kernel_ = kernel("key", {key_shape.back(), heads, kd});
  key_bias_ = bias("key", {heads, kd});
  value_kernel_ = kernel("value", {value_shape.back(), heads, vd});
  value_bias_ = bias("value", {heads, vd});
  Shape ok{heads, vd};
  ok.insert(ok.end(), out.begin(), out.end());
  output_kernel_ = kernel("attention_output", ok);
  output_bias_ = bias("attention_output", out);
  value_shape_ = value_shape;
  key_shape_ = key_shape;
}

MultiHeadAttentionResult MultiHeadAttention::invoke(const Variable& query, const Variable& value,
                                                    const MultiHeadAttentionCall& call) {
  if (!query.defined()) fail(name(), "the query is undefined");
  if (!value.defined()) fail(name(), "the value is undefined");
  check_shapes(query.shape(), value.shape(), call.key.defined() ? call.key.shape() : value.shape());
  // Layer::operator() takes one input; it builds, runs `call` and applies the activity
  // regularizer. The rest of the call reaches `call` through pending_.
  Pending pending{&value, &call, Variable()};
  struct Reset {
    Pending*& p;
    ~Reset() { p = nullptr; }
  } reset{pending_};
  pending_ = &pending;
  Variable y = Layer::operator()(query, call.training);
  return {y, pending.scores};
}

Variable MultiHeadAttention::operator()(const Variable& query, const Variable& value,
                                        const MultiHeadAttentionCall& call) {
  return invoke(query, value, call).output;
}

MultiHeadAttentionResult MultiHeadAttention::call_with_scores(const Variable& query,
                                                              const Variable& value,
                                                              const MultiHeadAttentionCall& call) {
  return invoke(query, value, call);
}

std::vector<Variable> MultiHeadAttention::call_on_list(const std::vector<Variable>& inputs,
                                                       bool training) {
  if (inputs.empty() || inputs.size() > 3)
    fail(name(),
         "a MultiHeadAttention layer takes {query}, {query, value} or {query, value, "
         "key}, got " +
             std::to_string(inputs.size()) + " inputs");
  if (inputs.size() == 1) return {Layer::operator()(inputs[0], training)};
  MultiHeadAttentionCall call;
  call.training = training;
  if (inputs.size() == 3) {
    if (!inputs[2].defined()) fail(name(), "the key is undefined");
    call.key = inputs[2];
  }
  return {(*this)(inputs[0], inputs[1], call)};
}

Variable MultiHeadAttention::call(const Variable& x, bool training) {
  if (!pending_) {
    check_shapes(x.shape(), x.shape(), x.shape());
    MultiHeadAttentionCall self;
    return run_call(x, x, x, self, training, nullptr);
  }
  const MultiHeadAttentionCall& c = *pending_->call;
  const Variable& value = *pending_->value;
  return run_call(x, value, c.key.defined() ? c.key : value, c, training, &pending_->scores);
}

Variable MultiHeadAttention::run_call(const Variable& query, const Variable& value,
                                      const Variable& key, const MultiHeadAttentionCall& c,
                                      bool training, Variable* scores_out) {
  const Shape qs = query.shape(), vs = value.shape();
  const std::size_t rank = qs.size();  // of the inputs; the projections have rank + 1
  const std::size_t m = rank - 2;      // the position axes 1..m
  const std::vector<std::size_t> attn = attention_axes_for(rank);
  std::vector<std::size_t> other;  // the position axes that join the batch
  for (std::size_t a = 1; a <= m; ++a)
    if (std::find(attn.begin(), attn.end(), a) == attn.end()) other.push_back(a);
  const auto heads = static_cast<long>(options_.num_heads());
  long batch = static_cast<long>(qs[0]), tq = 1, sk = 1;
  for (std::size_t a : other) batch *= static_cast<long>(qs[a]);
  for (std::size_t a : attn) {
    tq *= static_cast<long>(qs[a]);
    sk *= static_cast<long>(vs[a]);
  }

  // Input axes in the attention layout: batch, the other position axes, the attention axes.
  std::vector<std::size_t> in_perm{0};
  in_perm.insert(in_perm.end(), other.begin(), other.end());
  in_perm.insert(in_perm.end(), attn.begin(), attn.end());
  // The projections' axes in that layout, the heads before the attention axes, the features
  // last: (batch, other..., heads, attention..., features).
  std::vector<std::size_t> proj_perm{0};
  proj_perm.insert(proj_perm.end(), other.begin(), other.end());
  proj_perm.push_back(m + 1);
  proj_perm.insert(proj_perm.end(), attn.begin(), attn.end());
  proj_perm.push_back(m + 2);
  auto to_heads = [&](const Variable& p, long positions) {
    const long features = static_cast<long>(p.shape().back());
    return reshape(transpose(p, proj_perm), {batch, heads, positions, features});
  };
  Variable q = to_heads(mha_project(query, query_kernel_, query_bias_, 1), tq);
  Variable k = to_heads(mha_project(key, key_kernel_, key_bias_, 1), sk);
  Variable v = to_heads(mha_project(value, value_kernel_, value_bias_, 1), sk);

  // The combined mask, (batch', tq, sk) in the attention layout, 1 = attend.
  std::optional<Tensor> mask;
  auto combine = [&](Tensor t) {
    if (mask)
      *mask = Tensor(*mask * t);
    else
      mask = std::move(t);
  };
  // A Keras input mask (the input's shape without its last axis) in the attention layout,
  // (batch', positions).
  auto input_mask = [&](const Tensor& t, const char* what, const Shape& input, long positions) {
    const Shape ts(t.shape().begin(), t.shape().end());
    const Shape want(input.begin(), input.end() - 1);
    if (ts != want)
      fail_shape(name(), std::string(what) + " must have the shape " + shape_str(want) +
                             " (the input's without its last axis), got " + shape_str(ts));
    Tensor p = xt::transpose(mha_bool(t), in_perm);
    p.reshape({static_cast<std::size_t>(batch), static_cast<std::size_t>(positions)});
    return p;
  };
  const auto ub = static_cast<std::size_t>(batch);
  const auto utq = static_cast<std::size_t>(tq);
  const auto usk = static_cast<std::size_t>(sk);
  if (c.query_mask) {
    Tensor p = input_mask(*c.query_mask, "query_mask", qs, tq);
    p.reshape({ub, utq, 1});
    combine(Tensor(xt::broadcast(p, std::vector<std::size_t>{ub, utq, usk})));
  }
  auto source_mask = [&](const std::optional<Tensor>& t, const char* what, const Shape& input) {
    if (!t) return;
    Tensor p = input_mask(*t, what, input, sk);
    p.reshape({ub, 1, usk});
    combine(Tensor(xt::broadcast(p, std::vector<std::size_t>{ub, utq, usk})));
  };
  source_mask(c.value_mask, "value_mask", vs);
  // Keras ignores the key's mask when there is no separate key.
  if (c.key.defined()) source_mask(c.key_mask, "key_mask", key.shape());
  if (c.use_causal_mask) {
    Tensor t = xt::zeros<float>({ub, utq, usk});
    for (std::size_t b = 0; b < ub; ++b)
      for (std::size_t i = 0; i < utq; ++i)
        for (std::size_t j = 0; j <= i && j < usk; ++j) t(b, i, j) = 1.f;
    combine(std::move(t));
  }
  if (c.attention_mask) {
    // The scores' shape without the heads: (batch, other..., query attention axes..., key
    // attention axes...), into which the mask broadcasts (missing leading axes, sizes 1).
    Shape full{qs[0]};
    for (std::size_t a : other) full.push_back(qs[a]);
    for (std::size_t a : attn) full.push_back(qs[a]);
    for (std::size_t a : attn) full.push_back(vs[a]);
    const Shape ms(c.attention_mask->shape().begin(), c.attention_mask->shape().end());
    bool fits = ms.size() <= full.size();
    for (std::size_t i = 0; fits && i < ms.size(); ++i) {
      const std::size_t d = ms[ms.size() - 1 - i], f = full[full.size() - 1 - i];
      fits = d == 1 || d == f;
    }
    if (!fits)
      fail_shape(name(), "attention_mask of shape " + shape_str(ms) +
                             " does not broadcast to the attention shape " + shape_str(full) +
                             " (batch, query positions, key positions)");
    Tensor t = xt::broadcast(mha_bool(*c.attention_mask), full);
    t.reshape({ub, utq, usk});
    combine(std::move(t));
  }

  Variable scores = matmul(mul(q, scalar(1.f / std::sqrt(static_cast<float>(options_.key_dim())))),
                           k, false, true);  // (batch', heads, tq, sk)
  Variable probs;
  if (mask) {
    mask->reshape({ub, 1, utq, usk});
    const Variable keep(std::move(*mask));
    // Keras' Softmax(mask): masked scores are replaced before the softmax and their
    // probabilities zeroed after it, so that a fully masked row gives zeros, not a uniform row.
    probs = where(keep, activations::softmax(where(keep, scores, scalar(kMhaMaskedScore)), -1),
                  scalar(0.f));
  } else {
    probs = activations::softmax(scores, -1);
  }
  Variable dropped = probs;
  const float rate = options_.dropout();
  if (training && rate > 0.f) {
    // As Dropout: an element is kept when its uniform draw is >= rate, scaled by 1 / (1 - rate).
    RandomGenerator& rng = stream();
    const float scale = 1.f / (1.f - rate);
    Tensor keep = Tensor::from_shape(probs.shape());
    for (auto& e : keep) e = rng.uniform01() >= rate ? scale : 0.f;
    dropped = mul(probs, Variable(std::move(keep)));
  }
  Variable o = matmul(dropped, v);  // (batch', heads, tq, value_dim)

  // Back to the query's layout, (batch, positions..., heads, value_dim), then projected.
  std::vector<long> split{static_cast<long>(qs[0])};
  for (std::size_t a : other) split.push_back(static_cast<long>(qs[a]));
  split.push_back(heads);
  for (std::size_t a : attn) split.push_back(static_cast<long>(qs[a]));
  split.push_back(options_.value_dim().value());
  std::vector<std::size_t> inverse(proj_perm.size());
  for (std::size_t i = 0; i < proj_perm.size(); ++i) inverse[proj_perm[i]] = i;
  o = transpose(reshape(o, split), inverse);
  Variable y = mha_project(o, output_kernel_, output_bias_, 2);

  if (scores_out) {
    std::vector<long> layout(split.begin(), split.end() - 1);
    for (std::size_t a : attn) layout.push_back(static_cast<long>(vs[a]));
    *scores_out = reshape(probs, layout);
  }
  return y;
}

TAPEFLOW_REGISTER_LAYER(MultiHeadAttention)

}  // namespace tapeflow::layers
