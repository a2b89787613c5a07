#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/archive/text_iarchive.hpp>
#include <boost/archive/text_oarchive.hpp>
#include <boost/archive/xml_iarchive.hpp>
#include <boost/archive/xml_oarchive.hpp>
#include <cstring>
#include <functional>
#include <memory>
#include <sstream>
#include <xtensor/xmath.hpp>

#include "optim/optim_test_util.hpp"
#include "tapeflow/optim/adadelta.hpp"
#include "tapeflow/optim/adagrad.hpp"
#include "tapeflow/optim/adam.hpp"
#include "tapeflow/optim/adamax.hpp"
#include "tapeflow/optim/nadam.hpp"
#include "tapeflow/optim/optimizer.hpp"
#include "tapeflow/optim/rmsprop.hpp"
#include "tapeflow/optim/sgd.hpp"

using namespace tapeflow;
using test::bit_identical;
using namespace tapeflow::optim;

namespace {
Tensor non_neg(const Tensor& t) { return Tensor(xt::maximum(t, 0.f)); }
}  // namespace

TEST_CASE("apply_gradients: the constraint is applied right after the update") {
  SGD opt(SGDOptions().learning_rate(1.0));
  Variable w(Tensor{0.5f, -0.5f}, true, "w");
  Tensor seen;
  int calls = 0;
  w.set_constraint([&](const Tensor& t) {
    seen = t;
    ++calls;
    return non_neg(t);
  });
  opt.apply_gradients({Variable(Tensor{1.f, -1.f})}, {w});
  CHECK(calls == 1);
  TF_CHECK_CLOSE(seen, (Tensor{-0.5f, 0.5f}));  // the updated value, before projection
  TF_CHECK_CLOSE(w.value(), (Tensor{0.f, 0.5f}));
}

TEST_CASE("apply_gradients: a variable without gradient is neither updated nor constrained") {
  Adam opt(AdamOptions().learning_rate(0.1));
  Variable a(Tensor{1.f, 2.f}, true, "a");
  Variable frozen(Tensor{-3.f, -4.f}, true, "frozen");
  int calls = 0;
  frozen.set_constraint([&](const Tensor& t) {
    ++calls;
    return non_neg(t);
  });
  opt.apply_gradients({Variable(Tensor{1.f, 1.f}), Variable()}, {a, frozen});
  opt.apply_gradients({Variable(Tensor{1.f, 1.f}), Variable()}, {a, frozen});
  CHECK(calls == 0);
  TF_CHECK_CLOSE(frozen.value(), (Tensor{-3.f, -4.f}));
  CHECK(a.value()(0) < 1.f);
  TF_CHECK_ERROR(opt.get_slot(frozen, "m"), "Adam.get_slot", "'frozen'", "no slots yet");
  CHECK(opt.variables().size() == 1);
  CHECK(opt.variables()[0].is_same(a));
  CHECK(opt.iterations() == 2);
}

