#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>
#include <xtensor/xview.hpp>

#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/framework/runtime/random.hpp"
#include "tapeflow/layers/input_layer.hpp"
#include "tapeflow/layers/keras_json.hpp"
#include "tapeflow/layers/model.hpp"
#include "tapeflow/layers/multi_head_attention.hpp"
#include "tapeflow/layers/registry.hpp"
#include "tapeflow/layers/saving.hpp"
#include "tapeflow/layers/sequential.hpp"
#include "tapeflow/layers/symbolic_tensor.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::layers;
using tapeflow::test::bit_identical;
using tapeflow::test::random_tensor;
using tapeflow::test::V;

namespace {

// The reference, written from the definition (Vaswani et al.; Keras 3's MultiHeadAttention)
// with plain loops, independently of the layer: per head, project, scale the dot products by
// 1/sqrt(key_dim), softmax over the allowed key positions (a row with none gives zeros),
// multiply by `drop` (the dropout multipliers), weight the values, project out.
// Inputs (B, T, D), (B, S, Dv), (B, S, Dk); `allow` (B, T, S) 0/1, 0-d (the default): all
// allowed; `drop` (B, N, T, S), 0-d: none.
struct MhaReference {
  Tensor output;  // (B, T, O)
  Tensor scores;  // (B, N, T, S), before dropout
};

MhaReference mha_reference(const Tensor& q, const Tensor& v, const Tensor& k,
                           const std::vector<Tensor>& w, const Tensor& allow = {},
                           const Tensor& drop = {}) {
  const Tensor &wq = w[0], &bq = w[1], &wk = w[2], &bk = w[3], &wv = w[4], &bv = w[5], &wo = w[6],
               &bo = w[7];
  const std::size_t B = q.shape()[0], T = q.shape()[1], D = q.shape()[2];
  const std::size_t S = v.shape()[1], Dv = v.shape()[2], Dk = k.shape()[2];
  const std::size_t N = wq.shape()[1], H = wq.shape()[2], Hv = wv.shape()[2];
  const std::size_t O = wo.shape()[2];
  auto project = [](const Tensor& x, const Tensor& kernel, const Tensor& bias, std::size_t b,
                    std::size_t t, std::size_t n, std::size_t h, std::size_t features) {
    double acc = bias(n, h);
    for (std::size_t d = 0; d < features; ++d) acc += double(x(b, t, d)) * kernel(d, n, h);
    return acc;
  };
  MhaReference r;
  r.output = xt::zeros<float>({B, T, O});
  r.scores = xt::zeros<float>({B, N, T, S});
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t n = 0; n < N; ++n) {
      for (std::size_t t = 0; t < T; ++t) {
        std::vector<double> logits(S);
        double top = -1e300;
        bool any = false;
        for (std::size_t s = 0; s < S; ++s) {
          double dot = 0;
          for (std::size_t h = 0; h < H; ++h)
            dot += project(q, wq, bq, b, t, n, h, D) * project(k, wk, bk, b, s, n, h, Dk);
          logits[s] = dot / std::sqrt(double(H));
          const bool ok = allow.dimension() == 0 || allow(b, t, s) != 0.f;
          if (ok) {
            top = std::max(top, logits[s]);
            any = true;
          }
        }
        double total = 0;
        for (std::size_t s = 0; s < S; ++s)
          if (allow.dimension() == 0 || allow(b, t, s) != 0.f) total += std::exp(logits[s] - top);
        for (std::size_t s = 0; s < S; ++s) {
          const bool ok = allow.dimension() == 0 || allow(b, t, s) != 0.f;
          r.scores(b, n, t, s) = any && ok ? float(std::exp(logits[s] - top) / total) : 0.f;
        }
        for (std::size_t hv = 0; hv < Hv; ++hv) {
          double ctx = 0;
          for (std::size_t s = 0; s < S; ++s) {
            const double p =
                double(r.scores(b, n, t, s)) * (drop.dimension() ? drop(b, n, t, s) : 1.f);
            ctx += p * project(v, wv, bv, b, s, n, hv, Dv);
          }
          for (std::size_t o = 0; o < O; ++o) r.output(b, t, o) += float(ctx * wo(n, hv, o));
        }
      }
    }
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t t = 0; t < T; ++t)
      for (std::size_t o = 0; o < O; ++o) r.output(b, t, o) += bo(o);
  return r;
}

