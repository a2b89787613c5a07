#include <sstream>

#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/layer.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using layers::Layer;

namespace {
// A test layer: y = x * scale (+ offset), scale of shape (channels,), offset a frozen weight. Its
// options are declared once, as a library layer's: config and printed form follow from them.
#define SCALE_FIELDS(F)                     \
  F(Initializer, scale_initializer, "ones") \
  F(Regularizer, scale_regularizer, {})     \
  F(Constraint, scale_constraint, {})       \
  F(bool, use_offset, false)

struct ScaleOptions : layers::LayerOptionsBase<ScaleOptions> {
  TAPEFLOW_DERIVED_FIELDS(ScaleOptions, LayerOptionsBase, SCALE_FIELDS)
  static constexpr layers::PrintedFields printed{"use_offset"};
};

class Scale : public layers::LayerWith<ScaleOptions> {
 public:
  explicit Scale(const ScaleOptions& o = {}) : LayerWith("scale", o) {
    set_input_spec({.min_ndim = 2});
  }
  std::string class_name() const override { return "Scale"; }
  int builds = 0;
  Variable scale, offset;

 protected:
  void build(const Shape& s) override {
    ++builds;
    scale = add_weight("scale", {s.back()}, options_.scale_initializer(),
                       options_.scale_regularizer(), options_.scale_constraint());
    if (options_.use_offset())
      offset = add_weight("offset", {s.back()}, "zeros", {}, {}, /*trainable=*/false);
  }
  Variable call(const Variable& x, bool) override {
    check_input_compatible(x.shape(), -1);
    Variable y = x * scale;
    return options_.use_offset() ? y + offset : y;
  }
};

std::vector<std::string> names(const std::vector<Variable>& vs) {
  std::vector<std::string> out;
  for (const auto& v : vs) out.push_back(v.name());
  return out;
}
}  // namespace

TEST_CASE("builds on the first call only, weights named <scope>/<name>, collections") {
  reset_default_graph();
  Scale s;
  CHECK(s.name() == "scale");
  CHECK_FALSE(s.built());
  CHECK(s.variables().empty());
  TF_CHECK_ERROR(s.scope_name(), "scale", "scope_name");
  TF_CHECK_ERROR(s.count_params(), "scale", "count_params", "not built");
  TF_CHECK_ERROR(s.input_shape(), "scale", "input_shape");

  Variable x(Tensor{{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}});
  Variable y = s(x);
  TF_CHECK_CLOSE(y.value(), x.value());  // ones
  CHECK(s.built());
  CHECK(s.builds == 1);
  CHECK(s.scope_name() == "scale");
  CHECK(s.input_shape() == Shape{2, 3});
  CHECK(names(s.variables()) == std::vector<std::string>{"scale/scale"});
  CHECK(s.scale.trainable());
  s(x);
  CHECK(s.builds == 1);
  CHECK(s.variables().size() == 1);
  CHECK(s.count_params() == 3);
  CHECK(s.graph() == get_default_graph());

  auto g = get_default_graph();
  CHECK(names(g.get_collection(GraphKeys::GLOBAL_VARIABLES)) ==
        std::vector<std::string>{"scale/scale"});
  CHECK(names(g.get_collection(GraphKeys::TRAINABLE_VARIABLES)) ==
        std::vector<std::string>{"scale/scale"});

  // A weight's gradient flows through the call.
  GradientTape tape;
  Variable loss = sum(s(x));
  auto grad = tape.gradient(loss, s.trainable_variables());
  TF_CHECK_CLOSE(grad[0].value(), (Tensor{5.f, 7.f, 9.f}));
}

