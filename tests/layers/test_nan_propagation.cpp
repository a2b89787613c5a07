// A NaN entering a model reaches its output, as in TF: the user-style case of issue 19, where
// Conv3D -> BatchNormalization -> ReLU -> MaxPooling3D gave 0 of 1536 outputs NaN (relu turned
// NaN into 0, max pooling dropped it).
#include <cmath>

#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/layers/activation.hpp"
#include "tapeflow/layers/batch_normalization.hpp"
#include "tapeflow/layers/conv.hpp"
#include "tapeflow/layers/leaky_relu.hpp"
#include "tapeflow/layers/pooling.hpp"
#include "tapeflow/layers/sequential.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;

namespace {
std::size_t count_nan(const Tensor& t) {
  std::size_t n = 0;
  for (float v : t) n += std::isnan(v);
  return n;
}
}  // namespace

TEST_CASE("Conv3D, BatchNormalization, ReLU, MaxPooling3D: a NaN input voxel gives NaN outputs") {
  for (const char* act : {"relu", "relu6", "elu", "hard_sigmoid", "softplus"}) {
    CAPTURE(std::string(act));
    reset_default_graph();
    set_random_seed(3);
    Sequential model;
    model.add<Conv3D>(Conv3DOptions(4, 3).padding("same"));
    model.add<BatchNormalization>();
    model.add<Activation>(ActivationOptions(act));
    model.add<MaxPooling3D>(MaxPooling3DOptions(2));
    Tensor x = random_tensor({2, 8, 8, 8, 1}, 4);
    Tensor clean = model(Variable(x)).value();
    REQUIRE(shape_of(clean) == Shape{2, 4, 4, 4, 4});
    CHECK(count_nan(clean) == 0);
    x(0, 3, 4, 5, 0) = std::nanf("");
    Tensor y = model(Variable(x)).value();
    // The 3x3x3 kernel spreads the voxel over z 2..4, y 3..5, x 4..6 of every channel: the
    // pool windows 1..2 x 1..2 x 2..3 of sample 0 hold it, sample 1 is untouched.
    CHECK(count_nan(y) == 2 * 2 * 2 * 4);
    for (std::size_t c = 0; c < 4; ++c) {
      CHECK(std::isnan(y(0, 1, 2, 2, c)));
      CHECK(std::isnan(y(0, 2, 1, 3, c)));
    }
    clear_random_seed();
  }
}

TEST_CASE("A training call on a batch with a NaN: later outputs are NaN, not one value") {
  reset_default_graph();
  set_random_seed(3);
  Sequential model;
  model.add<Conv3D>(Conv3DOptions(4, 3).padding("same"));
  model.add<BatchNormalization>();
  model.add<Activation>(ActivationOptions("relu"));
  model.add<MaxPooling3D>(MaxPooling3DOptions(2));
  Tensor bad = random_tensor({2, 4, 4, 4, 1}, 4);
  bad(1, 1, 1, 1, 0) = std::nanf("");
  CHECK(count_nan(model(Variable(bad), /*training=*/true).value()) > 0);
  // TF's behaviour: the NaN reached the moving statistics of every channel (the conv spread
  // it). The old relu then mapped every clean input to the same output (all 0); now every
  // output is NaN, which check_numerics or any finiteness check catches.
  Tensor a = model(Variable(random_tensor({1, 4, 4, 4, 1}, 5))).value();
  CHECK(count_nan(a) == a.size());
}