// Random weights of the shapes a layer has (biases nonzero too), set on it.
std::vector<Tensor> randomize(Layer& layer, unsigned seed) {
  std::vector<Tensor> w;
  for (const Variable& v : layer.variables()) w.push_back(random_tensor(v.shape(), seed++));
  layer.set_weights(w);
  return w;
}

// What the masks allow, from the definitions: (B, T, S).
Tensor allowed(std::size_t B, std::size_t T, std::size_t S, const Tensor* attention,
               const Tensor* query_mask, const Tensor* value_mask, bool causal) {
  Tensor a = xt::ones<float>({B, T, S});
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t t = 0; t < T; ++t)
      for (std::size_t s = 0; s < S; ++s) {
        bool ok = true;
        if (attention) ok = ok && (*attention)(b, t, s) != 0.f;
        if (query_mask) ok = ok && (*query_mask)(b, t) != 0.f;
        if (value_mask) ok = ok && (*value_mask)(b, s) != 0.f;
        if (causal) ok = ok && s <= t;
        a(b, t, s) = ok ? 1.f : 0.f;
      }
  return a;
}

std::string mha_temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("tapeflow_mha_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

}  // namespace

TEST_CASE("MultiHeadAttention: output shape, weight shapes, names and order") {
  reset_default_graph();
  MultiHeadAttention mha(MultiHeadAttentionOptions(2, 3));
  CHECK(mha.name() == "multi_head_attention");
  CHECK(mha.options().value_dim() == 3L);  // None: key_dim, as Keras' config
  Variable y = mha(V(random_tensor({2, 4, 5})), V(random_tensor({2, 6, 7}, 2)),
                   {.key = V(random_tensor({2, 6, 8}, 3))});
  CHECK(y.shape() == Shape{2, 4, 5});
  const std::vector<Variable> w = mha.variables();
  REQUIRE(w.size() == 8);
  const std::vector<std::pair<std::string, Shape>> want{
      {"multi_head_attention/query/kernel", {5, 2, 3}},
      {"multi_head_attention/query/bias", {2, 3}},
      {"multi_head_attention/key/kernel", {8, 2, 3}},
      {"multi_head_attention/key/bias", {2, 3}},
      {"multi_head_attention/value/kernel", {7, 2, 3}},
      {"multi_head_attention/value/bias", {2, 3}},
      {"multi_head_attention/attention_output/kernel", {2, 3, 5}},
      {"multi_head_attention/attention_output/bias", {5}}};
  for (std::size_t i = 0; i < w.size(); ++i) {
    CAPTURE(i);
    CHECK(w[i].name() == want[i].first);
    CHECK(w[i].shape() == want[i].second);
  }
  CHECK(mha.query_kernel().is_same(w[0]));
  CHECK(mha.output_bias().is_same(w[7]));
  CHECK(mha.count_params() == 30 + 6 + 48 + 6 + 42 + 6 + 30 + 5);
  CHECK(mha.trainable_variables().size() == 8);
  CHECK(mha.input_shape() == Shape{2, 4, 5});

  // value_dim, output_shape (several sizes), no bias
  MultiHeadAttention m2(
      MultiHeadAttentionOptions(3, 2).value_dim(4L).output_shape({2, 3}).use_bias(false));
  CHECK(m2.name() == "multi_head_attention_1");
  Variable y2 = m2(V(random_tensor({1, 2, 5})), V(random_tensor({1, 3, 5}, 2)));
  CHECK(y2.shape() == Shape{1, 2, 2, 3});
  REQUIRE(m2.variables().size() == 4);
  CHECK(m2.value_kernel().shape() == Shape{5, 3, 4});
  CHECK(m2.output_kernel().shape() == Shape{3, 4, 2, 3});
  CHECK_FALSE(m2.query_bias().defined());
  // One output size, Keras' int
  MultiHeadAttention m3(MultiHeadAttentionOptions(1, 2).output_shape(6));
  CHECK(m3(V(random_tensor({1, 2, 3})), V(random_tensor({1, 2, 3}))).shape() == Shape{1, 2, 6});
}