TEST_CASE("unique names per graph, explicit names, name scopes, scoped graphs") {
  reset_default_graph();
  Scale a, b, c(ScaleOptions().name("scale")), d(ScaleOptions().name("mine"));
  Scale e(ScaleOptions().name("mine"));
  CHECK(a.name() == "scale");
  CHECK(b.name() == "scale_1");
  CHECK(c.name() == "scale_2");
  CHECK(d.name() == "mine");
  CHECK(e.name() == "mine_1");
  Variable x(Tensor{{1.f, 2.f}});
  {
    auto ns = name_scope("block");
    b(x);
  }
  CHECK(b.scope_name() == "block/scale_1");
  CHECK(b.scale.name() == "block/scale_1/scale");
  CHECK(get_default_graph().get_collection(GraphKeys::GLOBAL_VARIABLES, "block").size() == 1);

  Graph g;
  {
    auto as_default = g.as_default();
    Scale other;
    CHECK(other.name() == "scale");  // a fresh namespace
    CHECK(other.graph() == g);
    other(x);
    CHECK(g.collection_size(GraphKeys::GLOBAL_VARIABLES) == 1);
  }
  CHECK(get_default_graph().collection_size(GraphKeys::GLOBAL_VARIABLES) == 1);
  TF_CHECK_ERROR(Scale(ScaleOptions().name("a/b")), "a/b", "'/'");
}

TEST_CASE("trainable=false keeps weights out of TRAINABLE_VARIABLES, in GLOBAL_VARIABLES") {
  reset_default_graph();
  Scale frozen(ScaleOptions().trainable(false));
  Scale mixed(ScaleOptions().use_offset(true));
  Variable x(Tensor{{1.f, 2.f}});
  frozen(x);
  mixed(x);
  auto g = get_default_graph();
  CHECK(names(g.get_collection(GraphKeys::GLOBAL_VARIABLES)) ==
        std::vector<std::string>{"scale/scale", "scale_1/scale", "scale_1/offset"});
  CHECK(names(g.get_collection(GraphKeys::TRAINABLE_VARIABLES)) ==
        std::vector<std::string>{"scale_1/scale"});
  CHECK_FALSE(frozen.trainable());
  CHECK(frozen.trainable_variables().empty());
  CHECK(names(frozen.non_trainable_variables()) == std::vector<std::string>{"scale/scale"});
  CHECK_FALSE(frozen.scale.trainable());
  CHECK(names(mixed.trainable_variables()) == std::vector<std::string>{"scale_1/scale"});
  CHECK(names(mixed.non_trainable_variables()) == std::vector<std::string>{"scale_1/offset"});
  CHECK(mixed.count_params() == 4);

  // Freezing / unfreezing after the build updates flags and the collection; a weight created
  // non-trainable stays frozen.
  mixed.set_trainable(false);
  CHECK(mixed.trainable_variables().empty());
  CHECK_FALSE(mixed.scale.trainable());
  CHECK(g.get_collection(GraphKeys::TRAINABLE_VARIABLES).empty());
  frozen.set_trainable(true);
  mixed.set_trainable(true);
  CHECK(names(g.get_collection(GraphKeys::TRAINABLE_VARIABLES)) ==
        std::vector<std::string>{"scale/scale", "scale_1/scale"});
  CHECK(frozen.scale.trainable());
  CHECK_FALSE(mixed.offset.trainable());
}

TEST_CASE("weight regularizer: registered once at creation, evaluated on current values") {
  reset_default_graph();
  Scale s(ScaleOptions()
              .scale_initializer(initializers::constant(2.f))
              .scale_regularizer(regularizers::l2(0.1f)));
  CHECK(s.losses().empty());
  Variable x(Tensor{{1.f, 1.f, 1.f}});
  s(x);
  s(x);
  auto g = get_default_graph();
  CHECK(g.collection_size(GraphKeys::REGULARIZATION_LOSSES) == 1);  // not once per call
  REQUIRE(s.losses().size() == 1);
  CHECK(s.losses()[0].item() == doctest::Approx(0.1 * 12));
  CHECK(get_regularization_loss().item() == doctest::Approx(1.2));
  s.scale.assign(Tensor{1.f, 1.f, 1.f});
  CHECK(s.losses()[0].item() == doctest::Approx(0.3));
  CHECK(get_regularization_loss().item() == doctest::Approx(0.3));
  // Recorded on the tape: d/dscale 0.1 * sum(scale^2) = 0.2 * scale.
  GradientTape tape;
  auto grad = tape.gradient(get_regularization_loss(), {s.scale});
  TF_CHECK_CLOSE(grad[0].value(), (Tensor{0.2f, 0.2f, 0.2f}));
  CHECK(get_regularization_losses("scale/scale").size() == 1);
}