TEST_CASE("apply_gradients: bad lists are errors and change nothing") {
  SGD opt(SGDOptions().learning_rate(0.1).momentum(0.5));
  Variable w(Tensor{1.f, 2.f, 3.f}, true, "w");
  Variable b(Tensor{1.f, 2.f}, true, "b");
  TF_CHECK_ERROR(opt.apply_gradients({Variable(Tensor{1.f, 1.f, 1.f})}, {w, b}),
                 "SGD.apply_gradients", "1 gradients for 2 variables");
  TF_CHECK_ERROR(
      opt.apply_gradients({Variable(Tensor{1.f, 1.f, 1.f}), Variable(Tensor{1.f})}, {w, b}),
      "SGD.apply_gradients", "gradient for variable 'b'", "(1,)", "(2,)");
  TF_CHECK_ERROR(opt.apply_gradients({Variable(), Variable()}, {w, b}), "SGD.apply_gradients",
                 "no gradients provided");
  TF_CHECK_ERROR(opt.apply_gradients(
                     {Variable(Tensor{1.f, 1.f, 1.f}), Variable(Tensor{1.f, 1.f, 1.f})}, {w, w}),
                 "SGD.apply_gradients", "'w'", "more than once");
  TF_CHECK_ERROR(opt.apply_gradients({Variable(Tensor{1.f})}, {Variable()}), "SGD.apply_gradients",
                 "variable #0 is undefined");
  CHECK(opt.iterations() == 0);
  TF_CHECK_CLOSE(w.value(), (Tensor{1.f, 2.f, 3.f}));
  CHECK(opt.variables().empty());
  CHECK_NOTHROW(opt.apply_gradients({}, {}));
  CHECK(opt.iterations() == 0);

  Variable c(Tensor{1.f, 2.f}, true, "c");
  c.set_constraint([](const Tensor& t) { return Tensor(xt::sum(t)); });
  TF_CHECK_ERROR(opt.apply_gradients({Variable(Tensor{1.f, 1.f})}, {c}), "SGD.apply_gradients",
                 "constraint of variable 'c'", "returned shape ()", "(2,)");
}

TEST_CASE("minimize: records its own tape, stores the gradients, returns the loss") {
  SGD opt(SGDOptions().learning_rate(0.25));
  Variable w(Tensor{1.f, -2.f}, true, "w");
  Variable unused(Tensor{5.f}, true, "unused");
  unused.set_grad(Tensor{9.f});
  Variable loss = opt.minimize([&] { return sum(w * w); }, {w, unused});
  CHECK(loss.item() == doctest::Approx(5.0));
  REQUIRE(w.grad().has_value());
  TF_CHECK_CLOSE(*w.grad(), (Tensor{2.f, -4.f}));
  CHECK_FALSE(unused.grad().has_value());
  TF_CHECK_CLOSE(w.value(), (Tensor{0.5f, -1.f}));
  TF_CHECK_CLOSE(unused.value(), (Tensor{5.f}));
  CHECK(opt.iterations() == 1);
  TF_CHECK_ERROR(opt.minimize([] { return Variable(); }, {w}), "SGD.minimize", "undefined");
}

TEST_CASE("step: applies the gradients stored on the variables") {
  SGD opt(SGDOptions().learning_rate(0.5));
  Variable a(Tensor{1.f}, true, "a"), b(Tensor{1.f}, true, "b");
  a.set_grad(Tensor{2.f});
  opt.step({a, b});
  TF_CHECK_CLOSE(a.value(), (Tensor{0.f}));
  TF_CHECK_CLOSE(b.value(), (Tensor{1.f}));
}

TEST_CASE("slots, hyperparameters and the learning rate are visible") {
  Adam opt(AdamOptions().learning_rate(0.01).beta_1(0.8).amsgrad(true));
  Variable w(Tensor{1.f}, true, "w");
  opt.build({w});
  for (const auto& s : opt.slot_names()) TF_CHECK_CLOSE(opt.get_slot(w, s), (Tensor{0.f}));
  auto h = opt.hyperparameters();
  CHECK(h.at("beta_1") == 0.8);
  CHECK(h.at("beta_2") == 0.999);
  CHECK(h.at("amsgrad") == 1.0);
  CHECK(h.count("clipnorm") == 0);
  CHECK(opt.learning_rate() == 0.01f);
  opt.set_learning_rate(0.5);
  CHECK(opt.learning_rate() == 0.5f);
  CHECK(opt.options().learning_rate()(0) == 0.5f);
  TF_CHECK_ERROR(opt.get_slot(Variable(Tensor{1.f}, true, "other"), "m"), "no slots yet");
}

// ---- state save / restore ------------------------------------------------------------------