TEST_CASE("MultiHeadAttention: values against the reference, cross-attention with a key") {
  reset_default_graph();
  MultiHeadAttention mha(MultiHeadAttentionOptions(2, 3).value_dim(2L));
  const Tensor q = random_tensor({2, 3, 4}, 1), v = random_tensor({2, 5, 3}, 2),
               k = random_tensor({2, 5, 6}, 3);
  mha(V(q), V(v), {.key = V(k)});
  const auto w = randomize(mha, 10);
  const MhaReference ref = mha_reference(q, v, k, w);
  auto [out, scores] = mha.call_with_scores(V(q), V(v), {.key = V(k)});
  TF_CHECK_CLOSE(out.value(), ref.output);
  CHECK(scores.shape() == Shape{2, 2, 3, 5});
  TF_CHECK_CLOSE(scores.value(), ref.scores);
  TF_CHECK_CLOSE(xt::sum(scores.value(), {3}), xt::ones<float>({2, 2, 3}));
  // The plain call gives the same output; without a key the value is the key.
  TF_CHECK_CLOSE(mha(V(q), V(v), {.key = V(k)}).value(), ref.output);

  MultiHeadAttention self(MultiHeadAttentionOptions(2, 2));
  const Tensor x = random_tensor({2, 4, 3}, 4);
  self(V(x));
  const auto ws = randomize(self, 20);
  const Tensor want = mha_reference(x, x, x, ws).output;
  TF_CHECK_CLOSE(self(V(x)).value(), want);        // self-attention
  TF_CHECK_CLOSE(self(V(x), V(x)).value(), want);  // key defaults to the value
}

TEST_CASE("MultiHeadAttention: attention_mask, causal mask and the inputs' masks") {
  reset_default_graph();
  MultiHeadAttention mha(MultiHeadAttentionOptions(2, 3));
  const std::size_t B = 2, T = 4, S = 5;
  const Tensor q = random_tensor({B, T, 3}, 1), v = random_tensor({B, S, 3}, 2);
  mha(V(q), V(v));
  const auto w = randomize(mha, 30);
  // Boolean-like: any nonzero value allows (2 and -1 too).
  Tensor attention = random_tensor({B, T, S}, 5);
  for (auto& e : attention) e = e > -0.3f ? (e > 0.5f ? 2.f : 1.f) : 0.f;
  attention(0, 1, 0) = -1.f;
  attention(1, 2, 0) = 0.f;  // row (1, 2) fully masked: zeros
  attention(1, 2, 1) = attention(1, 2, 2) = attention(1, 2, 3) = attention(1, 2, 4) = 0.f;

  SUBCASE("attention_mask") {
    auto [out, scores] = mha.call_with_scores(V(q), V(v), {.attention_mask = attention});
    const auto ref =
        mha_reference(q, v, v, w, allowed(B, T, S, &attention, nullptr, nullptr, false));
    TF_CHECK_CLOSE(out.value(), ref.output);
    TF_CHECK_CLOSE(scores.value(), ref.scores);
    for (std::size_t n = 0; n < 2; ++n)
      for (std::size_t s = 0; s < S; ++s) CHECK(scores.value()(1, n, 2, s) == 0.f);
    CHECK(scores.value()(0, 0, 1, 0) > 0.f);
    // A mask without the batch axis broadcasts over it, as in Keras.
    Tensor one = xt::view(attention, 0);
    Tensor both = xt::stack(xt::xtuple(one, one));
    TF_CHECK_CLOSE(mha(V(q), V(v), {.attention_mask = one}).value(),
                   mha(V(q), V(v), {.attention_mask = both}).value());
  }
  SUBCASE("use_causal_mask, alone and with attention_mask") {
    auto [out, scores] = mha.call_with_scores(V(q), V(v), {.use_causal_mask = true});
    const auto ref = mha_reference(q, v, v, w, allowed(B, T, S, nullptr, nullptr, nullptr, true));
    TF_CHECK_CLOSE(out.value(), ref.output);
    TF_CHECK_CLOSE(scores.value(), ref.scores);
    CHECK(scores.value()(0, 1, 1, 2) == 0.f);  // position 1 does not see position 2
    CHECK(scores.value()(0, 1, 1, 1) > 0.f);
    const auto ref2 =
        mha_reference(q, v, v, w, allowed(B, T, S, &attention, nullptr, nullptr, true));
    TF_CHECK_CLOSE(mha(V(q), V(v), {.attention_mask = attention, .use_causal_mask = true}).value(),
                   ref2.output);
  }
  SUBCASE("query_mask, value_mask and key_mask (Keras' masks of the inputs)") {
    const Tensor qm = test::T({B, T}, {1, 1, 0, 1, 1, 1, 1, 0});
    const Tensor vm = test::T({B, S}, {1, 0, 1, 1, 1, 0, 1, 1, 0, 1});
    const Tensor km = test::T({B, S}, {1, 1, 1, 0, 1, 1, 1, 1, 1, 0});
    auto ref = mha_reference(q, v, v, w, allowed(B, T, S, &attention, &qm, &vm, true));
    auto [out, scores] = mha.call_with_scores(
        V(q), V(v),
        {.query_mask = qm, .value_mask = vm, .attention_mask = attention, .use_causal_mask = true});
    TF_CHECK_CLOSE(out.value(), ref.output);
    TF_CHECK_CLOSE(scores.value(), ref.scores);
    // The key's mask counts only with a separate key (Keras ignores it otherwise).
    TF_CHECK_CLOSE(mha(V(q), V(v), {.value_mask = vm, .key_mask = km}).value(),
                   mha(V(q), V(v), {.value_mask = vm}).value());
    const Tensor both = vm * km;
    auto ref2 = mha_reference(q, v, v, w, allowed(B, T, S, nullptr, nullptr, &both, false));
    TF_CHECK_CLOSE(mha(V(q), V(v), {.key = V(v), .value_mask = vm, .key_mask = km}).value(),
                   ref2.output);
  }
}