TEST_CASE("constraint is stored on the variable, not applied at creation") {
  reset_default_graph();
  Scale s(ScaleOptions()
              .scale_initializer(initializers::constant(3.f))
              .scale_constraint(constraints::max_norm(1.f)));
  s(Variable(Tensor{{1.f, 1.f}}));
  TF_CHECK_CLOSE(s.scale.value(), (Tensor{3.f, 3.f}));
  REQUIRE(static_cast<bool>(s.scale.constraint()));
  // axis 0 of a 1-D weight: the whole vector, norm 3*sqrt(2) -> 1.
  TF_CHECK_CLOSE(s.scale.constraint()(s.scale.value()),
                 (Tensor{1.f / std::sqrt(2.f), 1.f / std::sqrt(2.f)}), 1e-6f);
  Scale plain;
  plain(Variable(Tensor{{1.f, 2.f}}));
  CHECK_FALSE(static_cast<bool>(plain.scale.constraint()));
}

TEST_CASE("activity regularizer: reg(output) / batch per call") {
  reset_default_graph();
  Scale s(ScaleOptions()
              .activity_regularizer(regularizers::l1(0.5f))
              .scale_initializer(initializers::constant(2.f)));
  Variable x(Tensor{{1.f, -1.f}, {2.f, 0.f}});  // y = 2x, sum|y| = 8, batch 2
  s(x);
  REQUIRE(s.losses().size() == 1);
  CHECK(s.losses()[0].item() == doctest::Approx(0.5 * 8 / 2));
  auto g = get_default_graph();
  CHECK(g.collection_size(GraphKeys::REGULARIZATION_LOSSES) == 1);
  CHECK(get_regularization_loss().item() == doctest::Approx(2.0));

  // The next top-level call replaces the activity loss (no stale losses pile up).
  s(Variable(Tensor{{1.f, 1.f}}));  // sum|y| = 4, batch 1
  REQUIRE(s.losses().size() == 1);
  CHECK(s.losses()[0].item() == doctest::Approx(2.0));
  CHECK(g.collection_size(GraphKeys::REGULARIZATION_LOSSES) == 1);
  CHECK(get_regularization_loss().item() == doctest::Approx(2.0));

  // Gradient of the activity loss reaches the weight through the recorded call.
  GradientTape tape;
  s(x);
  auto grad = tape.gradient(get_regularization_loss(), {s.scale});
  // d/dscale 0.5 * sum|x * scale| / 2 = 0.25 * sum|x| over the batch = (0.75, 0.25)
  TF_CHECK_CLOSE(grad[0].value(), (Tensor{0.75f, 0.25f}));
  CHECK(s.get_config().at("activity_regularizer") == "l1(l1=0.5)");
}

namespace {
// A layer calling an inner layer twice inside one call: both activity losses are kept.
class Twice : public Layer {
 public:
  explicit Twice(Scale& inner) : Layer("twice"), inner_(inner) {}
  std::string class_name() const override { return "Twice"; }

 protected:
  Variable call(const Variable& x, bool training) override {
    return inner_(x, training) + inner_(x, training);
  }

 private:
  Scale& inner_;
};
}  // namespace

TEST_CASE("activity losses of nested calls accumulate within one outer call") {
  reset_default_graph();
  Scale inner(ScaleOptions().activity_regularizer("l1"));
  Twice outer(inner);
  Variable x(Tensor{{1.f, 2.f}});
  outer(x);
  CHECK(inner.losses().size() == 2);
  outer(x);
  CHECK(inner.losses().size() == 2);
  CHECK(get_regularization_loss().item() == doctest::Approx(2 * 0.01 * 3));
  CHECK(outer.count_params() == 0);
}

