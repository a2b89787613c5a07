#include <algorithm>
#include <functional>
#include <memory>

#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/merge.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;

namespace {
// A (2, 1) column (xtensor's {{a}, {b}} is ambiguous).
Tensor column(float a, float b) {
  Tensor t = {a, b};
  t.reshape({2, 1});
  return t;
}
}  // namespace

TEST_CASE("Add: sums the inputs, broadcasting axes of size 1") {
  reset_default_graph();
  Add add;
  CHECK(add.name() == "add");
  Variable a(Tensor{{1.f, 2.f}, {3.f, 4.f}});
  Variable b(Tensor{{10.f, 20.f}, {30.f, 40.f}});
  Variable c(Tensor{{100.f, 200.f}, {300.f, 400.f}});
  TF_CHECK_CLOSE(add({a, b}).value(), (Tensor{{11.f, 22.f}, {33.f, 44.f}}));
  TF_CHECK_CLOSE(add({a, b, c}).value(), (Tensor{{111.f, 222.f}, {333.f, 444.f}}));
  Variable col(column(1.f, 2.f));
  TF_CHECK_CLOSE(add({a, col}).value(), (Tensor{{2.f, 3.f}, {5.f, 6.f}}));
  CHECK(add.variables().empty());
  CHECK(add.input_shape() == Shape{2, 2});
}

TEST_CASE("Add: gradcheck of every input") {
  reset_default_graph();
  Add add;
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return add(in); },
               {random_tensor({2, 3}, 1), random_tensor({2, 3}, 2), random_tensor({2, 1}, 3)});
}

TEST_CASE("Add: bad input errors") {
  reset_default_graph();
  Add add(AddOptions().name("sum"));
  Variable a(random_tensor({2, 3}));
  TF_CHECK_ERROR(add(std::vector<Variable>{a}), "sum", "at least 2 inputs", "got 1");
  TF_CHECK_ERROR(add(a), "sum", "list of inputs");
  TF_CHECK_ERROR(add({a, Variable(random_tensor({2, 4}))}), "sum", "incompatible", "(2, 3)",
                 "(2, 4)");
  TF_CHECK_ERROR(add({a, Variable(random_tensor({3, 3}))}), "sum", "batch sizes");
  TF_CHECK_ERROR(add({a, Variable(random_tensor({2, 3, 1}))}), "sum", "same rank");
  TF_CHECK_ERROR(add({a, Variable()}), "sum", "input 1", "undefined");
  CHECK_FALSE(add.built());
}

TEST_CASE("Add: activity regularizer applies to the sum") {
  reset_default_graph();
  Add add(AddOptions().activity_regularizer(regularizers::l1(1.f)));
  add({Variable(Tensor{{1.f, -2.f}}), Variable(Tensor{{1.f, -1.f}})});
  REQUIRE(add.losses().size() == 1);
  CHECK(add.losses()[0].item() == doctest::Approx(5.f));  // |2| + |-3|, batch 1
  CHECK(add.pretty_print() == "Add()");
}

TEST_CASE("Concatenate: joins along the axis") {
  reset_default_graph();
  Concatenate cat;
  CHECK(cat.name() == "concatenate");
  Variable a(Tensor{{1.f, 2.f}, {3.f, 4.f}});
  Variable b(column(5.f, 6.f));
  Variable y = cat({a, b});
  CHECK(y.shape() == Shape{2, 3});
  TF_CHECK_CLOSE(y.value(), (Tensor{{1.f, 2.f, 5.f}, {3.f, 4.f, 6.f}}));
  Concatenate rows(ConcatenateOptions().axis(0));
  Variable r = rows({a, Variable(Tensor{{7.f, 8.f}})});
  TF_CHECK_CLOSE(r.value(), (Tensor{{1.f, 2.f}, {3.f, 4.f}, {7.f, 8.f}}));
  Concatenate mid(ConcatenateOptions().axis(1));
  CHECK(mid({Variable(random_tensor({2, 3, 4})), Variable(random_tensor({2, 1, 4})),
             Variable(random_tensor({2, 2, 4}))})
            .shape() == Shape{2, 6, 4});
}

TEST_CASE("Concatenate: gradcheck of every input") {
  reset_default_graph();
  Concatenate cat(ConcatenateOptions().axis(1));
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return cat(in); },
               {random_tensor({2, 1, 2}, 1), random_tensor({2, 3, 2}, 2)});
}

