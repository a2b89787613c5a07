// The recurrent layers (layers/detail/recurrent.hpp, simple_rnn, lstm, gru, bidirectional):
// outputs against a step-by-step definition written here on plain tensors (return_sequences,
// return_state, go_backwards, masks, initial and kept states), finite-difference gradients of
// the input and every weight, dropout, errors, configs and printed forms.
#include <cmath>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <type_traits>
#include <xtensor/xbuilder.hpp>
#include <xtensor/xmanipulation.hpp>
#include <xtensor/xview.hpp>

#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/framework/runtime/random.hpp"
#include "tapeflow/layers/bidirectional.hpp"
#include "tapeflow/layers/dense.hpp"
#include "tapeflow/layers/gru.hpp"
#include "tapeflow/layers/input_layer.hpp"
#include "tapeflow/layers/keras_json.hpp"
#include "tapeflow/layers/lstm.hpp"
#include "tapeflow/layers/model.hpp"
#include "tapeflow/layers/registry.hpp"
#include "tapeflow/layers/sequential.hpp"
#include "tapeflow/layers/simple_rnn.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;

namespace {

// ---- the definition, on plain tensors ------------------------------------------------------

// a (rows, k) . b (k, cols)
Tensor rnn_mm(const Tensor& a, const Tensor& b) {
  const std::size_t rows = a.shape()[0], k = a.shape()[1], cols = b.shape()[1];
  Tensor out = xt::zeros<float>({rows, cols});
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j) {
      double s = 0;
      for (std::size_t q = 0; q < k; ++q) s += double(a(i, q)) * double(b(q, j));
      out(i, j) = static_cast<float>(s);
    }
  return out;
}

// Columns [from, from + n) of a (rows, cols) tensor, or entries of a vector.
Tensor rnn_cols(const Tensor& a, std::size_t from, std::size_t n) {
  if (a.dimension() == 1) return Tensor(xt::view(a, xt::range(from, from + n)));
  return Tensor(xt::view(a, xt::all(), xt::range(from, from + n)));
}

Tensor rnn_sigmoid(const Tensor& z) { return Tensor(1.f / (1.f + xt::exp(-z))); }

using RefCell = std::function<std::vector<Tensor>(const Tensor& x, const std::vector<Tensor>&)>;

Tensor simple_cell_step(const Tensor& x, const Tensor& h, const Tensor& k, const Tensor& rk,
                        const Tensor& b) {
  return Tensor(xt::tanh(rnn_mm(x, k) + rnn_mm(h, rk) + b));
}

RefCell simple_cell(Tensor k, Tensor rk, Tensor b) {
  return [=](const Tensor& x, const std::vector<Tensor>& s) {
    return std::vector<Tensor>{simple_cell_step(x, s[0], k, rk, b)};
  };
}

RefCell lstm_cell(Tensor k, Tensor rk, Tensor b) {
  const std::size_t u = rk.shape()[0];
  return [=](const Tensor& x, const std::vector<Tensor>& s) {
    Tensor z = rnn_mm(x, k) + rnn_mm(s[0], rk) + b;
    Tensor i = rnn_sigmoid(rnn_cols(z, 0, u)), f = rnn_sigmoid(rnn_cols(z, u, u));
    Tensor g = xt::tanh(rnn_cols(z, 2 * u, u)), o = rnn_sigmoid(rnn_cols(z, 3 * u, u));
    Tensor c = f * s[1] + i * g;
    Tensor h = o * xt::tanh(c);
    return std::vector<Tensor>{h, c};
  };
}

// bias (2, 3u) with reset_after, (3u,) without.
RefCell gru_cell(Tensor k, Tensor rk, Tensor b, bool reset_after) {
  const std::size_t u = rk.shape()[0];
  return [=](const Tensor& x, const std::vector<Tensor>& s) {
    const Tensor& h = s[0];
    Tensor bx = reset_after ? Tensor(xt::row(b, 0)) : b;
    Tensor xp = rnn_mm(x, k) + bx;
    Tensor z, r, hh;
    if (reset_after) {
      Tensor hp = rnn_mm(h, rk) + Tensor(xt::row(b, 1));
      z = rnn_sigmoid(rnn_cols(xp, 0, u) + rnn_cols(hp, 0, u));
      r = rnn_sigmoid(rnn_cols(xp, u, u) + rnn_cols(hp, u, u));
      hh = xt::tanh(rnn_cols(xp, 2 * u, u) + r * rnn_cols(hp, 2 * u, u));
    } else {
      z = rnn_sigmoid(rnn_cols(xp, 0, u) + rnn_mm(h, rnn_cols(rk, 0, u)));
      r = rnn_sigmoid(rnn_cols(xp, u, u) + rnn_mm(h, rnn_cols(rk, u, u)));
      hh = xt::tanh(rnn_cols(xp, 2 * u, u) + rnn_mm(Tensor(r * h), rnn_cols(rk, 2 * u, u)));
    }
    return std::vector<Tensor>{Tensor(z * h + (1.f - z) * hh)};
  };
}