TEST_CASE("MultiHeadAttention: dropout on the probabilities, in training only, seeded") {
  reset_default_graph();
  const float rate = 0.4f;
  MultiHeadAttention mha(MultiHeadAttentionOptions(2, 2).dropout(rate).seed(5));
  const Tensor q = random_tensor({2, 3, 4}, 1), v = random_tensor({2, 4, 4}, 2);
  mha(V(q), V(v));
  const auto w = randomize(mha, 40);
  const auto ref = mha_reference(q, v, v, w);
  // Inference ignores the dropout.
  TF_CHECK_CLOSE(mha(V(q), V(v)).value(), ref.output);
  CHECK(mha.random_state().empty());
  // Training: the layer's stream (op seed 5) decides which probabilities are kept, in the
  // scores' row-major order, each kept one scaled by 1 / (1 - rate), as Dropout.
  RandomGenerator g = RandomGenerator::for_op(Seed(5));
  Tensor drop = Tensor::from_shape({2, 2, 3, 4});
  std::size_t kept = 0;
  for (auto& e : drop) {
    e = g.uniform01() >= rate ? 1.f / (1.f - rate) : 0.f;
    kept += e != 0.f;
  }
  REQUIRE(kept > 0);
  REQUIRE(kept < drop.size());
  auto [out, scores] = mha.call_with_scores(V(q), V(v), {.training = true});
  TF_CHECK_CLOSE(out.value(), mha_reference(q, v, v, w, {}, drop).output);
  TF_CHECK_CLOSE(scores.value(), ref.scores);  // the scores are those before dropout
  CHECK_FALSE(mha.random_state().empty());
  // The next training call draws new masks; a layer with the same seed repeats the first.
  CHECK_FALSE(bit_identical(mha(V(q), V(v), {.training = true}).value(), out.value()));
  MultiHeadAttention twin(MultiHeadAttentionOptions(2, 2).dropout(rate).seed(5));
  twin(V(q), V(v));
  twin.set_weights(w);
  CHECK(bit_identical(twin(V(q), V(v), {.training = true}).value(), out.value()));
  // The model's training flag reaches it through call_on_list.
  CHECK_FALSE(bit_identical(mha.call_on_list({V(q), V(v)}, true)[0].value(), ref.output));
  TF_CHECK_CLOSE(mha.call_on_list({V(q), V(v)}, false)[0].value(), ref.output);
}