TEST_CASE("Concatenate: bad input errors, config, pretty_print") {
  reset_default_graph();
  Concatenate cat(ConcatenateOptions().name("cat"));
  Variable a(random_tensor({2, 3}));
  TF_CHECK_ERROR(cat({a, Variable(random_tensor({3, 3}))}), "cat", "matching shapes", "(2, 3)",
                 "(3, 3)");
  TF_CHECK_ERROR(cat({a, Variable(random_tensor({2, 3, 1}))}), "cat", "same rank");
  Concatenate bad(ConcatenateOptions().axis(2).name("bad"));
  TF_CHECK_ERROR(bad({a, a}), "bad", "axis 2", "out of range");
  TF_CHECK_ERROR(cat(a), "cat", "list of inputs");
  Concatenate c(ConcatenateOptions().axis(1));
  CHECK(c.get_config()["axis"] == "1");
  CHECK(c.pretty_print() == "Concatenate(axis=1)");
}

namespace {
// The elementwise merges against an independent definition: element (i, j) of the result from
// the inputs' elements, with (2, 1) inputs broadcast along axis 1.
struct ElementwiseCase {
  std::string name;
  std::function<std::shared_ptr<Merge>()> make;
  std::function<float(const std::vector<float>&)> define;
};

std::vector<ElementwiseCase> elementwise_cases() {
  auto fold = [](auto op) {
    return [op](const std::vector<float>& v) {
      float r = v[0];
      for (std::size_t i = 1; i < v.size(); ++i) r = op(r, v[i]);
      return r;
    };
  };
  return {
      {"add", [] { return std::make_shared<Add>(); }, fold(std::plus<float>())},
      {"multiply", [] { return std::make_shared<Multiply>(); }, fold(std::multiplies<float>())},
      {"average", [] { return std::make_shared<Average>(); },
       [](const std::vector<float>& v) {
         float s = 0.f;
         for (float x : v) s += x;
         return s / static_cast<float>(v.size());
       }},
      {"maximum", [] { return std::make_shared<Maximum>(); },
       fold([](float a, float b) { return std::max(a, b); })},
      {"minimum", [] { return std::make_shared<Minimum>(); },
       fold([](float a, float b) { return std::min(a, b); })},
  };
}
}  // namespace

TEST_CASE("Multiply, Average, Maximum, Minimum: values against a direct definition") {
  reset_default_graph();
  const std::vector<Tensor> xs{random_tensor({2, 3}, 1), random_tensor({2, 3}, 2),
                               random_tensor({2, 1}, 3)};
  for (const auto& c : elementwise_cases()) {
    CAPTURE(c.name);
    auto layer = c.make();
    CHECK(layer->name() == c.name);
    for (std::size_t n : {2u, 3u}) {
      std::vector<Variable> in(xs.begin(), xs.begin() + static_cast<long>(n));
      Tensor y = (*layer)(in).value();
      REQUIRE(y.shape() == Shape{2, 3});
      for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t j = 0; j < 3; ++j) {
          std::vector<float> v;
          for (std::size_t k = 0; k < n; ++k) v.push_back(xs[k](i, xs[k].shape()[1] == 1 ? 0 : j));
          CHECK(y(i, j) == doctest::Approx(c.define(v)).epsilon(1e-6));
        }
    }
    CHECK(layer->variables().empty());
    CHECK(layer->get_config().count("name") == 1);
  }
}

TEST_CASE("Subtract: a - b for exactly two inputs") {
  reset_default_graph();
  Subtract sub;
  CHECK(sub.name() == "subtract");
  Variable a(Tensor{{1.f, 2.f}, {3.f, 4.f}});
  TF_CHECK_CLOSE(sub({a, Variable(column(1.f, 10.f))}).value(), (Tensor{{0.f, 1.f}, {-7.f, -6.f}}));
  TF_CHECK_ERROR(sub({a, a, a}), "subtract", "exactly 2 inputs", "got 3");
  CHECK_THROWS_AS(sub({a, a, a}), ValueError);
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return sub(in); },
               {random_tensor({2, 3}, 4), random_tensor({2, 1}, 5)});
  CHECK(sub.pretty_print() == "Subtract()");
}

TEST_CASE("Multiply, Average, Maximum, Minimum: gradcheck of every input") {
  reset_default_graph();
  // distinct values: no ties, where the max/min gradient jumps
  const std::vector<Tensor> xs{random_tensor({2, 3}, 6), random_tensor({2, 3}, 7) + 0.01f,
                               random_tensor({2, 1}, 8) - 0.02f};
  for (const auto& c : elementwise_cases()) {
    CAPTURE(c.name);
    auto layer = c.make();
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return (*layer)(in); }, xs);
  }
}