TEST_CASE("bad input: rank spec, channel change, bad initializer shape, duplicate weight") {
  reset_default_graph();
  Scale s;
  TF_CHECK_ERROR(s(Variable(Tensor{1.f, 2.f})), "scale", "rank >= 2", "(2,)");
  CHECK_FALSE(s.built());
  s(Variable(Tensor{{1.f, 2.f}}));
  TF_CHECK_ERROR(s(Variable(Tensor{{1.f, 2.f, 3.f}})), "scale", "3 channels", "built for 2",
                 "(1, 3)", "(1, 2)");
  TF_CHECK_ERROR(s(Variable()), "scale", "undefined");

  // An initializer returning another shape: the layer, the weight and both shapes are named.
  Scale bad(ScaleOptions().scale_initializer([](const Shape&) {
    return Tensor(xt::zeros<float>({2, 2}));
  }));
  TF_CHECK_ERROR(bad(Variable(Tensor{{1.f, 2.f, 3.f}})), "scale_1: weight 'scale'", "(2, 2)",
                 "(3,)");
  CHECK_FALSE(bad.built());
  CHECK(bad.variables().empty());
  // The failed build left nothing behind, and a later good build works.
  CHECK(get_default_graph().collection_size(GraphKeys::GLOBAL_VARIABLES) == 1);
}

namespace {
class Dup : public Layer {
 public:
  Dup() : Layer("dup") {}
  std::string class_name() const override { return "Dup"; }
  Variable w;

 protected:
  void build(const Shape&) override {
    w = add_weight("w", {2}, "ones", "l2");
    add_weight("w", {2}, "ones");
  }
  Variable call(const Variable& x, bool) override { return x; }
};
class Early : public Layer {
 public:
  Early() : Layer("early") { add_weight("w", {1}); }
  std::string class_name() const override { return "Early"; }

 protected:
  Variable call(const Variable& x, bool) override { return x; }
};
}  // namespace

TEST_CASE("a failing build is rolled back, add_weight only from build") {
  reset_default_graph();
  Dup d;
  TF_CHECK_ERROR(d(Variable(Tensor{1.f})), "dup", "already has a weight named 'w'");
  auto g = get_default_graph();
  CHECK(g.collection_size(GraphKeys::GLOBAL_VARIABLES) == 0);
  CHECK(g.collection_size(GraphKeys::TRAINABLE_VARIABLES) == 0);
  CHECK(g.collection_size(GraphKeys::REGULARIZATION_LOSSES) == 0);
  CHECK(d.losses().empty());
  TF_CHECK_ERROR(Early(), "early", "add_weight('w')", "build");
}

TEST_CASE("get_weights / set_weights") {
  reset_default_graph();
  Scale s(ScaleOptions().use_offset(true));
  s(Variable(Tensor{{1.f, 2.f}}));
  auto w = s.get_weights();
  REQUIRE(w.size() == 2);
  s.set_weights({Tensor{2.f, 3.f}, Tensor{1.f, 1.f}});
  TF_CHECK_CLOSE(s(Variable(Tensor{{1.f, 2.f}})).value(), (Tensor{{3.f, 7.f}}));
  TF_CHECK_ERROR(s.set_weights({Tensor{1.f}}), "scale", "set_weights", "2 weights", "1 values");
  TF_CHECK_ERROR(s.set_weights({Tensor{1.f}, Tensor{1.f, 1.f}}), "scale", "scale/scale", "(2,)",
                 "(1,)");
}

TEST_CASE("get_config and pretty_print") {
  reset_default_graph();
  Scale s(ScaleOptions().name("sc").trainable(false));
  CHECK(s.get_config() == Config{{"name", "sc"},
                                 {"trainable", "false"},
                                 {"scale_initializer", "ones()"},
                                 {"scale_regularizer", "None"},
                                 {"scale_constraint", "None"},
                                 {"use_offset", "false"}});
  CHECK(s.pretty_print() == "Scale(use_offset=false)");
  std::ostringstream os;
  os << s;
  CHECK(os.str() == "Scale(use_offset=false)");
  Twice t(s);
  CHECK(t.pretty_print() == "Twice()");
  CHECK(t.get_config() == Config{{"name", "twice"}, {"trainable", "true"}});
}

TEST_CASE("options: chainable setters and getters") {
  auto o = ScaleOptions().name("n").trainable(false).use_offset(true).activity_regularizer("l2");
  CHECK(o.name() == "n");
  CHECK_FALSE(o.trainable());
  CHECK(o.use_offset());
  CHECK(o.activity_regularizer().name() == "l2");
  CHECK(o.common().name() == "n");
  CHECK(o.scale_initializer().name() == "ones");
}