TEST_CASE("MultiHeadAttention: gradcheck of query, value, key and every weight") {
  reset_default_graph();
  MultiHeadAttention mha(MultiHeadAttentionOptions(2, 3).value_dim(2L));
  const Tensor q = random_tensor({2, 3, 4}, 1), v = random_tensor({2, 4, 3}, 2),
               k = random_tensor({2, 4, 2}, 3);
  Tensor attention = xt::ones<float>({2, 3, 4});
  attention(0, 0, 3) = attention(1, 2, 1) = 0.f;
  mha(V(q), V(v), {.key = V(k)});
  randomize(mha, 50);
  for (bool causal : {false, true}) {
    CAPTURE(causal);
    TF_GRADCHECK(
        [&](const std::vector<Variable>& in) {
          return mha(in[0], in[1],
                     {.key = in[2], .attention_mask = attention, .use_causal_mask = causal});
        },
        (std::vector<Tensor>{q, v, k}));
    TF_GRADCHECK_VARIABLES(
        [&] {
          return mha(V(q), V(v),
                     {.key = V(k), .attention_mask = attention, .use_causal_mask = causal});
        },
        mha.trainable_variables());
  }
  // The scores' gradient as well (through call_with_scores), and self-attention, where the
  // one input is query, value and key.
  TF_GRADCHECK(
      [&](const std::vector<Variable>& in) {
        return mha.call_with_scores(in[0], in[1], {.key = in[2]}).scores;
      },
      (std::vector<Tensor>{q, v, k}));
  MultiHeadAttention self(MultiHeadAttentionOptions(2, 2));
  const Tensor x = random_tensor({2, 3, 3}, 4);
  self(V(x));
  randomize(self, 60);
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return self(in[0]); },
               (std::vector<Tensor>{x}));
}

TEST_CASE("MultiHeadAttention: attention_axes on rank-4 inputs") {
  reset_default_graph();
  const Tensor q = random_tensor({2, 2, 3, 4}, 1), v = random_tensor({2, 2, 5, 4}, 2);
  MultiHeadAttention flat(MultiHeadAttentionOptions(2, 3).name("flat"));
  flat(V(random_tensor({4, 3, 4})), V(random_tensor({4, 5, 4})));
  const auto w = randomize(flat, 70);
  auto reshaped = [](Tensor t, const Shape& s) {
    t.reshape(s);
    return t;
  };
  for (const OptionalAxisList& axes : {OptionalAxisList(2), OptionalAxisList(-2)}) {
    // Attention over axis 2: axis 1 joins the batch, as a rank-3 call on (4, ., 4).
    MultiHeadAttention mha(MultiHeadAttentionOptions(2, 3).attention_axes(axes));
    mha(V(q), V(v));
    mha.set_weights(w);
    Tensor mask = random_tensor({2, 2, 3, 5}, 3);
    for (auto& e : mask) e = e > -0.5f ? 1.f : 0.f;
    auto [out, scores] = mha.call_with_scores(V(q), V(v), {.attention_mask = mask});
    auto [fo, fs] = flat.call_with_scores(V(reshaped(q, {4, 3, 4})), V(reshaped(v, {4, 5, 4})),
                                          {.attention_mask = reshaped(mask, {4, 3, 5})});
    CHECK(out.shape() == Shape{2, 2, 3, 4});
    CHECK(scores.shape() == Shape{2, 2, 2, 3, 5});  // (batch, axis 1, heads, 3, 5)
    TF_CHECK_CLOSE(out.value(), reshaped(fo.value(), {2, 2, 3, 4}));
    TF_CHECK_CLOSE(scores.value(), reshaped(fs.value(), {2, 2, 2, 3, 5}));
  }
  // Attention over axis 1: the other axis (2) must match between query and value.
  MultiHeadAttention over1(MultiHeadAttentionOptions(2, 3).attention_axes(1));
  const Tensor q1 = random_tensor({2, 3, 2, 4}, 4), v1 = random_tensor({2, 5, 2, 4}, 5);
  over1(V(q1), V(v1));
  over1.set_weights(w);
  auto [o1, s1] = over1.call_with_scores(V(q1), V(v1));
  CHECK(s1.shape() == Shape{2, 2, 2, 3, 5});  // (batch, axis 2, heads, 3, 5)
  auto [f1, g1] = flat.call_with_scores(V(reshaped(xt::transpose(q1, {0, 2, 1, 3}), {4, 3, 4})),
                                        V(reshaped(xt::transpose(v1, {0, 2, 1, 3}), {4, 5, 4})));
  TF_CHECK_CLOSE(o1.value(),
                 Tensor(xt::transpose(reshaped(f1.value(), {2, 2, 3, 4}), {0, 2, 1, 3})));
  TF_CHECK_CLOSE(s1.value(), reshaped(g1.value(), {2, 2, 2, 3, 5}));
  TF_CHECK_ERROR(over1(V(q1), V(random_tensor({2, 5, 3, 4}))), "multi_head_attention", "axis 2",
                 "not an attention axis");

  // Default axes: every position axis, jointly (the flattened sequences).
  MultiHeadAttention joint(MultiHeadAttentionOptions(2, 3));
  const Tensor v2 = random_tensor({2, 2, 4, 4}, 6);
  joint(V(q), V(v2));
  joint.set_weights(w);
  auto [oj, sj] = joint.call_with_scores(V(q), V(v2));
  CHECK(sj.shape() == Shape{2, 2, 2, 3, 2, 4});
  auto [fj, gj] = flat.call_with_scores(V(reshaped(q, {2, 6, 4})), V(reshaped(v2, {2, 8, 4})));
  TF_CHECK_CLOSE(oj.value(), reshaped(fj.value(), {2, 2, 3, 4}));
  TF_CHECK_CLOSE(sj.value(), reshaped(gj.value(), {2, 2, 2, 3, 2, 4}));
  TF_GRADCHECK(
      [&](const std::vector<Variable>& in) { return over1(in[0], in[1]); },
      (std::vector<Tensor>{random_tensor({1, 2, 2, 4}, 7), random_tensor({1, 3, 2, 4}, 8)}));
}

