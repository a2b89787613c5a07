#include "tapeflow/framework/nn/initializers.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <vector>

#include "tapeflow/framework/core/strings.hpp"
#include "tapeflow/framework/nn/detail/finite_option.hpp"
#include "tapeflow/framework/nn/detail/repr.hpp"

namespace tapeflow {

namespace {

// Keras 3's names (keras/src/initializers/__init__.py): each class name ("GlorotUniform") and its
// snake_case form ("glorot_uniform"), and the aliases below.
std::string canonical_name(const std::string& name) {
  static const std::map<std::string, std::string> aliases = {
      {"zero", "zeros"},
      {"one", "ones"},
      {"uniform", "random_uniform"},
      {"normal", "random_normal"},
      {"identity_initializer", "identity"},      // "IdentityInitializer"
      {"orthogonal_initializer", "orthogonal"},  // "OrthogonalInitializer"
  };
  std::string s = detail::camel_to_snake(name);
  auto it = aliases.find(s);
  return it == aliases.end() ? s : it->second;
}

std::size_t shape_size(const Shape& s) {
  std::size_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

}  // namespace

Initializer::Initializer(const char* name) : Initializer(initializers::get(name)) {}
Initializer::Initializer(const std::string& name) : Initializer(initializers::get(name)) {}
Initializer::Initializer(std::string name, Config config, InitFn fn)
    : name_(std::move(name)), config_(std::move(config)), fn_(std::move(fn)) {}

Tensor Initializer::operator()(const Shape& shape) const {
  if (!fn_) fail("initializer", "the initializer is undefined (default-constructed)");
  Tensor t = fn_(shape);
  if (shape_of(t) != shape)
    fail_shape("initializer", "'" + name_ + "' returned shape " + shape_str(t.shape()) +
                                  " but shape " + shape_str(shape) + " was requested");
  return t;
}

Initializer Initializer::from_config(const std::string& name, const Config& c) {
  namespace I = initializers;
  const std::string n = canonical_name(name);
  const std::string w = "initializer '" + n + "'";
  auto seed = [&] { return config_get_seed(w, c, "seed"); };
  if (n == "zeros") return I::zeros();
  if (n == "ones") return I::ones();
  if (n == "constant") return I::constant(config_get_float(w, c, "value", 0.f));
  if (n == "random_normal")
    return I::random_normal(config_get_float(w, c, "mean", 0.f),
                            config_get_float(w, c, "stddev", 0.05f), seed());
  if (n == "random_uniform")
    return I::random_uniform(config_get_float(w, c, "minval", -0.05f),
                             config_get_float(w, c, "maxval", 0.05f), seed());
  if (n == "truncated_normal")
    return I::truncated_normal(config_get_float(w, c, "mean", 0.f),
                               config_get_float(w, c, "stddev", 0.05f), seed());
  if (n == "variance_scaling")
    return I::variance_scaling(config_get_float(w, c, "scale", 1.f),
                               config_get_string(c, "mode", "fan_in"),
                               config_get_string(c, "distribution", "truncated_normal"), seed());
  if (n == "glorot_uniform") return I::glorot_uniform(seed());
  if (n == "glorot_normal") return I::glorot_normal(seed());
  if (n == "he_uniform") return I::he_uniform(seed());
  if (n == "he_normal") return I::he_normal(seed());
  if (n == "lecun_uniform") return I::lecun_uniform(seed());
  if (n == "lecun_normal") return I::lecun_normal(seed());
  if (n == "orthogonal") return I::orthogonal(config_get_float(w, c, "gain", 1.f), seed());
  if (n == "identity") return I::identity(config_get_float(w, c, "gain", 1.f));
  if (n == "custom")
    fail("initializer", "a custom (callable) initializer cannot be rebuilt from its name");
  fail("initializer",
       "unknown initializer '" + name +
           "' (expected zeros, ones, constant, random_normal, random_uniform, truncated_normal, "
           "variance_scaling, glorot_uniform, glorot_normal, he_uniform, he_normal, "
           "lecun_uniform, lecun_normal, orthogonal or identity)");
}

namespace initializers {

Initializer get(const std::string& name) { return Initializer::from_config(name, {}); }

Fans compute_fans(const Shape& shape) {
  Fans f;
  if (shape.empty()) {
    f.fan_in = f.fan_out = 1;
  } else if (shape.size() == 1) {
    f.fan_in = f.fan_out = static_cast<double>(shape[0]);
  } else if (shape.size() == 2) {
    f.fan_in = static_cast<double>(shape[0]);
    f.fan_out = static_cast<double>(shape[1]);
  } else {
    double receptive = 1;
    for (std::size_t i = 0; i + 2 < shape.size(); ++i) receptive *= static_cast<double>(shape[i]);
    f.fan_in = static_cast<double>(shape[shape.size() - 2]) * receptive;
    f.fan_out = static_cast<double>(shape.back()) * receptive;
  }
  return f;
}

Initializer zeros() {
  return Initializer("zeros", {}, [](const Shape& s) { return Tensor(xt::zeros<float>(s)); });
}

Initializer ones() {
  return Initializer("ones", {}, [](const Shape& s) { return Tensor(xt::ones<float>(s)); });
}

Initializer constant(float value) {
  tapeflow::detail::check_finite_option("initializers::constant", "value", value);
  return Initializer("constant", {{"value", config_float(value)}}, [value](const Shape& s) {
    Tensor t = Tensor::from_shape(s);
    t.fill(value);
    return t;
  });
}

Initializer random_normal(float mean, float stddev, const Seed& seed) {
  tapeflow::detail::check_finite_option("initializers::random_normal", "mean", mean);
  if (!(stddev >= 0) || !std::isfinite(stddev))
    fail("initializers::random_normal", "stddev must be >= 0, got " + std::to_string(stddev));
  return Initializer(
      "random_normal",
      {{"mean", config_float(mean)}, {"stddev", config_float(stddev)}, {"seed", config_seed(seed)}},
      [=](const Shape& s) { return random::normal(s, mean, stddev, seed); });
}

Initializer random_uniform(float minval, float maxval, const Seed& seed) {
  tapeflow::detail::check_finite_option("initializers::random_uniform", "minval", minval);
  tapeflow::detail::check_finite_option("initializers::random_uniform", "maxval", maxval);
  if (!(minval < maxval))
    fail("initializers::random_uniform", "minval (" + config_float(minval) +
                                             ") must be less than maxval (" + config_float(maxval) +
                                             ")");
  return Initializer("random_uniform",
                     {{"minval", config_float(minval)},
                      {"maxval", config_float(maxval)},
                      {"seed", config_seed(seed)}},
                     [=](const Shape& s) { return random::uniform(s, minval, maxval, seed); });
}

Initializer truncated_normal(float mean, float stddev, const Seed& seed) {
  tapeflow::detail::check_finite_option("initializers::truncated_normal", "mean", mean);
  if (!(stddev >= 0) || !std::isfinite(stddev))
    fail("initializers::truncated_normal", "stddev must be >= 0, got " + std::to_string(stddev));
  return Initializer(
      "truncated_normal",
      {{"mean", config_float(mean)}, {"stddev", config_float(stddev)}, {"seed", config_seed(seed)}},
      [=](const Shape& s) { return random::truncated_normal(s, mean, stddev, seed); });
}

namespace {
Initializer variance_scaling_named(const std::string& name, float scale, std::string mode,
                                   std::string distribution, const Seed& seed, bool full_config) {
  const char* w = "initializers::variance_scaling";
  if (!(scale > 0) || !std::isfinite(scale))
    fail(w, "scale must be positive, got " + std::to_string(scale));
  if (mode != "fan_in" && mode != "fan_out" && mode != "fan_avg")
    fail(w, "mode must be fan_in, fan_out or fan_avg, got '" + mode + "'");
  if (distribution == "normal") distribution = "truncated_normal";  // Keras' alias
  if (distribution != "truncated_normal" && distribution != "untruncated_normal" &&
      distribution != "uniform")
    fail(w, "distribution must be truncated_normal, untruncated_normal, normal or uniform, got '" +
                distribution + "'");
  Config config{{"seed", config_seed(seed)}};
  if (full_config) {
    config["scale"] = config_float(scale);
    config["mode"] = mode;
    config["distribution"] = distribution;
  }
  return Initializer(name, std::move(config), [=](const Shape& s) {
    Fans f = compute_fans(s);
    double n = mode == "fan_in"    ? f.fan_in
               : mode == "fan_out" ? f.fan_out
                                   : (f.fan_in + f.fan_out) / 2;
    double sc = scale / std::max(1.0, n);
    if (distribution == "truncated_normal") {
      // Keras: stddev of a unit normal truncated to [-2, 2], so the variance is sc exactly.
      double stddev = std::sqrt(sc) / .87962566103423978;
      return random::truncated_normal(s, 0.f, static_cast<float>(stddev), seed);
    }
    if (distribution == "untruncated_normal")
      return random::normal(s, 0.f, static_cast<float>(std::sqrt(sc)), seed);
    float limit = static_cast<float>(std::sqrt(3.0 * sc));
    return random::uniform(s, -limit, limit, seed);
  });
}
}  // namespace

Initializer variance_scaling(float scale, const std::string& mode, const std::string& distribution,
                             const Seed& seed) {
  return variance_scaling_named("variance_scaling", scale, mode, distribution, seed, true);
}
Initializer glorot_uniform(const Seed& seed) {
  return variance_scaling_named("glorot_uniform", 1.f, "fan_avg", "uniform", seed, false);
}
Initializer glorot_normal(const Seed& seed) {
  return variance_scaling_named("glorot_normal", 1.f, "fan_avg", "truncated_normal", seed, false);
}
Initializer he_uniform(const Seed& seed) {
  return variance_scaling_named("he_uniform", 2.f, "fan_in", "uniform", seed, false);
}
Initializer he_normal(const Seed& seed) {
  return variance_scaling_named("he_normal", 2.f, "fan_in", "truncated_normal", seed, false);
}
Initializer lecun_uniform(const Seed& seed) {
  return variance_scaling_named("lecun_uniform", 1.f, "fan_in", "uniform", seed, false);
}
Initializer lecun_normal(const Seed& seed) {
  return variance_scaling_named("lecun_normal", 1.f, "fan_in", "truncated_normal", seed, false);
}

Initializer orthogonal(float gain, const Seed& seed) {
  tapeflow::detail::check_finite_option("initializers::orthogonal", "gain", gain);
  return Initializer(
      "orthogonal", {{"gain", config_float(gain)}, {"seed", config_seed(seed)}},
      [=](const Shape& s) {
        if (s.size() < 2)
          fail_shape("initializers::orthogonal",
                     "needs a shape of at least 2 dimensions, got " + shape_str(s));
        std::size_t rows = shape_size(s) / s.back(), cols = s.back();
        if (rows == 0 || cols == 0) return Tensor(xt::zeros<float>(s));
        // Keras: QR of a (max x min) normal matrix, signs fixed by diag(R), transposed when
        // rows < cols. Modified Gram-Schmidt gives R with a positive diagonal directly,
        // which is exactly that sign-fixed Q.
        std::size_t m = std::max(rows, cols), n = std::min(rows, cols);
        Tensor a = random::normal({m, n}, 0.f, 1.f, seed);
        std::vector<double> q(m * n);  // column-major columns
        for (std::size_t j = 0; j < n; ++j)
          for (std::size_t i = 0; i < m; ++i) q[j * m + i] = a(i, j);
        for (std::size_t j = 0; j < n; ++j) {
          double* qj = &q[j * m];
          for (int pass = 0; pass < 2; ++pass)  // twice is enough for float-level orthogonality
            for (std::size_t k = 0; k < j; ++k) {
              const double* qk = &q[k * m];
              double d = 0;
              for (std::size_t i = 0; i < m; ++i) d += qk[i] * qj[i];
              for (std::size_t i = 0; i < m; ++i) qj[i] -= d * qk[i];
            }
          double norm = 0;
          for (std::size_t i = 0; i < m; ++i) norm += qj[i] * qj[i];
          norm = std::sqrt(norm);
          for (std::size_t i = 0; i < m; ++i) qj[i] /= norm;
        }
        Tensor out = Tensor::from_shape(s);
        float* o = out.data();
        for (std::size_t r = 0; r < rows; ++r)
          for (std::size_t c = 0; c < cols; ++c)
            o[r * cols + c] = gain * static_cast<float>(rows >= cols ? q[c * m + r] : q[r * m + c]);
        return out;
      });
}

Initializer identity(float gain) {
  tapeflow::detail::check_finite_option("initializers::identity", "gain", gain);
  return Initializer("identity", {{"gain", config_float(gain)}}, [gain](const Shape& s) {
    if (s.size() != 2)
      fail_shape("initializers::identity", "only 2-D shapes are supported, got " + shape_str(s));
    Tensor t = xt::zeros<float>(s);
    for (std::size_t i = 0; i < std::min(s[0], s[1]); ++i) t(i, i) = gain;
    return t;
  });
}

}  // namespace initializers

std::string config_write(const Initializer& v) { return detail::write_repr(v); }
void config_read(const std::string& where, const std::string& key, const std::string& text,
                 Initializer& out) {
  detail::read_repr(where, key, text, out);
}

}  // namespace tapeflow
