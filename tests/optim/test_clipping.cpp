#include <cmath>
#include <limits>

#include "tapeflow/optim/adam.hpp"
#include "tapeflow/optim/clipping.hpp"
#include "tapeflow/optim/sgd.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::optim;

TEST_CASE("clip_by_norm: rescales to clip_norm only when the L2 norm exceeds it") {
  TF_CHECK_CLOSE(clip_by_norm(Tensor{3.f, 4.f}, 1.f), (Tensor{0.6f, 0.8f}));
  TF_CHECK_CLOSE(clip_by_norm(Tensor({{3.f, 0.f}, {0.f, 4.f}}), 2.5f),
                 Tensor({{1.5f, 0.f}, {0.f, 2.f}}));
  TF_CHECK_CLOSE(clip_by_norm(Tensor{3.f, 4.f}, 10.f), (Tensor{3.f, 4.f}));
  TF_CHECK_CLOSE(clip_by_norm(Tensor{3.f, 4.f}, 5.f), (Tensor{3.f, 4.f}));
  TF_CHECK_CLOSE(clip_by_norm(Tensor{0.f, 0.f}, 1.f), (Tensor{0.f, 0.f}));
  TF_CHECK_ERROR(clip_by_norm(Tensor{1.f}, 0.f), "clip_by_norm", "clip_norm", "> 0");
  TF_CHECK_ERROR(clip_by_norm(Tensor{1.f}, -1.f), "clip_by_norm", "clip_norm");
  TF_CHECK_ERROR(clip_by_norm(Tensor{1.f}, std::nanf("")), "clip_by_norm", "clip_norm");
}

TEST_CASE("global_norm and clip_by_global_norm") {
  CHECK(global_norm({Tensor{3.f}, Tensor{4.f}}) == doctest::Approx(5.0));
  CHECK(global_norm({Tensor{1.f, 2.f, 2.f}}) == doctest::Approx(3.0));
  CHECK(global_norm({}) == 0.0);
  double norm = 0;
  auto clipped = clip_by_global_norm({Tensor{3.f}, Tensor{4.f}}, 1.f, &norm);
  CHECK(norm == doctest::Approx(5.0));
  TF_CHECK_CLOSE(clipped[0], (Tensor{0.6f}));
  TF_CHECK_CLOSE(clipped[1], (Tensor{0.8f}));
  auto kept = clip_by_global_norm({Tensor{3.f}, Tensor{4.f}}, 6.f);
  TF_CHECK_CLOSE(kept[0], (Tensor{3.f}));
  TF_CHECK_CLOSE(kept[1], (Tensor{4.f}));
  auto nan =
      clip_by_global_norm({Tensor{std::numeric_limits<float>::infinity()}, Tensor{1.f}}, 1.f);
  CHECK(std::isnan(nan[1](0)));
  TF_CHECK_ERROR(clip_by_global_norm({Tensor{1.f}}, 0.f), "clip_by_global_norm", "clip_norm");
}

TEST_CASE("Optimizer clipnorm clips each gradient by its own norm") {
  SGD opt(SGDOptions().learning_rate(1.0).clipnorm(1.f));
  CHECK(opt.hyperparameters().at("clipnorm") == 1.0);
  Variable a(Tensor{0.f, 0.f}, true, "a"), b(Tensor{0.f}, true, "b");
  opt.apply_gradients({Variable(Tensor{3.f, 4.f}), Variable(Tensor{0.5f})}, {a, b});
  TF_CHECK_CLOSE(a.value(), (Tensor{-0.6f, -0.8f}));
  TF_CHECK_CLOSE(b.value(), (Tensor{-0.5f}));
}

TEST_CASE("Optimizer global_clipnorm clips all gradients together") {
  SGD opt(SGDOptions().learning_rate(1.0).global_clipnorm(1.f));
  Variable a(Tensor{0.f}, true, "a"), b(Tensor{0.f}, true, "b"), c(Tensor{0.f}, true, "c");
  // c has no gradient: it takes no part in the global norm.
  opt.apply_gradients({Variable(Tensor{3.f}), Variable(Tensor{4.f}), Variable()}, {a, b, c});
  TF_CHECK_CLOSE(a.value(), (Tensor{-0.6f}));
  TF_CHECK_CLOSE(b.value(), (Tensor{-0.8f}));
  TF_CHECK_CLOSE(c.value(), (Tensor{0.f}));
}

TEST_CASE("Optimizer clipvalue clips elementwise, before the slots see the gradient") {
  Adam opt(AdamOptions().learning_rate(0.1).clipvalue(0.5f));
  Variable w(Tensor{0.f, 0.f, 0.f}, true, "w");
  opt.apply_gradients({Variable(Tensor{2.f, -3.f, 0.1f})}, {w});
  TF_CHECK_CLOSE(opt.get_slot(w, "m"), (Tensor{0.05f, -0.05f, 0.01f}));
  SGD sgd(SGDOptions().learning_rate(1.0).clipvalue(0.5f));
  Variable v(Tensor{0.f, 0.f, 0.f}, true, "v");
  sgd.apply_gradients({Variable(Tensor{2.f, -3.f, 0.1f})}, {v});
  TF_CHECK_CLOSE(v.value(), (Tensor{-0.5f, 0.5f, -0.1f}));
}

TEST_CASE("Clipping options: at most one, each finite and positive") {
  TF_CHECK_ERROR(SGD(SGDOptions().clipnorm(1.f).clipvalue(1.f)), "SGD", "only one of", "clipnorm=1",
                 "clipvalue=1", "global_clipnorm=unset");
  TF_CHECK_ERROR(Adam(AdamOptions().clipnorm(1.f).global_clipnorm(2.f)), "Adam", "only one of");
  TF_CHECK_ERROR(SGD(SGDOptions().clipnorm(0.f)), "SGD", "clipnorm", "> 0");
  TF_CHECK_ERROR(SGD(SGDOptions().clipvalue(-1.f)), "SGD", "clipvalue");
  TF_CHECK_ERROR(SGD(SGDOptions().global_clipnorm(std::numeric_limits<float>::infinity())), "SGD",
                 "global_clipnorm");
}

TEST_CASE("clipping keeps NaN, as TF: clip_by_norm, clip_by_global_norm, clipvalue") {
  const float nan = std::nanf(""), inf = std::numeric_limits<float>::infinity();
  // A NaN element makes the norm NaN, and TF's t * c / maximum(NaN, c) is NaN everywhere (the
  // old code returned the tensor unclipped: the 30 passed through a clip_norm of 1).
  Tensor c = clip_by_norm(Tensor{nan, 30.f}, 1.f);
  CHECK(std::isnan(c(0)));
  CHECK(std::isnan(c(1)));
  // An infinite element: itself NaN (inf / inf), the finite ones 0.
  Tensor i = clip_by_norm(Tensor{inf, 3.f}, 1.f);
  CHECK(std::isnan(i(0)));
  CHECK(i(1) == 0.f);
  auto g = clip_by_global_norm({Tensor{nan}, Tensor{1.f}}, 1.f);
  CHECK(std::isnan(g[0](0)));
  CHECK(std::isnan(g[1](0)));
  // clipvalue: NaN stays NaN (not -clipvalue or clipvalue).
  SGD sgd(SGDOptions().learning_rate(1.0).clipvalue(0.5f));
  Variable v(Tensor{0.f, 0.f}, true, "v");
  sgd.apply_gradients({Variable(Tensor{nan, 2.f})}, {v});
  CHECK(std::isnan(v.value()(0)));
  CHECK(v.value()(1) == -0.5f);
}
