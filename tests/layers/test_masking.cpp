#include <cmath>
#include <memory>
#include <optional>

#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/conv.hpp"
#include "tapeflow/layers/dense.hpp"
#include "tapeflow/layers/dropout.hpp"
#include "tapeflow/layers/embedding.hpp"
#include "tapeflow/layers/global_pooling.hpp"
#include "tapeflow/layers/lstm.hpp"
#include "tapeflow/layers/masking.hpp"
#include "tapeflow/layers/model.hpp"
#include "tapeflow/layers/sequential.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;

namespace {
// A sequence (2, 4, 3) whose steps (0, 2), (1, 1) and (1, 3) are all `value`.
Tensor padded_sequence(float value) {
  Tensor x = random_tensor({2, 4, 3}, 1, 1.f, 2.f);
  for (auto [b, t] : {std::pair{0, 2}, std::pair{1, 1}, std::pair{1, 3}})
    for (std::size_t f = 0; f < 3; ++f) x(b, t, f) = value;
  return x;
}
// Its mask.
Tensor padded_mask() { return tapeflow::test::T({2, 4}, {1, 1, 0, 1, 1, 0, 1, 0}); }

// A test layer that takes a mask: the sum over time of the steps that count, and records the
// mask it got (none when called without).
class MaskedSum : public Layer {
 public:
  MaskedSum() : Layer("masked_sum") {}
  std::string class_name() const override { return "MaskedSum"; }
  bool supports_masking() const override { return true; }
  std::optional<Tensor> compute_mask(const Variable&, const std::optional<Tensor>&) const override {
    return std::nullopt;  // the time axis is gone
  }
  std::optional<Tensor> seen;

 protected:
  Variable call(const Variable& x, bool) override {
    seen.reset();
    return sum(x, {1});
  }
  Variable call_masked(const Variable& x, const Tensor& mask, bool) override {
    seen = mask;
    Tensor m = mask;
    m.reshape({mask.shape()[0], mask.shape()[1], 1});
    return sum(mul(x, Variable(m)), {1});
  }
};
}  // namespace

TEST_CASE("Masking: the mask marks the steps not all equal to mask_value, and those become 0") {
  reset_default_graph();
  Masking masking;
  CHECK(masking.name() == "masking");
  const Tensor x = padded_sequence(0.f);
  Variable y = masking(Variable(x));
  TF_CHECK_CLOSE(y.value(), x);  // the masked steps were 0 already
  auto mask = masking.compute_mask(Variable(x), std::nullopt);
  REQUIRE(mask);
  CHECK(*mask == padded_mask());
  // Another value: the masked steps are set to 0, one equal feature is not enough.
  Masking minus(MaskingOptions(-1.f));
  Tensor xm = padded_sequence(-1.f);
  xm(0, 0, 1) = -1.f;
  Variable ym = minus(Variable(xm));
  CHECK(*minus.compute_mask(Variable(xm), std::nullopt) == padded_mask());
  CHECK(ym.value()(0, 2, 0) == 0.f);
  CHECK(ym.value()(0, 0, 1) == -1.f);
  CHECK(ym.value()(1, 3, 2) == 0.f);
  // A NaN feature differs from every value (TF's not_equal).
  Tensor xn = padded_sequence(0.f);
  xn(0, 2, 1) = std::nanf("");
  CHECK((*masking.compute_mask(Variable(xn), std::nullopt))(0, 2) == 1.f);
  // Gradient: the mask, as a constant (a finite difference at a masked step would unmask it:
  // the check runs where no step is masked, and the masked steps are checked directly).
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return minus(in[0]); },
               {random_tensor({2, 3, 2}, 5, 0.f, 1.f)});
  Tensor expected_grad = xt::ones<float>({2, 4, 3});
  for (std::size_t b = 0; b < 2; ++b)
    for (std::size_t t = 0; t < 4; ++t)
      for (std::size_t f = 0; f < 3; ++f) expected_grad(b, t, f) = padded_mask()(b, t);
  TF_CHECK_CLOSE(tapeflow::test::grad_of([&](const Variable& v) { return sum(minus(v)); }, xm),
                 expected_grad);
}

TEST_CASE("Masking: the mask reaches the next layers of a Sequential and a functional model") {
  reset_default_graph();
  auto probe = std::make_shared<MaskedSum>();
  Sequential seq({std::make_shared<Masking>(),
                  std::make_shared<Dense>(DenseOptions(2).kernel_initializer("ones")),
                  std::make_shared<Dropout>(DropoutOptions(0.5f)), probe});
  const Tensor x = padded_sequence(0.f);
  Variable y = seq(Variable(x));
  REQUIRE(probe->seen);  // through Dense and Dropout, which pass it on
  CHECK(*probe->seen == padded_mask());
  CHECK(y.shape() == Shape{2, 2});
  // A layer that does not support masking drops it (Conv1D, valid padding: 4 -> 2 steps).
  auto probe2 = std::make_shared<MaskedSum>();
  auto in = Input({4, 3});
  auto h = (*std::make_shared<Masking>())(in);
  auto c = (*std::make_shared<Conv1D>(Conv1DOptions(2, 3)))(h);
  Model model(in, (*probe2)(c));
  model(Variable(x));
  CHECK_FALSE(probe2->seen);
  // Without Masking, no mask.
  auto probe3 = std::make_shared<MaskedSum>();
  Sequential plain({std::make_shared<Dense>(DenseOptions(2)), probe3});
  plain(Variable(x));
  CHECK_FALSE(probe3->seen);
}