TEST_CASE("MultiHeadAttention: errors name the layer and the argument") {
  reset_default_graph();
  using O = MultiHeadAttentionOptions;
  CHECK_THROWS_AS(MultiHeadAttention(O(0, 2)), ValueError);
  TF_CHECK_ERROR(MultiHeadAttention(O(0, 2)), "multi_head_attention", "num_heads", "0");
  TF_CHECK_ERROR(MultiHeadAttention(O(2, -1)), "key_dim", "-1");
  TF_CHECK_ERROR(MultiHeadAttention(O(2, 2).value_dim(0L)), "value_dim", "0");
  CHECK_THROWS_AS(MultiHeadAttention(O(2, 2).dropout(1.f)), ValueError);
  TF_CHECK_ERROR(MultiHeadAttention(O(2, 2).dropout(1.f)), "dropout", "[0, 1)", "1");
  TF_CHECK_ERROR(MultiHeadAttention(O(2, 2).dropout(-0.1f)), "dropout", "-0.1");
  TF_CHECK_ERROR(MultiHeadAttention(O(2, 2).output_shape({3, 0})), "output_shape", "(3, 0)");
  TF_CHECK_ERROR(MultiHeadAttention(O(2, 2).attention_axes({0, 1})), "attention_axes", "batch");
  TF_CHECK_ERROR(MultiHeadAttention(O(2, 2).attention_axes(AxisList{})), "attention_axes", "empty");

  MultiHeadAttention mha(O(2, 2));
  const Variable q = V(random_tensor({2, 3, 4})), v = V(random_tensor({2, 5, 4}));
  CHECK_THROWS_AS(mha(V(random_tensor({2, 4})), v), ShapeError);
  TF_CHECK_ERROR(mha(V(random_tensor({2, 4})), v), "multi_head_attention", "rank >= 3", "(2, 4)");
  TF_CHECK_ERROR(mha(q, V(random_tensor({2, 5, 2, 4}))), "same rank");
  TF_CHECK_ERROR(mha(q, V(random_tensor({3, 5, 4}))), "batch sizes");
  TF_CHECK_ERROR(mha(q, v, {.key = V(random_tensor({2, 4, 4}))}), "value and key", "(2, 5, 4)",
                 "(2, 4, 4)");
  CHECK_FALSE(mha.built());  // nothing was built by the failed calls
  mha(q, v);
  CHECK_THROWS_AS(mha(V(random_tensor({2, 3, 5})), v), ShapeError);
  TF_CHECK_ERROR(mha(V(random_tensor({2, 3, 5})), v), "query", "(2, 3, 5)", "built for");
  TF_CHECK_ERROR(mha(q, V(random_tensor({2, 5, 3}))), "value", "(2, 5, 3)");
  TF_CHECK_ERROR(mha(q, v, {.key = V(random_tensor({2, 5, 3}))}), "key", "(2, 5, 3)");
  CHECK_THROWS_AS(mha(q, v, {.attention_mask = xt::ones<float>({2, 3, 4})}), ShapeError);
  TF_CHECK_ERROR(mha(q, v, {.attention_mask = xt::ones<float>({2, 3, 4})}), "attention_mask",
                 "(2, 3, 4)", "(2, 3, 5)");
  TF_CHECK_ERROR(mha(q, v, {.attention_mask = xt::ones<float>({2, 2, 3, 5})}), "attention_mask");
  TF_CHECK_ERROR(mha(q, v, {.query_mask = xt::ones<float>({2, 5})}), "query_mask", "(2, 3)");
  TF_CHECK_ERROR(mha(q, v, {.value_mask = xt::ones<float>({2, 3})}), "value_mask", "(2, 5)");
  TF_CHECK_ERROR(mha(q, Variable()), "multi_head_attention", "value is undefined");
  TF_CHECK_ERROR(mha.call_on_list({q, v, v, v}, false), "multi_head_attention", "4 inputs");
  MultiHeadAttention axes(O(2, 2).attention_axes(3));
  TF_CHECK_ERROR(axes(q, v), "attention_axes", "axis 3", "rank 3");
  MultiHeadAttention twice(O(2, 2).attention_axes({1, -2}));
  TF_CHECK_ERROR(twice(q, v), "attention_axes", "twice");
}