TEST_CASE("Maximum and Minimum: ties send the gradient to the first input, as TF") {
  reset_default_graph();
  Variable a(Tensor{{1.f, 2.f}}), b(Tensor{{1.f, 3.f}});
  for (bool is_max : {true, false}) {
    CAPTURE(is_max);
    std::shared_ptr<Merge> layer = is_max ? std::shared_ptr<Merge>(std::make_shared<Maximum>())
                                          : std::shared_ptr<Merge>(std::make_shared<Minimum>());
    GradientTape tape;
    tape.watch(a);
    tape.watch(b);
    Variable y = (*layer)({a, b});
    auto g = tape.gradient(sum(y), {a, b});
    TF_CHECK_CLOSE(g[0].value(), (Tensor{{1.f, is_max ? 0.f : 1.f}}));
    TF_CHECK_CLOSE(g[1].value(), (Tensor{{0.f, is_max ? 1.f : 0.f}}));
  }
}

TEST_CASE("elementwise merges: shape errors name the layer and are ShapeErrors") {
  reset_default_graph();
  Variable a(random_tensor({2, 3}));
  for (const auto& c : elementwise_cases()) {
    CAPTURE(c.name);
    auto layer = c.make();
    TF_CHECK_ERROR((*layer)({a, Variable(random_tensor({2, 4}))}), c.name.c_str(), "incompatible");
    CHECK_THROWS_AS((*layer)({a, Variable(random_tensor({3, 3}))}), ShapeError);
    TF_CHECK_ERROR((*layer)(a), c.name.c_str(), "list of inputs");
    CHECK_FALSE(layer->built());
  }
}

namespace {
// Keras' batch_dot written out: sample by sample, the sum over k of
// a[b, ..(k at axis a1).., ] * c[b, ..(k at axis a2)..], the result's axes a's other axes
// then c's other axes (a result of the batch axis alone gets an axis of size 1).
Tensor batch_dot_reference(const Tensor& a, const Tensor& c, std::size_t a1, std::size_t a2) {
  const Shape sa(a.shape().begin(), a.shape().end()), sc(c.shape().begin(), c.shape().end());
  Shape out{sa[0]}, rest_a, rest_c;
  for (std::size_t i = 1; i < sa.size(); ++i)
    if (i != a1) rest_a.push_back(i);
  for (std::size_t i = 1; i < sc.size(); ++i)
    if (i != a2) rest_c.push_back(i);
  for (auto i : rest_a) out.push_back(sa[i]);
  for (auto i : rest_c) out.push_back(sc[i]);
  if (out.size() == 1) out.push_back(1);
  Tensor y = xt::zeros<float>(out);
  std::vector<std::size_t> ia(sa.size()), ic(sc.size());
  for (std::size_t flat = 0; flat < y.size(); ++flat) {
    // The output index, then the inputs' indices without the contracted axes.
    std::vector<std::size_t> oi(out.size());
    std::size_t r = flat;
    for (std::size_t d = out.size(); d-- > 0;) {
      oi[d] = r % out[d];
      r /= out[d];
    }
    ia[0] = ic[0] = oi[0];
    for (std::size_t k = 0; k < rest_a.size(); ++k) ia[rest_a[k]] = oi[1 + k];
    for (std::size_t k = 0; k < rest_c.size(); ++k) ic[rest_c[k]] = oi[1 + rest_a.size() + k];
    double s = 0;
    for (std::size_t k = 0; k < sa[a1]; ++k) {
      ia[a1] = k;
      ic[a2] = k;
      s += double(a.element(ia.begin(), ia.end())) * c.element(ic.begin(), ic.end());
    }
    y.flat(flat) = float(s);
  }
  return y;
}

// x divided by its L2 norm along `axis`.
Tensor l2_normalized(const Tensor& x, std::size_t axis) {
  Tensor norm = xt::sqrt(xt::sum(x * x, {axis}, xt::keep_dims));
  return x / norm;
}
}  // namespace

