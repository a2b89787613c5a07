// Replays the optimizer half of ../shared/golden/training/*: the Conv3DTranspose layer is not
// used; its forward pass, the loss and the gradients are written out here as plain loops in
// double, so the test checks the optimizers (and the constraint-after-update order) against the
// TensorFlow.js trajectories on their own.
//
// TF.js' Adam is the paper's form, `lr * m_hat / (sqrt(v_hat) + eps)`; tapeflow's is Keras 3's,
// `lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon)`. The two are the same update when
// `epsilon = eps * sqrt(1 - b2^t)`, so the adam case sets that epsilon before each step (see
// `replay`). With the golden's constant 1e-7 instead, kernel elements whose gradient is about
// 1e-5 move by up to 6e-3, 60 times the 1e-4 tolerance (the last case below).
#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <xtensor/xmath.hpp>
#include <xtensor/xnpy.hpp>
#include <xtensor/xreducer.hpp>

#include "conformance/tfjs_adam.hpp"
#include "tapeflow/optim/adam.hpp"
#include "tapeflow/optim/sgd.hpp"
#include "test_util.hpp"

using namespace tapeflow;

namespace {

const std::string kDir = std::string(TAPEFLOW_GOLDEN_DIR) + "/training/";

std::map<std::string, std::string> read_config(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path);
  std::map<std::string, std::string> cfg;
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq != std::string::npos) cfg[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return cfg;
}