TEST_CASE("MultiHeadAttention: get_config, from config, pretty_print") {
  reset_default_graph();
  MultiHeadAttention mha(MultiHeadAttentionOptions(4, 8)
                             .dropout(0.25f)
                             .seed(3)
                             .output_shape(6)
                             .attention_axes(1)
                             .kernel_regularizer(regularizers::l2(0.01f)));
  Config c = mha.get_config();
  CHECK(c["name"] == "multi_head_attention");
  CHECK(c["num_heads"] == "4");
  CHECK(c["key_dim"] == "8");
  CHECK(c["value_dim"] == "8");
  CHECK(c["dropout"] == "0.25");
  CHECK(c["output_shape"] == "(6,)");
  CHECK(c["attention_axes"] == "1");
  CHECK(c["use_bias"] == "true");
  CHECK(c["kernel_initializer"].find("glorot_uniform") == 0);
  CHECK(c["bias_initializer"].find("zeros") == 0);
  CHECK(c["kernel_regularizer"] == "l2(l2=0.01)");
  CHECK(c["seed"] == "3");
  auto back = create_layer("MultiHeadAttention", c);
  CHECK(back->get_config().size() == c.size());
  Config d = back->get_config();
  d.erase("name");
  c.erase("name");
  CHECK(d == c);
  CHECK(MultiHeadAttention(MultiHeadAttentionOptions(2, 3)).get_config()["output_shape"] == "None");
  CHECK(mha.pretty_print() ==
        "MultiHeadAttention(num_heads=4, key_dim=8, value_dim=8, dropout=0.25, "
        "output_shape=(6,), attention_axes=1)");
  CHECK(MultiHeadAttention(MultiHeadAttentionOptions(2, 3).value_dim(5L).use_bias(false))
            .pretty_print() ==
        "MultiHeadAttention(num_heads=2, key_dim=3, value_dim=5, use_bias=false)");
}