namespace {

struct Kind {
  std::string name;
  std::function<std::unique_ptr<Optimizer>()> configured;  // non-default options
  std::function<std::unique_ptr<Optimizer>()> fresh;       // default options
};

std::vector<Kind> kinds() {
  using schedules::CosineDecay;
  using schedules::ExponentialDecay;
  return {
      {"SGD",
       [] {
         return std::make_unique<SGD>(SGDOptions()
                                          .learning_rate(ExponentialDecay(0.1, 2, 0.7))
                                          .momentum(0.9)
                                          .nesterov(true)
                                          .clipnorm(3.f));
       },
       [] { return std::make_unique<SGD>(); }},
      {"Adam",
       [] {
         return std::make_unique<Adam>(
             AdamOptions().learning_rate(CosineDecay(0.0, 10, 0.1, 0.05, 2)).amsgrad(true));
       },
       [] { return std::make_unique<Adam>(); }},
      {"AdamW",
       [] {
         return std::make_unique<AdamW>(
             AdamWOptions().learning_rate(0.02).weight_decay(0.1f).global_clipnorm(2.f));
       },
       [] { return std::make_unique<AdamW>(); }},
      {"RMSprop",
       [] {
         return std::make_unique<RMSprop>(
             RMSpropOptions().learning_rate(0.01).momentum(0.5).centered(true).clipvalue(1.f));
       },
       [] { return std::make_unique<RMSprop>(); }},
      {"Adagrad",
       [] {
         return std::make_unique<Adagrad>(
             AdagradOptions().learning_rate(0.1).initial_accumulator_value(0.3));
       },
       [] { return std::make_unique<Adagrad>(); }},
      {"Adadelta",
       [] { return std::make_unique<Adadelta>(AdadeltaOptions().learning_rate(1.0).rho(0.8)); },
       [] { return std::make_unique<Adadelta>(); }},
      {"Adamax",
       [] { return std::make_unique<Adamax>(AdamaxOptions().learning_rate(0.05).beta_1(0.8)); },
       [] { return std::make_unique<Adamax>(); }},
      {"Nadam",
       [] { return std::make_unique<Nadam>(NadamOptions().learning_rate(0.05).beta_2(0.99)); },
       [] { return std::make_unique<Nadam>(); }},
  };
}

struct ToyWeights {
  Variable w, b;
  ToyWeights(const Tensor& w0, const Tensor& b0)
      : w(w0, true, "dense/kernel"), b(b0, true, "dense/bias") {
    w.set_constraint([](const Tensor& t) { return Tensor(xt::clip(t, -1.f, 1.f)); });
  }
  void train(Optimizer& opt, int steps) {
    const Tensor target = {0.3f, -0.7f, 2.f};
    for (int i = 0; i < steps; ++i)
      opt.minimize(
          [&] {
            Variable d = w - Variable(target);
            return sum(d * d * d * d) + sum(b * b * w);
          },
          {w, b});
  }
};

template <class OArchive, class IArchive>
void check_resume(const Kind& kind) {
  const Tensor w0 = {0.9f, -0.2f, 0.4f}, b0 = {0.5f, -1.5f, 0.25f};
  ToyWeights uninterrupted(w0, b0);
  auto opt_a = kind.configured();
  uninterrupted.train(*opt_a, 6);

  ToyWeights first(w0, b0);
  auto opt_b = kind.configured();
  first.train(*opt_b, 3);
  std::stringstream ss;
  {
    OArchive oa(ss);
    opt_b->save_state(oa);
  }
  auto opt_c = kind.fresh();
  {
    IArchive ia(ss);
    opt_c->load_state(ia);
  }
  CHECK(opt_c->iterations() == 3);
  CHECK(opt_c->hyperparameters() == opt_b->hyperparameters());
  CHECK(opt_c->scalar_state() == opt_b->scalar_state());
  CHECK(opt_c->learning_rate() == opt_b->learning_rate());

  ToyWeights resumed(first.w.value(), first.b.value());
  for (const auto& s : opt_b->slot_names())
    CHECK(bit_identical(opt_c->get_slot(resumed.w, s), opt_b->get_slot(first.w, s)));
  resumed.train(*opt_c, 3);
  CHECK_MESSAGE(bit_identical(resumed.w.value(), uninterrupted.w.value()),
                kind.name << ": " << resumed.w.value() << " vs " << uninterrupted.w.value());
  CHECK_MESSAGE(bit_identical(resumed.b.value(), uninterrupted.b.value()),
                kind.name << ": " << resumed.b.value() << " vs " << uninterrupted.b.value());
  // The run must have moved the weights, or the comparison proves nothing.
  CHECK_FALSE(bit_identical(uninterrupted.b.value(), first.b.value()));
}

}  // namespace