struct RefRun {
  bool return_sequences = false;
  bool go_backwards = false;
  bool zero_output_for_mask = false;
  const Tensor* mask = nullptr;
  std::vector<Tensor> initial;  // empty: zeros
};

// Keras' RNN loop written out: {output, states...}.
std::vector<Tensor> ref_rnn(const Tensor& x, const RefCell& cell, std::size_t n_states,
                            std::size_t units, const RefRun& run = {}) {
  const std::size_t batch = x.shape()[0], time = x.shape()[1];
  std::vector<Tensor> states = run.initial;
  if (states.empty()) states.assign(n_states, Tensor(xt::zeros<float>({batch, units})));
  Tensor prev = xt::zeros<float>({batch, units});
  Tensor seq = xt::zeros<float>({batch, time, units});
  for (std::size_t k = 0; k < time; ++k) {
    const std::size_t t = run.go_backwards ? time - 1 - k : k;
    Tensor xt_ = xt::view(x, xt::all(), t, xt::all());
    std::vector<Tensor> next = cell(xt_, states);
    Tensor out = next[0];
    if (run.mask)
      for (std::size_t b = 0; b < batch; ++b)
        if ((*run.mask)(b, t) == 0.f) {
          for (std::size_t j = 0; j < units; ++j)
            out(b, j) = run.zero_output_for_mask ? 0.f : prev(b, j);
          for (std::size_t i = 0; i < n_states; ++i)
            for (std::size_t j = 0; j < units; ++j) next[i](b, j) = states[i](b, j);
        }
    xt::view(seq, xt::all(), k, xt::all()) = out;
    prev = out;
    states = next;
  }
  std::vector<Tensor> result{run.return_sequences ? seq : prev};
  result.insert(result.end(), states.begin(), states.end());
  return result;
}

// Random weights for a layer (kernel, recurrent_kernel, bias), set after building it on x.
template <class L>
std::vector<Tensor> randomize(L& layer, const Tensor& x, unsigned seed) {
  layer(Variable(x));
  std::vector<Tensor> w;
  for (const Tensor& t : layer.get_weights())
    w.push_back(random_tensor(shape_of(t), seed++, -0.8f, 0.8f));
  layer.set_weights(w);
  return w;
}

Tensor rnn_mask() { return Tensor{{1.f, 1.f, 0.f, 1.f}, {0.f, 1.f, 1.f, 0.f}}; }

}  // namespace

// ---- SimpleRNN -------------------------------------------------------------------------------

TEST_CASE("SimpleRNN: shapes, weight names and the step-by-step definition") {
  reset_default_graph();
  Tensor x = random_tensor({2, 4, 3}, 1);
  SimpleRNN rnn(SimpleRNNOptions(5));
  auto w = randomize(rnn, x, 10);
  CHECK(rnn.kernel().name() == "simple_rnn/kernel");
  CHECK(rnn.recurrent_kernel().name() == "simple_rnn/recurrent_kernel");
  CHECK(rnn.bias().name() == "simple_rnn/bias");
  CHECK(rnn.kernel().shape() == Shape{3, 5});
  CHECK(rnn.recurrent_kernel().shape() == Shape{5, 5});
  CHECK(rnn.count_params() == 15 + 25 + 5);
  auto cell = simple_cell(w[0], w[1], w[2]);
  Variable y = rnn(Variable(x));
  CHECK(y.shape() == Shape{2, 5});
  TF_CHECK_CLOSE(y.value(), ref_rnn(x, cell, 1, 5)[0]);

  for (bool backwards : {false, true}) {
    CAPTURE(backwards);
    SimpleRNN seq(SimpleRNNOptions(5).return_sequences(true).go_backwards(backwards));
    seq(Variable(x));
    seq.set_weights(w);
    Variable ys = seq(Variable(x));
    CHECK(ys.shape() == Shape{2, 4, 5});
    RefRun run;
    run.return_sequences = true;
    run.go_backwards = backwards;
    TF_CHECK_CLOSE(ys.value(), ref_rnn(x, cell, 1, 5, run)[0]);
  }
}

TEST_CASE("SimpleRNN: default initializers (glorot_uniform, orthogonal, zeros)") {
  reset_default_graph();
  SimpleRNN rnn(SimpleRNNOptions(4));
  rnn(Variable(random_tensor({1, 2, 3})));
  const Tensor& rk = rnn.recurrent_kernel().value();
  // Orthogonal: rk^T rk = I.
  TF_CHECK_CLOSE(rnn_mm(Tensor(xt::transpose(rk)), rk), Tensor(xt::eye<float>(4)), 1e-5f);
  CHECK(xt::amax(xt::abs(rnn.kernel().value()))() <= std::sqrt(6.f / 7.f));
  CHECK(xt::all(xt::equal(rnn.bias().value(), 0.f)));
}