// "adam(learning_rate=0.02,beta1=0.9)" -> name "adam", args {learning_rate: 0.02, beta1: 0.9}.
std::pair<std::string, std::map<std::string, std::string>> parse_call(const std::string& s) {
  auto open = s.find('(');
  std::map<std::string, std::string> args;
  std::stringstream body(s.substr(open + 1, s.rfind(')') - open - 1));
  std::string item;
  while (std::getline(body, item, ',')) {
    auto eq = item.find('=');
    args[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return {s.substr(0, open), args};
}

std::unique_ptr<optim::Optimizer> make_optimizer(const std::string& spec) {
  auto [name, a] = parse_call(spec);
  if (name == "sgd")
    return std::make_unique<optim::SGD>(
        optim::SGDOptions().learning_rate(std::stod(a.at("learning_rate"))));
  if (name == "momentum")
    return std::make_unique<optim::SGD>(optim::SGDOptions()
                                            .learning_rate(std::stod(a.at("learning_rate")))
                                            .momentum(std::stod(a.at("momentum")))
                                            .nesterov(a.at("nesterov") == "true"));
  if (name == "adam")
    return std::make_unique<optim::Adam>(optim::AdamOptions()
                                             .learning_rate(std::stod(a.at("learning_rate")))
                                             .beta_1(std::stod(a.at("beta1")))
                                             .beta_2(std::stod(a.at("beta2")))
                                             .epsilon(std::stod(a.at("epsilon"))));
  FAIL("unknown optimizer " << spec);
  return nullptr;
}

// Conv3DTranspose, channels_last, 'same' padding, stride s, cubic kernel k, then bias and tanh;
// returns the total loss and fills the gradients of kernel and bias.
struct Problem {
  Tensor x, target;
  std::size_t s = 2, k = 3;
  double l2 = 0.01, l1 = 0.005;

  double loss_and_grads(const Tensor& kernel, const Tensor& bias, Tensor& gk, Tensor& gb) const {
    const std::size_t n_batch = x.shape(0), in = x.shape(1), cin = x.shape(4);
    const std::size_t filters = kernel.shape(3), out = in * s;
    const std::size_t pad_total = std::max<long>(0, long((in - 1) * s + k) - long(out));
    const std::size_t pad_before = pad_total / 2;
    xt::xarray<double> z = xt::zeros<double>({n_batch, out, out, out, filters});
    auto for_each_tap = [&](auto&& body) {
      for (std::size_t n = 0; n < n_batch; ++n)
        for (std::size_t i0 = 0; i0 < in; ++i0)
          for (std::size_t i1 = 0; i1 < in; ++i1)
            for (std::size_t i2 = 0; i2 < in; ++i2)
              for (std::size_t t0 = 0; t0 < k; ++t0)
                for (std::size_t t1 = 0; t1 < k; ++t1)
                  for (std::size_t t2 = 0; t2 < k; ++t2) {
                    long o0 = long(i0 * s + t0) - long(pad_before);
                    long o1 = long(i1 * s + t1) - long(pad_before);
                    long o2 = long(i2 * s + t2) - long(pad_before);
                    if (o0 < 0 || o1 < 0 || o2 < 0 || o0 >= long(out) || o1 >= long(out) ||
                        o2 >= long(out))
                      continue;
                    for (std::size_t f = 0; f < filters; ++f)
                      for (std::size_t c = 0; c < cin; ++c)
                        body(n, i0, i1, i2, t0, t1, t2, std::size_t(o0), std::size_t(o1),
                             std::size_t(o2), f, c);
                  }
    };
    for_each_tap([&](auto n, auto i0, auto i1, auto i2, auto t0, auto t1, auto t2, auto o0, auto o1,
                     auto o2, auto f, auto c) {
      z(n, o0, o1, o2, f) += double(x(n, i0, i1, i2, c)) * double(kernel(t0, t1, t2, f, c));
    });
    const double count = double(z.size());
    double mse = 0;
    xt::xarray<double> gz = xt::zeros<double>(z.shape());
    for (std::size_t n = 0; n < n_batch; ++n)
      for (std::size_t o0 = 0; o0 < out; ++o0)
        for (std::size_t o1 = 0; o1 < out; ++o1)
          for (std::size_t o2 = 0; o2 < out; ++o2)
            for (std::size_t f = 0; f < filters; ++f) {
              double y = std::tanh(z(n, o0, o1, o2, f) + double(bias(f)));
              double d = y - double(target(n, o0, o1, o2, f));
              mse += d * d;
              gz(n, o0, o1, o2, f) = 2.0 * d / count * (1.0 - y * y);
            }
    double loss = mse / count;
    xt::xarray<double> gkd = xt::zeros<double>(kernel.shape());
    for_each_tap([&](auto n, auto i0, auto i1, auto i2, auto t0, auto t1, auto t2, auto o0, auto o1,
                     auto o2, auto f, auto c) {
      gkd(t0, t1, t2, f, c) += gz(n, o0, o1, o2, f) * double(x(n, i0, i1, i2, c));
    });
    gk = Tensor::from_shape(shape_of(kernel));
    for (std::size_t i = 0; i < kernel.size(); ++i) {
      double w = kernel.data()[i];
      loss += l2 * w * w;
      gk.data()[i] = float(gkd.data()[i] + 2.0 * l2 * w);
    }
    gb = Tensor::from_shape({filters});
    for (std::size_t f = 0; f < filters; ++f) {
      double g = 0;
      for (std::size_t i = f; i < gz.size(); i += filters) g += gz.data()[i];
      double b = bias(f);
      loss += l1 * std::abs(b);
      gb(f) = float(g + l1 * double((b > 0) - (b < 0)));  // d|b|/db at 0 taken as 0
    }
    return loss;
  }
};

// Keras max_norm(max_value, axis=0): w * clip(n, 0, m) / (1e-7 + n), n over axis 0.
Tensor max_norm_axis0(const Tensor& w, float max_value) {
  Tensor n = xt::sqrt(xt::sum(w * w, {0}, xt::keep_dims));
  return Tensor(w * xt::clip(n, 0.f, max_value) / (1e-7f + n));
}

// Replays the golden case `name`. `tfjs_epsilon`: for adam, give tapeflow's (Keras') Adam the
// epsilon that makes its step TF.js' at each step. With `expect_match` every step is CHECKed;
// without, nothing is. Returns the number of steps whose kernel or bias missed the golden values.
int replay(const std::string& name, bool tfjs_epsilon = true, bool expect_match = true) {
  const std::string dir = kDir + name + "/";
  auto cfg = read_config(dir + "config.txt");
  // The loops above hard-code this configuration; refuse to compare against anything else.
  REQUIRE(cfg.at("kernel_size") == "3");
  REQUIRE(cfg.at("strides") == "2");
  REQUIRE(cfg.at("padding") == "same");
  REQUIRE(cfg.at("data_format") == "channels_last");
  REQUIRE(cfg.at("activation") == "tanh");
  REQUIRE(cfg.at("use_bias") == "true");
  REQUIRE(cfg.at("kernel_regularizer") == "l2(0.01)");
  REQUIRE(cfg.at("bias_regularizer") == "l1(0.005)");
  REQUIRE(cfg.at("kernel_constraint") == "max_norm(max_value=0.3,axis=[0])");

  Problem p;
  p.x = xt::load_npy<float>(dir + "x.npy");
  p.target = xt::load_npy<float>(dir + "target.npy");
  Variable kernel(xt::load_npy<float>(dir + "kernel_0.npy"), true, "conv3d_transpose/kernel");
  Variable bias(xt::load_npy<float>(dir + "bias_0.npy"), true, "conv3d_transpose/bias");
  kernel.set_constraint([](const Tensor& w) { return max_norm_axis0(w, 0.3f); });
  auto opt = make_optimizer(cfg.at("optimizer"));
  const auto [opt_name, opt_args] = parse_call(cfg.at("optimizer"));

  std::ifstream losses_in(dir + "losses.txt");
  const int steps = std::stoi(cfg.at("steps"));
  int missed = 0;
  for (int t = 1; t <= steps; ++t) {
    Tensor gk, gb;
    double loss = p.loss_and_grads(kernel.value(), bias.value(), gk, gb);
    double expected_loss = 0;
    losses_in >> expected_loss;
    if (expect_match)
      CHECK_MESSAGE(std::abs(loss - expected_loss) <= 1e-4 + 1e-4 * std::abs(expected_loss),
                    name << " step " << t << ": loss " << loss << " vs " << expected_loss);
    if (opt_name == "adam" && tfjs_epsilon)
      test::use_tfjs_adam_step(*opt, std::stod(opt_args.at("epsilon")),
                               std::stod(opt_args.at("beta2")), t);
    opt->apply_gradients({Variable(gk), Variable(gb)}, {kernel, bias});
    Tensor k_ref = xt::load_npy<float>(dir + "kernel_" + std::to_string(t) + ".npy");
    Tensor b_ref = xt::load_npy<float>(dir + "bias_" + std::to_string(t) + ".npy");
    const bool kernel_ok = test::allclose(kernel.value(), k_ref, 1e-4f, 1e-4f);
    const bool bias_ok = test::allclose(bias.value(), b_ref, 1e-4f, 1e-4f);
    if (expect_match) {
      CHECK_MESSAGE(kernel_ok, name << " kernel, step " << t);
      CHECK_MESSAGE(bias_ok, name << " bias, step " << t);
    }
    missed += !(kernel_ok && bias_ok);
  }
  CHECK(opt->iterations() == steps);
  return missed;
}

}  // namespace

TEST_CASE("golden training: sgd") { replay("sgd"); }
TEST_CASE("golden training: momentum") { replay("momentum"); }
TEST_CASE("golden training: adam (TF.js' epsilon, converted to Keras' at each step)") {
  replay("adam");
}

TEST_CASE("golden training: without the constraint the trajectory differs (the test can fail)") {
  // The same replay without the kernel constraint must leave the golden trajectory; otherwise
  // the comparison above would not be testing the constraint-after-update order.
  const std::string dir = kDir + "sgd/";
  Problem p;
  p.x = xt::load_npy<float>(dir + "x.npy");
  p.target = xt::load_npy<float>(dir + "target.npy");
  Variable kernel(xt::load_npy<float>(dir + "kernel_0.npy"), true, "k");
  Variable bias(xt::load_npy<float>(dir + "bias_0.npy"), true, "b");
  optim::SGD opt(optim::SGDOptions().learning_rate(0.5));
  bool differs = false;
  for (int t = 1; t <= 6; ++t) {
    Tensor gk, gb;
    p.loss_and_grads(kernel.value(), bias.value(), gk, gb);
    opt.apply_gradients({Variable(gk), Variable(gb)}, {kernel, bias});
    Tensor k_ref = xt::load_npy<float>(dir + "kernel_" + std::to_string(t) + ".npy");
    differs = differs || !test::allclose(kernel.value(), k_ref, 1e-4f, 1e-4f);
  }
  CHECK(differs);
}

TEST_CASE("golden training: Keras' Adam with the golden's constant epsilon leaves the TF.js path") {
  // The golden's hyperparameters as a Keras user would pass them: epsilon 1e-7 added to sqrt(v)
  // is, at step t, TF.js' epsilon 1e-7 / sqrt(1 - 0.999^t) (3.2e-6 at step 1), against gradients
  // as small as 1e-5 here. Every step's kernel then misses the golden (replayed outside the
  // test: after step 1, kernel element 107, gradient 1.3e-5, is off by 3.75e-3), which is why
  // the case above converts the epsilon.
  CHECK(replay("adam", /*tfjs_epsilon=*/false, /*expect_match=*/false) == 6);
}