TEST_CASE("MultiHeadAttention: regularizers, constraints and the default initializers") {
  reset_default_graph();
  set_random_seed(4);
  MultiHeadAttention mha(MultiHeadAttentionOptions(2, 3)
                             .kernel_regularizer(regularizers::l2(0.1f))
                             .bias_regularizer(regularizers::l1(0.5f))
                             .kernel_constraint(constraints::non_neg()));
  mha(V(random_tensor({1, 2, 4})), V(random_tensor({1, 3, 5})));
  clear_random_seed();
  // glorot_uniform with Keras' fans of a 3-D kernel (d, heads, size): receptive = d.
  const float limit_q = std::sqrt(6.f / (2 * 4 + 3 * 4));
  CHECK(xt::amax(xt::abs(mha.query_kernel().value()))() <= limit_q);
  CHECK(xt::amax(xt::abs(mha.query_kernel().value()))() > 0.5f * limit_q);
  CHECK(xt::all(xt::equal(mha.query_bias().value(), 0.f)));
  mha.set_weights(std::vector<Tensor>{xt::ones<float>({4, 2, 3}), xt::ones<float>({2, 3}),
                                      xt::ones<float>({5, 2, 3}), xt::ones<float>({2, 3}),
                                      xt::ones<float>({5, 2, 3}), xt::ones<float>({2, 3}),
                                      xt::ones<float>({2, 3, 4}), xt::ones<float>({4})});
  auto losses = mha.losses();
  REQUIRE(losses.size() == 8);
  CHECK(losses[0].item() == doctest::Approx(0.1f * 24));  // query kernel
  CHECK(losses[1].item() == doctest::Approx(0.5f * 6));   // query bias
  CHECK(losses[7].item() == doctest::Approx(0.5f * 4));   // output bias
  CHECK(get_regularization_loss().item() ==
        doctest::Approx(0.1f * (24 + 30 + 30 + 24) + 0.5f * (6 + 6 + 6 + 4)));
  for (const Variable& k :
       {mha.query_kernel(), mha.key_kernel(), mha.value_kernel(), mha.output_kernel()})
    CHECK(k.constraint());
  CHECK_FALSE(mha.query_bias().constraint());
}

TEST_CASE("MultiHeadAttention: in a functional model, saved, reloaded and as Keras JSON") {
  reset_default_graph();
  auto q = Input({3, 4}, "q");
  auto v = Input({5, 6}, "v");
  auto k = Input({5, 2}, "k");
  auto mha = std::make_shared<MultiHeadAttention>(MultiHeadAttentionOptions(2, 3));
  auto cross = (*mha)({q, v, k});
  auto y = MultiHeadAttention(MultiHeadAttentionOptions(1, 2).name("self"))({cross, cross});
  Model model(SymbolicTensors{q, v, k}, y, "attention_model");
  CHECK(mha->key_kernel().shape() == Shape{2, 2, 3});
  CHECK(mha->value_kernel().shape() == Shape{6, 2, 3});
  randomize(model, 80);
  const Tensor xq = random_tensor({2, 3, 4}, 1), xv = random_tensor({2, 5, 6}, 2),
               xk = random_tensor({2, 5, 2}, 3);
  const std::vector<Variable> in{V(xq), V(xv), V(xk)};
  const Tensor want = model(in)[0].value();
  CHECK(want.shape() == (std::vector<std::size_t>{2, 3, 4}));
  // What the two layers compute eagerly.
  auto* self = dynamic_cast<MultiHeadAttention*>(model.get_layer("self").get());
  REQUIRE(self);
  const Variable h = (*mha)(V(xq), V(xv), {.key = V(xk)});
  CHECK_BIT_IDENTICAL(want, (*self)(h, h).value());
  // The model's gradient reaches every weight of both layers.
  TF_GRADCHECK_VARIABLES([&] { return model(in)[0]; }, model.trainable_variables());

  for (const auto archive : {serialization::Archive::binary, serialization::Archive::text}) {
    const std::string path = mha_temp_path("model.tfw");
    serialization::save(model, path, archive);
    auto loaded = serialization::load(path);
    std::filesystem::remove(path);
    CHECK(bit_identical(loaded->call_on_list(in, false)[0].value(), want));
  }
  auto back = serialization::model_from_json(serialization::to_json(model));
  back->set_weights(model.get_weights());
  CHECK(bit_identical(back->call_on_list(in, false)[0].value(), want));
}

TEST_CASE("MultiHeadAttention: self-attention in a Sequential, saved and reloaded") {
  reset_default_graph();
  auto seq = std::make_shared<Sequential>();
  seq->add<MultiHeadAttention>(MultiHeadAttentionOptions(2, 2).dropout(0.2f).seed(1));
  seq->build({1, 4, 3});
  randomize(*seq, 90);
  const Tensor x = random_tensor({2, 4, 3}, 1);
  const Tensor want = (*seq)(V(x)).value();
  auto* layer = dynamic_cast<MultiHeadAttention*>(seq->layers()[0].get());
  REQUIRE(layer);
  CHECK_BIT_IDENTICAL(want, (*layer)(V(x), V(x)).value());
  const std::string path = mha_temp_path("seq.tfw");
  serialization::save(*seq, path);
  auto loaded = serialization::load(path);
  std::filesystem::remove(path);
  CHECK_BIT_IDENTICAL((*loaded)(V(x)).value(), want);
}