// ---- LSTM --------------------------------------------------------------------------------------

TEST_CASE("LSTM: weights, unit_forget_bias, the definition and return_state") {
  reset_default_graph();
  Tensor x = random_tensor({2, 4, 3}, 2);
  LSTM lstm(LSTMOptions(2).return_sequences(true).return_state(true));
  lstm(Variable(x));
  CHECK(lstm.kernel().shape() == Shape{3, 8});
  CHECK(lstm.recurrent_kernel().shape() == Shape{2, 8});
  // unit_forget_bias: zeros, then ones for the forget gate, then zeros.
  TF_CHECK_CLOSE(lstm.bias().value(), (Tensor{0.f, 0.f, 1.f, 1.f, 0.f, 0.f, 0.f, 0.f}));
  LSTM plain(LSTMOptions(2).unit_forget_bias(false).bias_initializer("ones"));
  plain(Variable(x));
  CHECK(xt::all(xt::equal(plain.bias().value(), 1.f)));

  auto w = randomize(lstm, x, 20);
  auto cell = lstm_cell(w[0], w[1], w[2]);
  RefRun run;
  run.return_sequences = true;
  auto want = ref_rnn(x, cell, 2, 2, run);
  std::vector<Variable> got = lstm.call_with_state(Variable(x));
  REQUIRE(got.size() == 3);
  TF_CHECK_CLOSE(got[0].value(), want[0]);
  TF_CHECK_CLOSE(got[1].value(), want[1]);  // h
  TF_CHECK_CLOSE(got[2].value(), want[2]);  // c
  // The last output is the final h.
  TF_CHECK_CLOSE(Tensor(xt::view(got[0].value(), xt::all(), 3, xt::all())), want[1]);
  // operator() gives the output only.
  TF_CHECK_CLOSE(lstm(Variable(x)).value(), want[0]);

  // Explicit initial states.
  Tensor h0 = random_tensor({2, 2}, 30), c0 = random_tensor({2, 2}, 31);
  run.initial = {h0, c0};
  want = ref_rnn(x, cell, 2, 2, run);
  got = lstm.call_with_state(Variable(x), {Variable(h0), Variable(c0)});
  TF_CHECK_CLOSE(got[0].value(), want[0]);
  TF_CHECK_CLOSE(got[2].value(), want[2]);
}

// ---- GRU ---------------------------------------------------------------------------------------

TEST_CASE("GRU: reset_after true and false against the definition") {
  reset_default_graph();
  Tensor x = random_tensor({2, 3, 2}, 3);
  for (bool reset_after : {true, false}) {
    CAPTURE(reset_after);
    GRU gru(GRUOptions(3).reset_after(reset_after).return_sequences(true));
    auto w = randomize(gru, x, 40);
    CHECK(gru.kernel().shape() == Shape{2, 9});
    CHECK(gru.recurrent_kernel().shape() == Shape{3, 9});
    CHECK(gru.bias().shape() == (reset_after ? Shape{2, 9} : Shape{9}));
    RefRun run;
    run.return_sequences = true;
    TF_CHECK_CLOSE(gru(Variable(x)).value(),
                   ref_rnn(x, gru_cell(w[0], w[1], w[2], reset_after), 1, 3, run)[0]);
    // Initial state and return_state.
    Tensor h0 = random_tensor({2, 3}, 50);
    run.initial = {h0};
    auto want = ref_rnn(x, gru_cell(w[0], w[1], w[2], reset_after), 1, 3, run);
    auto got = gru.call_with_state(Variable(x), {Variable(h0)});
    REQUIRE(got.size() == 2);
    TF_CHECK_CLOSE(got[0].value(), want[0]);
    TF_CHECK_CLOSE(got[1].value(), want[1]);
  }
}

// ---- the loop: masks, stateful ----------------------------------------------------------------