TEST_CASE("masked_call: a layer without masking ignores the mask, and a bad mask is an Error") {
  reset_default_graph();
  Dense dense(DenseOptions(2).name("fc"));
  const Tensor x = random_tensor({2, 4, 3});
  Variable plain = dense(Variable(x));
  TF_CHECK_CLOSE(dense.masked_call(Variable(x), padded_mask()).value(), plain.value());
  CHECK_THROWS_AS(dense.masked_call(Variable(x), Tensor(xt::ones<float>({2, 5}))), ShapeError);
  TF_CHECK_ERROR(dense.masked_call(Variable(x), Tensor(xt::ones<float>({4}))), "fc", "mask",
                 "(2, 4, 3)");
  MaskedSum probe;
  probe.masked_call(Variable(x), padded_mask());
  REQUIRE(probe.seen);
  CHECK(*probe.seen == padded_mask());
}

TEST_CASE("Masking: errors, config, pretty_print") {
  reset_default_graph();
  Masking m(MaskingOptions(-1.f).name("pad"));
  CHECK_THROWS_AS(m(Variable(random_tensor({3}))), ShapeError);
  TF_CHECK_ERROR(m.compute_mask(Variable(random_tensor({3})), std::nullopt), "pad", "rank");
  CHECK(m.get_config()["mask_value"] == "-1");
  CHECK(m.pretty_print() == "Masking(mask_value=-1)");
  CHECK(Masking().get_config()["mask_value"] == "0");
}

TEST_CASE("Embedding: mask_zero makes id 0 padding for the layers after it") {
  reset_default_graph();
  auto probe = std::make_shared<MaskedSum>();
  auto embedding = std::make_shared<Embedding>(EmbeddingOptions(5, 2).mask_zero(true));
  Sequential seq({embedding, probe});
  const Tensor ids = tapeflow::test::T({2, 3}, {1, 0, 4, 0, 0, 2});
  Variable y = seq(Variable(ids));
  REQUIRE(probe->seen);
  CHECK(*probe->seen == tapeflow::test::T({2, 3}, {1, 0, 1, 0, 0, 1}));
  // The sum skips the padding: row 0 sums the vectors of ids 1 and 4.
  const Tensor table = embedding->embeddings().value();
  CHECK(y.value()(0, 0) == doctest::Approx(table(1, 0) + table(4, 0)));
  CHECK(embedding->get_config()["mask_zero"] == "true");
  CHECK_FALSE(Embedding(EmbeddingOptions(5, 2)).compute_mask(Variable(ids), std::nullopt));
}

TEST_CASE("GlobalAveragePooling1D: with a mask, the mean of the steps that count") {
  reset_default_graph();
  const Tensor x = padded_sequence(0.f);
  Sequential seq({std::make_shared<Masking>(), std::make_shared<GlobalAveragePooling1D>()});
  Variable y = seq(Variable(x));
  // Sample 1 counts steps 0 and 2.
  for (std::size_t f = 0; f < 3; ++f)
    CHECK(y.value()(1, f) == doctest::Approx((x(1, 0, f) + x(1, 2, f)) / 2));
  GlobalAveragePooling1D pool;
  TF_CHECK_CLOSE(pool.masked_call(Variable(x), padded_mask()).value(), y.value());
  TF_GRADCHECK(
      [&](const std::vector<Variable>& in) { return pool.masked_call(in[0], padded_mask()); }, {x});
  GlobalAveragePooling1D first(GlobalPoolingOptions().data_format("channels_first"));
  CHECK_THROWS_AS(first.masked_call(Variable(x), padded_mask()), ShapeError);
}

TEST_CASE("Masking before an LSTM in a Sequential: padded steps are skipped") {
  reset_default_graph();
  // A sequence of 3 real steps then 2 padding steps gives what the 3 steps alone give.
  const Tensor full = random_tensor({1, 5, 2}, 21, 0.5f, 1.f);
  Tensor padded = full;
  for (std::size_t t = 3; t < 5; ++t)
    for (std::size_t f = 0; f < 2; ++f) padded(0, t, f) = 0.f;
  auto lstm = std::make_shared<LSTM>(LSTMOptions(3));
  Sequential seq({std::make_shared<Masking>(), lstm});
  const Tensor y = seq(Variable(padded)).value();
  const Tensor prefix = xt::view(full, xt::all(), xt::range(0, 3), xt::all());
  TF_CHECK_CLOSE((*lstm)(Variable(prefix)).value(), y);
  // Without Masking the padding counts.
  CHECK_FALSE(tapeflow::test::allclose((*lstm)(Variable(padded)).value(), y));
}