TEST_CASE("Dot: Keras' examples and batch_dot against a direct definition") {
  reset_default_graph();
  // Keras' docstring: x arange(10) as (1, 5, 2), y arange(10, 20) as (1, 2, 5), axes (1, 2).
  Dot dot(DotOptions({1, 2}));
  CHECK(dot.name() == "dot");
  Variable y = dot(
      {Variable(tapeflow::test::iota({1, 5, 2})), Variable(tapeflow::test::iota({1, 2, 5}, 10.f))});
  TF_CHECK_CLOSE(y.value(), tapeflow::test::T({1, 2, 2}, {260, 360, 320, 445}));
  // (batch, n) . (batch, n) -> (batch, 1)
  const Tensor a = random_tensor({3, 4}, 1), b = random_tensor({3, 4}, 2);
  Variable d = Dot(DotOptions(1))({Variable(a), Variable(b)});
  CHECK(d.shape() == Shape{3, 1});
  TF_CHECK_CLOSE(d.value(), batch_dot_reference(a, b, 1, 1));
  // Negative axes count from each input's end; rank 3 with rank 4.
  const Tensor p = random_tensor({2, 3, 4}, 3), q = random_tensor({2, 5, 4, 2}, 4);
  Variable pq = Dot(DotOptions({-1, 2}))({Variable(p), Variable(q)});
  CHECK(pq.shape() == Shape{2, 3, 5, 2});
  TF_CHECK_CLOSE(pq.value(), batch_dot_reference(p, q, 2, 2));
  Variable same = Dot(DotOptions(-1))({Variable(p), Variable(random_tensor({2, 6, 4}, 5))});
  CHECK(same.shape() == Shape{2, 3, 6});
}

TEST_CASE("Dot: normalize gives the cosine similarity") {
  reset_default_graph();
  const Tensor a = random_tensor({2, 3, 4}, 6), b = random_tensor({2, 3, 5}, 7);
  Variable y = Dot(DotOptions(1).normalize(true))({Variable(a), Variable(b)});
  TF_CHECK_CLOSE(y.value(), batch_dot_reference(l2_normalized(a, 1), l2_normalized(b, 1), 1, 1));
  // A vector with itself: 1.
  Variable self = Dot(DotOptions(1).normalize(true))({Variable(a), Variable(a)});
  for (std::size_t s = 0; s < 2; ++s)
    for (std::size_t i = 0; i < 4; ++i) CHECK(self.value()(s, i, i) == doctest::Approx(1.f));
  // A zero sample gives 0, with a finite gradient (the norm is at least 1e-7).
  Variable zero(Tensor(xt::zeros<float>({1, 3})), true);
  GradientTape tape;
  Variable z = Dot(DotOptions(1).normalize(true))({zero, Variable(random_tensor({1, 3}, 8))});
  CHECK(z.value()(0, 0) == 0.f);
  CHECK(tapeflow::test::all_finite(tape.gradient(z, {zero})[0].value()));
}

TEST_CASE("Dot: gradcheck of both inputs, with and without normalize") {
  reset_default_graph();
  for (bool normalize : {false, true}) {
    Dot dot(DotOptions({2, 1}).normalize(normalize));
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return dot(in); },
                 {random_tensor({2, 3, 4}, 9), random_tensor({2, 4, 2}, 10)});
  }
}

TEST_CASE("Dot: errors, config, pretty_print") {
  reset_default_graph();
  const Variable a(random_tensor({2, 3}, 1)), b(random_tensor({2, 4}, 2));
  TF_CHECK_ERROR(Dot(DotOptions()), "dot", "axes");
  TF_CHECK_ERROR(Dot(DotOptions({1, 1, 1})), "dot", "axes");
  CHECK_THROWS_AS(Dot(DotOptions(1))({a, b}), ShapeError);
  TF_CHECK_ERROR(Dot(DotOptions(1))({a, b}), "dot", "axis values 3", "4");
  TF_CHECK_ERROR(Dot(DotOptions(1))({a, a, a}), "dot", "exactly 2 inputs");
  CHECK_THROWS_AS(Dot(DotOptions(1))({a, a, a}), ValueError);
  TF_CHECK_ERROR(Dot(DotOptions(0))({a, a}), "dot", "batch axis");
  TF_CHECK_ERROR(Dot(DotOptions(2))({a, a}), "dot", "out of range");
  CHECK_THROWS_AS(Dot(DotOptions(-3))({a, a}), ShapeError);
  TF_CHECK_ERROR(Dot(DotOptions(1))({a, Variable(random_tensor({3, 3}, 3))}), "dot", "batch sizes");
  TF_CHECK_ERROR(Dot(DotOptions(1))(a), "dot", "list");
  Dot dot(DotOptions({2, 1}).normalize(true));
  CHECK(dot.get_config()["axes"] == "(2, 1)");
  CHECK(dot.get_config()["normalize"] == "true");
  CHECK(dot.pretty_print() == "Dot(axes=(2, 1), normalize=true)");
  CHECK(Dot(DotOptions(-1)).pretty_print() == "Dot(axes=-1)");
}