TEST_CASE("Recurrent layers: a masked step keeps the states and repeats the output") {
  reset_default_graph();
  Tensor x = random_tensor({2, 4, 3}, 4);
  Tensor mask = rnn_mask();
  for (bool backwards : {false, true})
    for (bool zero : {false, true}) {
      CAPTURE(backwards);
      CAPTURE(zero);
      LSTM lstm(
          LSTMOptions(2).return_sequences(true).go_backwards(backwards).zero_output_for_mask(zero));
      auto w = randomize(lstm, x, 60);
      CHECK(lstm.supports_masking());
      RefRun run;
      run.return_sequences = true;
      run.go_backwards = backwards;
      run.zero_output_for_mask = zero;
      run.mask = &mask;
      auto want = ref_rnn(x, lstm_cell(w[0], w[1], w[2]), 2, 2, run);
      auto got = lstm.call_with_state(Variable(x), mask, {});
      TF_CHECK_CLOSE(got[0].value(), want[0]);
      TF_CHECK_CLOSE(got[1].value(), want[1]);
      TF_CHECK_CLOSE(got[2].value(), want[2]);
      TF_CHECK_CLOSE(lstm.masked_call(Variable(x), mask).value(), want[0]);
      // Unmasked gives another answer (the mask is used).
      CHECK_FALSE(test::allclose(lstm(Variable(x)).value(), want[0]));
      auto m = lstm.compute_mask(Variable(x), mask);
      REQUIRE(m);
      CHECK(test::bit_identical(*m, mask));
    }
  // Without return_sequences: the last output, no output mask.
  SimpleRNN rnn(SimpleRNNOptions(3));
  auto w = randomize(rnn, x, 70);
  RefRun run;
  run.mask = &mask;
  TF_CHECK_CLOSE(rnn.masked_call(Variable(x), mask).value(),
                 ref_rnn(x, simple_cell(w[0], w[1], w[2]), 1, 3, run)[0]);
  CHECK_FALSE(rnn.compute_mask(Variable(x), mask));
  CHECK_FALSE(rnn.compute_mask(Variable(x), std::nullopt));
  TF_CHECK_ERROR(rnn.masked_call(Variable(x), Tensor(xt::ones<float>({2, 3}))), "simple_rnn",
                 "mask");
}

TEST_CASE("Recurrent layers: stateful keeps the final states between calls") {
  reset_default_graph();
  Tensor x = random_tensor({2, 6, 3}, 5);
  Tensor first = xt::view(x, xt::all(), xt::range(0, 3), xt::all());
  Tensor second = xt::view(x, xt::all(), xt::range(3, 6), xt::all());
  GRU whole(GRUOptions(2));
  auto w = randomize(whole, x, 80);
  GRU gru(GRUOptions(2).stateful(true));
  gru(Variable(first));
  gru.set_weights(w);
  gru.reset_states();
  CHECK(gru.states().empty());
  gru(Variable(first));
  REQUIRE(gru.states().size() == 1);
  // Two halves in a row = the whole sequence at once.
  TF_CHECK_CLOSE(gru(Variable(second)).value(), whole(Variable(x)).value());
  // After reset_states the second half starts from zeros again.
  gru.reset_states();
  GRU fresh(GRUOptions(2));
  fresh(Variable(second));
  fresh.set_weights(w);
  TF_CHECK_CLOSE(gru(Variable(second)).value(), fresh(Variable(second)).value());
  TF_CHECK_ERROR(gru(Variable(random_tensor({3, 2, 3}))), "gru", "stateful", "batch size 2");
  // Not stateful: every call starts from zeros.
  TF_CHECK_CLOSE(fresh(Variable(second)).value(), fresh(Variable(second)).value());
  CHECK(fresh.states().empty());
}

// ---- gradients ---------------------------------------------------------------------------------

TEST_CASE("Recurrent layers: gradcheck of the input and every weight") {
  reset_default_graph();
  Tensor x = random_tensor({2, 3, 2}, 6);
  Tensor mask{{1.f, 0.f, 1.f}, {1.f, 1.f, 0.f}};
  auto check = [&](Layer& layer, bool masked) {
    auto f = [&](const Variable& in) { return masked ? layer.masked_call(in, mask) : layer(in); };
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return f(in[0]); }, {x});
    TF_GRADCHECK_VARIABLES([&] { return f(Variable(x)); }, layer.trainable_variables());
  };
  SimpleRNN rnn(SimpleRNNOptions(2).return_sequences(true));
  randomize(rnn, x, 90);
  check(rnn, false);
  LSTM lstm(LSTMOptions(2).go_backwards(true));
  randomize(lstm, x, 91);
  check(lstm, false);
  check(lstm, true);
  for (bool reset_after : {true, false}) {
    GRU gru(GRUOptions(2).reset_after(reset_after).return_sequences(true));
    randomize(gru, x, 92);
    check(gru, false);
    check(gru, true);
  }
  // Through the states of call_with_state and an initial state.
  LSTM with_state(LSTMOptions(2));
  randomize(with_state, x, 93);
  Tensor h0 = random_tensor({2, 2}, 94), c0 = random_tensor({2, 2}, 95);
  TF_GRADCHECK(
      [&](const std::vector<Variable>& in) {
        auto out = with_state.call_with_state(in[0], {in[1], in[2]});
        return concat({out[0], out[2]}, 1);
      },
      (std::vector<Tensor>{x, h0, c0}));
}

// ---- dropout -----------------------------------------------------------------------------------