TEST_CASE("state: save after 3 steps, restore into a fresh optimizer, continue: bit-identical") {
  for (const auto& kind : kinds()) {
    CAPTURE(kind.name);
    check_resume<boost::archive::binary_oarchive, boost::archive::binary_iarchive>(kind);
    check_resume<boost::archive::text_oarchive, boost::archive::text_iarchive>(kind);
    check_resume<boost::archive::xml_oarchive, boost::archive::xml_iarchive>(kind);
  }
}

TEST_CASE("state: `ar & optimizer` inside a larger archive") {
  Adam opt(AdamOptions().learning_rate(0.05));
  ToyWeights m(Tensor{0.1f, 0.2f, 0.3f}, Tensor{1.f, 1.f, 1.f});
  m.train(opt, 2);
  std::stringstream ss;
  {
    boost::archive::text_oarchive oa(ss);
    int epoch = 7;
    const Optimizer& base = opt;
    oa << epoch << base;
  }
  Adam back;
  {
    boost::archive::text_iarchive ia(ss);
    int epoch = 0;
    Optimizer& base = back;
    ia >> epoch >> base;
    CHECK(epoch == 7);
  }
  CHECK(back.iterations() == 2);
  CHECK(back.learning_rate() == 0.05f);
  CHECK(bit_identical(back.get_slot(m.w, "v"), opt.get_slot(m.w, "v")));
}

TEST_CASE("state: errors") {
  SGD sgd(SGDOptions().momentum(0.5));
  Variable unnamed(Tensor{1.f}, true);
  sgd.apply_gradients({Variable(Tensor{1.f})}, {unnamed});
  std::stringstream ss;
  {
    boost::archive::text_oarchive oa(ss);
    TF_CHECK_ERROR(sgd.save_state(oa), "SGD.save_state", "no name");
  }
  SGD twins(SGDOptions().momentum(0.5));
  Variable a(Tensor{1.f}, true, "same"), b(Tensor{1.f}, true, "same");
  twins.apply_gradients({Variable(Tensor{1.f}), Variable(Tensor{1.f})}, {a, b});
  {
    std::stringstream s2;
    boost::archive::text_oarchive oa(s2);
    TF_CHECK_ERROR(twins.save_state(oa), "SGD.save_state", "'same'", "unique");
  }

  SGD named(SGDOptions().momentum(0.5));
  Variable w(Tensor{1.f, 2.f}, true, "w");
  named.apply_gradients({Variable(Tensor{1.f, 1.f})}, {w});
  std::stringstream s3;
  {
    boost::archive::text_oarchive oa(s3);
    named.save_state(oa);
  }
  const std::string saved = s3.str();
  {
    std::stringstream in(saved);
    boost::archive::text_iarchive ia(in);
    Adam adam;
    TF_CHECK_ERROR(adam.load_state(ia), "Adam.load_state", "'SGD'");
  }
  {
    // Restored slots meet a variable of another shape.
    std::stringstream in(saved);
    boost::archive::text_iarchive ia(in);
    SGD other;
    other.load_state(ia);
    Variable w3(Tensor{1.f, 2.f, 3.f}, true, "w");
    TF_CHECK_ERROR(other.apply_gradients({Variable(Tensor{1.f, 1.f, 1.f})}, {w3}),
                   "SGD.apply_gradients", "slot 'momentum'", "'w'", "(2,)", "(3,)");
  }
}