TEST_CASE("Recurrent layers: dropout in training only, repeatable with a seed") {
  reset_default_graph();
  Tensor x = random_tensor({3, 4, 5}, 7);
  auto make = [&](auto options, unsigned weight_seed) {
    using L = std::conditional_t<
        std::is_same_v<decltype(options), LSTMOptions>, LSTM,
        std::conditional_t<std::is_same_v<decltype(options), GRUOptions>, GRU, SimpleRNN>>;
    auto layer = std::make_shared<L>(options);
    randomize(*layer, x, weight_seed);
    return layer;
  };
  auto run_pair = [&](auto options) {
    auto a = make(options, 100), b = make(options, 100);
    auto plain = make(decltype(options)(options).dropout(0.f).recurrent_dropout(0.f), 100);
    const Tensor inference = a->operator()(Variable(x)).value();
    // Inference ignores dropout.
    TF_CHECK_CLOSE(inference, (*plain)(Variable(x)).value());
    const Tensor ta = (*a)(Variable(x), true).value();
    const Tensor tb = (*b)(Variable(x), true).value();
    // Same seed, same masks; training differs from inference; a second call draws anew.
    CHECK(test::bit_identical(ta, tb));
    CHECK_FALSE(test::allclose(ta, inference));
    CHECK_FALSE(test::allclose((*a)(Variable(x), true).value(), ta));
  };
  run_pair(SimpleRNNOptions(3).dropout(0.5f).seed(1));
  run_pair(SimpleRNNOptions(3).recurrent_dropout(0.5f).seed(2));
  run_pair(LSTMOptions(3).dropout(0.4f).seed(3));
  run_pair(LSTMOptions(3).dropout(0.3f).recurrent_dropout(0.3f).seed(4));
  run_pair(GRUOptions(3).recurrent_dropout(0.5f).seed(5));
  run_pair(GRUOptions(3).reset_after(false).dropout(0.5f).recurrent_dropout(0.2f).seed(6));

  // A dropout mask on the inputs is fixed over time: with an input that is zero but at one
  // feature, SimpleRNN's first step in training is x's feature kept or dropped per sample.
  SimpleRNN lin(SimpleRNNOptions(1)
                    .activation("linear")
                    .kernel_initializer("ones")
                    .recurrent_initializer("zeros")
                    .use_bias(false)
                    .dropout(0.5f)
                    .return_sequences(true)
                    .seed(9));
  Tensor ones = xt::ones<float>({64, 3, 1});
  Tensor y = lin(Variable(ones), true).value();
  int kept = 0;
  for (std::size_t b = 0; b < 64; ++b) {
    CHECK((y(b, 0, 0) == 0.f || y(b, 0, 0) == 2.f));
    CHECK(y(b, 1, 0) == y(b, 0, 0));
    CHECK(y(b, 2, 0) == y(b, 0, 0));
    kept += y(b, 0, 0) == 2.f;
  }
  CHECK(kept > 16);
  CHECK(kept < 48);
}

// ---- errors ------------------------------------------------------------------------------------

TEST_CASE("Recurrent layers: errors name the layer and the argument") {
  reset_default_graph();
  TF_CHECK_ERROR(SimpleRNN(SimpleRNNOptions(0)), "simple_rnn", "units", "0");
  CHECK_THROWS_AS(LSTM(LSTMOptions(-2)), ValueError);
  CHECK_THROWS_AS(GRU(GRUOptions(2).dropout(1.f)), ValueError);
  TF_CHECK_ERROR(GRU(GRUOptions(2).dropout(-0.1f)), "gru", "dropout", "[0, 1)");
  TF_CHECK_ERROR(LSTM(LSTMOptions(2).recurrent_dropout(1.5f)), "lstm", "recurrent_dropout");
  LSTM lstm(LSTMOptions(2));
  CHECK_THROWS_AS(lstm(Variable(random_tensor({2, 3}))), ShapeError);
  TF_CHECK_ERROR(lstm(Variable(random_tensor({2, 3}))), "lstm", "rank 3");
  lstm(Variable(random_tensor({2, 3, 4})));
  CHECK_THROWS_AS(lstm(Variable(random_tensor({2, 3, 5}))), ShapeError);
  CHECK_THROWS_AS(lstm(Variable(random_tensor({2, 0, 4}))), ShapeError);
  TF_CHECK_ERROR(
      lstm.call_with_state(Variable(random_tensor({2, 3, 4})), {Variable(random_tensor({2, 2}))}),
      "lstm", "2 initial state(s), got 1");
  CHECK_THROWS_AS(
      lstm.call_with_state(Variable(random_tensor({2, 3, 4})),
                           {Variable(random_tensor({2, 3})), Variable(random_tensor({2, 2}))}),
      ShapeError);
  CHECK_THROWS_AS(
      lstm.masked_call(Variable(random_tensor({2, 3, 4})), Tensor(xt::ones<float>({3, 3}))), Error);
  TF_CHECK_ERROR(Bidirectional(BidirectionalOptions()), "bidirectional", "layer");
  TF_CHECK_ERROR(Bidirectional(BidirectionalOptions(lstm).merge_mode("max")), "merge_mode", "max");
  CHECK_THROWS_AS(Bidirectional(BidirectionalOptions(lstm).merge_mode("max")), ValueError);
  TF_CHECK_ERROR(Bidirectional(BidirectionalOptions(LayerSpec("Dense", {{"units", "2"}}))),
                 "recurrent", "Dense");
  TF_CHECK_ERROR(Bidirectional(BidirectionalOptions(lstm).backward_layer(LSTM(LSTMOptions(2)))),
                 "go_backwards");
  TF_CHECK_ERROR(Bidirectional(BidirectionalOptions(lstm).backward_layer(
                     LSTM(LSTMOptions(2).go_backwards(true).return_sequences(true)))),
                 "return_sequences");
}

// ---- config, printing, registry ----------------------------------------------------------------

TEST_CASE("Recurrent layers: get_config, pretty_print and the registry") {
  reset_default_graph();
  LSTM lstm(LSTMOptions(4).return_sequences(true).dropout(0.25f).seed(3));
  Config c = lstm.get_config();
  CHECK(c["units"] == "4");
  CHECK(c["activation"] == "tanh");
  CHECK(c["recurrent_activation"] == "sigmoid");
  CHECK(c["unit_forget_bias"] == "true");
  CHECK(c["recurrent_initializer"] == "orthogonal(gain=1, seed=None)");
  CHECK(c["return_sequences"] == "true");
  CHECK(c["return_state"] == "false");
  CHECK(c["stateful"] == "false");
  CHECK(c["seed"] == "3");
  CHECK(lstm.pretty_print() == "LSTM(units=4, dropout=0.25, return_sequences=true)");
  CHECK(SimpleRNN(SimpleRNNOptions(3)).pretty_print() == "SimpleRNN(units=3)");
  CHECK(GRU(GRUOptions(2).reset_after(false)).pretty_print() == "GRU(units=2, reset_after=false)");
  for (const auto& entry : std::vector<std::pair<std::string, std::shared_ptr<Layer>>>{
           {"SimpleRNN", std::make_shared<SimpleRNN>(SimpleRNNOptions(3).go_backwards(true))},
           {"LSTM", std::make_shared<LSTM>(LSTMOptions(2).stateful(true))},
           {"GRU", std::make_shared<GRU>(GRUOptions(2).reset_after(false).recurrent_dropout(0.1f))},
           {"Bidirectional", std::make_shared<Bidirectional>(
                                 BidirectionalOptions(GRU(GRUOptions(2).return_sequences(true)))
                                     .merge_mode("sum"))}}) {
    const std::string& cls = entry.first;  // not bound: see test_util.hpp
    const auto& layer = entry.second;
    CAPTURE(cls);
    auto back = create_layer(cls, layer->get_config());
    CHECK(back->class_name() == cls);
    Config a = back->get_config(), b = layer->get_config();
    a.erase("name");
    b.erase("name");
    CHECK(a == b);
  }
}

// ---- Bidirectional -----------------------------------------------------------------------------

TEST_CASE("Bidirectional: a forward and a backward copy, merged") {
  reset_default_graph();
  Tensor x = random_tensor({2, 4, 3}, 8);
  Bidirectional bi(BidirectionalOptions(LSTM(LSTMOptions(2).return_sequences(true))));
  Variable y = bi(Variable(x));
  CHECK(y.shape() == Shape{2, 4, 4});
  CHECK(bi.forward_layer().name() == "forward_lstm");
  CHECK(bi.backward_layer().name() == "backward_lstm");
  CHECK(bi.forward_layer().get_config().at("go_backwards") == "false");
  CHECK(bi.backward_layer().get_config().at("go_backwards") == "true");
  CHECK(bi.forward_layer().get_config().at("zero_output_for_mask") == "true");
  REQUIRE(bi.trainable_variables().size() == 6);
  CHECK(bi.trainable_variables()[0].name() == "bidirectional/forward_lstm/kernel");
  CHECK(bi.trainable_variables()[3].name() == "bidirectional/backward_lstm/kernel");
  std::vector<Tensor> w;
  for (const Tensor& t : bi.get_weights()) w.push_back(random_tensor(shape_of(t), 200 + w.size()));
  bi.set_weights(w);
  y = bi(Variable(x));
  RefRun fr, br;
  fr.return_sequences = br.return_sequences = true;
  br.go_backwards = true;
  Tensor yf = ref_rnn(x, lstm_cell(w[0], w[1], w[2]), 2, 2, fr)[0];
  Tensor yb = ref_rnn(x, lstm_cell(w[3], w[4], w[5]), 2, 2, br)[0];
  yb = xt::flip(yb, 1);  // back in time order
  TF_CHECK_CLOSE(y.value(), Tensor(xt::concatenate(xt::xtuple(yf, yb), 2)));
  CHECK(bi.pretty_print() ==
        "Bidirectional(layer=LSTM(units=2, return_sequences=true), merge_mode=concat)");

  // Masked: zeros at masked steps in both directions (Keras forces zero_output_for_mask).
  Tensor mask = rnn_mask();
  fr.mask = br.mask = &mask;
  fr.zero_output_for_mask = br.zero_output_for_mask = true;
  yf = ref_rnn(x, lstm_cell(w[0], w[1], w[2]), 2, 2, fr)[0];
  yb = xt::flip(ref_rnn(x, lstm_cell(w[3], w[4], w[5]), 2, 2, br)[0], 1);
  TF_CHECK_CLOSE(bi.masked_call(Variable(x), mask).value(),
                 Tensor(xt::concatenate(xt::xtuple(yf, yb), 2)));
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return bi(in[0]); }, {x});
  TF_GRADCHECK_VARIABLES([&] { return bi.masked_call(Variable(x), mask); },
                         bi.trainable_variables());
}

TEST_CASE("Bidirectional: merge modes, states, last outputs") {
  reset_default_graph();
  Tensor x = random_tensor({2, 3, 2}, 9);
  SimpleRNN fwd(SimpleRNNOptions(2));
  SimpleRNN bwd(SimpleRNNOptions(2).go_backwards(true));
  auto wf = randomize(fwd, x, 300);
  auto wb = randomize(bwd, x, 310);
  const Tensor yf = fwd(Variable(x)).value(), yb = bwd(Variable(x)).value();
  std::vector<Tensor> w = wf;
  w.insert(w.end(), wb.begin(), wb.end());
  for (const char* mode : {"concat", "sum", "mul", "ave"}) {
    CAPTURE(mode);
    Bidirectional bi(BidirectionalOptions(SimpleRNN(SimpleRNNOptions(2))).merge_mode(mode));
    bi(Variable(x));
    bi.set_weights(w);
    const std::string m = mode;
    Tensor want = m == "concat" ? Tensor(xt::concatenate(xt::xtuple(yf, yb), 1))
                  : m == "sum"  ? Tensor(yf + yb)
                  : m == "mul"  ? Tensor(yf * yb)
                                : Tensor((yf + yb) / 2.f);
    TF_CHECK_CLOSE(bi(Variable(x)).value(), want);
  }
  // None: the two outputs apart; a single-output call is an Error.
  Bidirectional apart(
      BidirectionalOptions(SimpleRNN(SimpleRNNOptions(2))).merge_mode(std::nullopt));
  auto outs = apart.call_on_list({Variable(x)}, false);
  REQUIRE(outs.size() == 2);
  apart.set_weights(w);
  outs = apart.call_with_state(Variable(x));
  REQUIRE(outs.size() == 4);
  TF_CHECK_CLOSE(outs[0].value(), yf);
  TF_CHECK_CLOSE(outs[1].value(), yb);
  TF_CHECK_CLOSE(outs[2].value(), yf);  // the forward state h
  TF_CHECK_CLOSE(outs[3].value(), yb);
  TF_CHECK_ERROR(apart(Variable(x)), "merge_mode None");
  CHECK(apart.get_config().at("merge_mode") == "None");

  // return_state: the states in a functional call.
  Bidirectional with_state(BidirectionalOptions(LSTM(LSTMOptions(3).return_state(true))));
  auto in = Input({3, 2});
  auto symbolic = with_state.call_symbolic({in});
  REQUIRE(symbolic.size() == 5);  // output, forward h, c, backward h, c
  CHECK(symbolic[0].sample_shape() == Shape{6});
  CHECK(symbolic[4].sample_shape() == Shape{3});
  LSTM alone(LSTMOptions(3).return_state(true));
  auto one = alone.call_symbolic({in});
  CHECK(one.size() == 3);
}

TEST_CASE("Recurrent layers: in a Sequential, Keras' output shapes and parameter counts") {
  reset_default_graph();
  Sequential model;
  model.add<LSTM>(LSTMOptions(4).return_sequences(true));
  model.add<GRU>(GRUOptions(2));
  model.add<Dense>(DenseOptions(1));
  model.build({1, 5, 3});
  const std::string s = model.summary();
  // LSTM: 4 * 4 * (3 + 4 + 1) = 128; GRU (reset_after): 3 * 2 * (4 + 2) + 2 * 3 * 2 = 48.
  CHECK(s.find("lstm (LSTM)                  (None, 5, 4)              128") != std::string::npos);
  CHECK(s.find("gru (GRU)                    (None, 2)                 48") != std::string::npos);
  CHECK(s.find("Total params: 179\n") != std::string::npos);
  CHECK(model(Variable(random_tensor({2, 5, 3}))).shape() == Shape{2, 1});
}

TEST_CASE("Bidirectional: Keras JSON nests the wrapped layer, and Keras 2 and 3 files load") {
  reset_default_graph();
  auto in = Input({3, 2});
  Bidirectional bi(BidirectionalOptions(LSTM(LSTMOptions(2).return_sequences(true))));
  Model model(in, bi(in), "m");
  const auto json = nlohmann::json::parse(serialization::to_json(model));
  const auto& layer = json["config"]["layers"][1]["config"]["layer"];
  CHECK(layer["class_name"] == "LSTM");
  CHECK(layer["config"]["units"] == 2);
  CHECK(layer["config"]["return_sequences"] == true);
  CHECK(layer["config"]["kernel_initializer"]["class_name"] == "GlorotUniform");
  auto back = std::dynamic_pointer_cast<Model>(serialization::model_from_json(json.dump()));
  REQUIRE(back);
  Config got = back->layers()[1]->get_config(), want = bi.get_config();
  got.erase("name");  // the original still holds its name
  want.erase("name");
  CHECK(got == want);

  // What Keras 3 writes for Bidirectional(LSTM(2)) (dtype policies, use_cudnn, nested objects).
  const std::string keras3 = R"({"class_name": "Functional", "config": {"name": "k", "layers": [
    {"class_name": "InputLayer", "config": {"batch_shape": [null, 3, 2], "dtype": "float32",
     "name": "seq"}, "name": "seq", "inbound_nodes": []},
    {"class_name": "Bidirectional", "config": {"name": "bi", "trainable": true,
     "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}},
     "merge_mode": "sum", "layer": {"module": "keras.layers", "class_name": "LSTM", "config": {
       "name": "lstm", "trainable": true,
       "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}},
       "return_sequences": false, "return_state": false, "go_backwards": false,
       "stateful": false, "unroll": false, "zero_output_for_mask": false, "units": 2,
       "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": true,
       "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform",
         "config": {"seed": null}, "registered_name": null},
       "recurrent_initializer": {"module": "keras.initializers", "class_name": "Orthogonal",
         "config": {"gain": 1.0, "seed": null}, "registered_name": null},
       "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros",
         "config": {}, "registered_name": null},
       "unit_forget_bias": true, "kernel_regularizer": null, "recurrent_regularizer": null,
       "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null,
       "recurrent_constraint": null, "bias_constraint": null, "dropout": 0.0,
       "recurrent_dropout": 0.0, "seed": null}, "registered_name": null}},
     "name": "bi", "inbound_nodes": [[["seq", 0, 0, {}]]]}],
    "input_layers": [["seq", 0, 0]], "output_layers": [["bi", 0, 0]]}})";
  auto k = std::dynamic_pointer_cast<Model>(serialization::model_from_json(keras3));
  REQUIRE(k);
  auto* kb = dynamic_cast<Bidirectional*>(k->get_layer("bi").get());
  REQUIRE(kb);
  CHECK(kb->forward_layer().name().rfind("forward_lstm", 0) == 0);  // _2: the graph has two
  CHECK(kb->get_config().at("merge_mode") == "sum");
  CHECK(k->count_params() == 2 * 4 * 2 * (2 + 2 + 1));
  CHECK((*k)(Variable(random_tensor({2, 3, 2}))).shape() == Shape{2, 2});

  // A Keras 2 (tf.keras) LSTM at the top level, with the keys Keras 2 adds.
  const std::string keras2 = R"({"class_name": "Functional", "config": {"name": "k2", "layers": [
    {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3, 2], "name": "seq"},
     "name": "seq", "inbound_nodes": []},
    {"class_name": "LSTM", "config": {"name": "l", "units": 3, "return_sequences": true,
     "implementation": 2, "time_major": false, "unroll": false, "dtype": "float32"},
     "name": "l", "inbound_nodes": [[["seq", 0, 0, {}]]]}],
    "input_layers": [["seq", 0, 0]], "output_layers": [["l", 0, 0]]}})";
  auto k2 = std::dynamic_pointer_cast<Model>(serialization::model_from_json(keras2));
  REQUIRE(k2);
  CHECK((*k2)(Variable(random_tensor({2, 3, 2}))).shape() == Shape{2, 3, 3});
}

TEST_CASE("Recurrent layers: a functional model with initial states in and states out") {
  reset_default_graph();
  Tensor x = random_tensor({2, 3, 2}, 11);
  Tensor h0 = random_tensor({2, 3}, 12), c0 = random_tensor({2, 3}, 13);
  auto seq = Input({3, 2});
  auto h_in = Input({3});
  auto c_in = Input({3});
  auto lstm = std::make_shared<LSTM>(LSTMOptions(3).return_state(true));
  std::vector<SymbolicTensor> outs = lstm->call_symbolic({seq, h_in, c_in});
  REQUIRE(outs.size() == 3);
  Model model({seq, h_in, c_in}, outs, "with_states");
  std::vector<Variable> got = model.call_on_list({Variable(x), Variable(h0), Variable(c0)}, false);
  REQUIRE(got.size() == 3);
  std::vector<Variable> want = lstm->call_with_state(Variable(x), {Variable(h0), Variable(c0)});
  for (std::size_t i = 0; i < 3; ++i) TF_CHECK_CLOSE(got[i].value(), want[i].value());
  // Without return_state the layer has one output, whatever the initial states.
  GRU gru(GRUOptions(3));
  CHECK(gru.call_symbolic({seq, h_in}).size() == 1);
}
