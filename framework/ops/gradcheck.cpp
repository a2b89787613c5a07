#include "tapeflow/framework/ops/gradcheck.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <optional>
#include <random>
#include <sstream>
#include <utility>

#include "tapeflow/framework/core/tape.hpp"
#include "tapeflow/framework/ops/ops.hpp"

namespace tapeflow {

namespace {

constexpr const char* kGradcheck = "gradcheck";

void validate(const GradcheckOptions& o) {
  TAPEFLOW_CHECK(std::isfinite(o.eps()) && o.eps() > 0, ValueError, kGradcheck,
                 "eps must be positive and finite, got ", o.eps());
  const std::pair<const char*, double> tols[] = {{"atol", o.atol()},
                                                 {"rtol", o.rtol()},
                                                 {"mean_tol", o.mean_tol()},
                                                 {"accumulation_tol", o.accumulation_tol()}};
  for (const auto& [name, v] : tols)
    TAPEFLOW_CHECK(v >= 0, ValueError, kGradcheck, name, " must be >= 0, got ", v);
}

// The loss weights: mixed signs so that errors in two output elements cannot cancel, |w| >= 0.5
// so that no output element is (nearly) ignored. The first draw from `seed` is the `w` the
// tests have always used, so their losses did not change when the check became shared.
Tensor loss_weights(const Shape& shape, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(0.5f, 1.5f);
  Tensor w = Tensor::from_shape(shape);
  for (auto& e : w) e = (rng() & 1) ? dist(rng) : -dist(rng);
  return w;
}

// sum(y * w) in double: the central difference subtracts two such sums, and float round-off of
// a sum over many elements would swamp the change one perturbed element makes.
double weighted_sum(const Variable& y, const Tensor& w) {
  if (!y.defined()) fail(kGradcheck, "f returned an undefined variable");
  const Tensor& v = y.value();
  if (shape_of(v) != shape_of(w))
    fail_shape(kGradcheck, "f returned shape " + shape_str(v.shape()) + " on one call and " +
                               shape_str(w.shape()) + " on another (f must be deterministic)");
  double s = 0;
  for (std::size_t i = 0; i < v.size(); ++i) s += double(v.data()[i]) * double(w.data()[i]);
  return s;
}

// Values are copied out of the tape's handles at once: a buggy backward may return a buffer it
// overwrites later (what the accumulation check looks for), and a later gradient call must not
// change what an earlier one returned.
std::vector<std::optional<Tensor>> snapshot(const std::vector<Variable>& grads) {
  std::vector<std::optional<Tensor>> out;
  for (const auto& g : grads) {
    if (g.defined())
      out.emplace_back(g.value());
    else
      out.emplace_back(std::nullopt);
  }
  return out;
}

// "element 5 (index (1, 2))".
std::string element_str(const Shape& shape, std::size_t flat) {
  std::vector<std::size_t> idx(shape.size());
  std::size_t rest = flat;
  for (std::size_t a = shape.size(); a-- > 0;) {
    idx[a] = shape[a] ? rest % shape[a] : 0;
    rest = shape[a] ? rest / shape[a] : 0;
  }
  return "element " + std::to_string(flat) + " (index " + shape_str(idx) + ")";
}

// Perturbs one element of a variable in place and puts the original back when it goes out of
// scope, also when `f` throws, so that a failed check never leaves a layer's weight changed.
class Perturbation {
 public:
  Perturbation(Variable v, std::size_t j) : v_(std::move(v)), j_(j), orig_(v_.value().data()[j]) {}
  ~Perturbation() { v_.mutable_value().data()[j_] = orig_; }
  Perturbation(const Perturbation&) = delete;
  Perturbation& operator=(const Perturbation&) = delete;
  float orig() const { return orig_; }
  void set(float x) { v_.mutable_value().data()[j_] = x; }

 private:
  Variable v_;
  std::size_t j_;
  float orig_;
};

// d sum(f() * w) / d v[j] by central differences. The quotient divides by the step actually
// taken: `x + eps` and `x - eps` are rounded to float, which for |x| >> eps changes the step by
// a relative amount far above the tolerances.
double central_difference(const std::function<Variable()>& f, const Variable& v, std::size_t j,
                          const Tensor& w, double eps) {
  Perturbation p(v, j);
  const float xp = float(double(p.orig()) + eps), xm = float(double(p.orig()) - eps);
  const double step = double(xp) - double(xm);
  TAPEFLOW_CHECK(step > 0, ValueError, kGradcheck, "eps ", eps,
                 " is below float resolution at the value ", p.orig());
  p.set(xp);
  const double fp = weighted_sum(f(), w);
  p.set(xm);
  const double fm = weighted_sum(f(), w);
  return (fp - fm) / step;
}

std::string analytic_str(const std::optional<Tensor>& g, std::size_t j) {
  if (!g) return "(no gradient)";
  std::ostringstream os;
  os << g->data()[j];
  return os.str();
}

// The one implementation behind `gradcheck` and `gradcheck_variables`.
GradcheckResult check(const std::function<Variable()>& f, const std::vector<Variable>& vars,
                      const std::vector<std::string>& names, const GradcheckOptions& o) {
  validate(o);
  GradcheckResult res;
  auto failure = [&res](const std::string& message) {
    res.ok = false;
    res.message = message;
    return res;
  };

  // Analytic gradients: of each use of f alone, and of both together, on one persistent tape.
  Tensor w1, w2;
  std::vector<std::optional<Tensor>> g1, g2, g12;
  {
    GradientTape tape(/*persistent=*/true);
    tape.watch(vars);
    Variable y1 = f();
    if (!y1.defined()) fail(kGradcheck, "f returned an undefined variable");
    std::mt19937 rng(o.seed());
    w1 = loss_weights(y1.shape(), rng);
    w2 = loss_weights(y1.shape(), rng);  // another w: see step 2 in gradcheck.hpp
    Variable loss1 = sum(mul(y1, Variable(w1)));
    Variable y2 = f();
    if (!y2.defined()) fail(kGradcheck, "f returned an undefined variable");
    if (y2.shape() != y1.shape())
      fail_shape(kGradcheck, "f returned shape " + shape_str(y1.shape()) + " on one call and " +
                                 shape_str(y2.shape()) + " on another (f must be deterministic)");
    Variable loss2 = sum(mul(y2, Variable(w2)));
    Variable both = add(loss1, loss2);
    try {
      g1 = snapshot(tape.gradient(loss1, vars));
      g2 = snapshot(tape.gradient(loss2, vars));
      g12 = snapshot(tape.gradient(both, vars));
    } catch (const Error& e) {
      // The tape rejects what a wrong backward hands it (mismatched shapes of two gradients of
      // one value): a failed check, not a misuse of gradcheck.
      return failure(std::string("the tape's gradient of sum(f * w) failed: ") + e.what());
    }
  }

  // Finite differences need no tape; an outer one (the caller's) must not record 2n forwards.
  StopRecording no_tape;
  for (std::size_t i = 0; i < vars.size(); ++i) {
    const Variable& v = vars[i];
    const std::string& name = names[i];
    const Shape shape = v.shape();
    const std::size_t n = v.size();

    // 1. Each gradient has the input's shape and only finite entries.
    const std::pair<const std::optional<Tensor>*, const char*> runs[] = {
        {&g1[i], "gradient"},
        {&g2[i], "gradient of the second use of f"},
        {&g12[i], "gradient of both uses of f"}};
    for (const auto& [g, what] : runs) {
      if (!*g) continue;
      if (shape_of(**g) != shape)
        return failure(name + ": " + what + " has shape " + shape_str((*g)->shape()) +
                       " but the input has shape " + shape_str(shape));
      for (std::size_t j = 0; j < n; ++j)
        if (!std::isfinite((*g)->data()[j])) {
          std::ostringstream os;
          os << name << ' ' << element_str(shape, j) << ": " << what << " is " << (*g)->data()[j]
             << " (an entry the backward never wrote, or an overflow)";
          return failure(os.str());
        }
    }

    // 2. Accumulation: the gradient of both uses is the sum of the separate ones.
    for (std::size_t j = 0; j < n; ++j) {
      const double a1 = g1[i] ? g1[i]->data()[j] : 0.0, a2 = g2[i] ? g2[i]->data()[j] : 0.0;
      const double a12 = g12[i] ? g12[i]->data()[j] : 0.0;
      if (!(std::abs(a12 - (a1 + a2)) <=
            o.accumulation_tol() * (1 + std::abs(a1) + std::abs(a2)))) {
        std::ostringstream os;
        os << name << ' ' << element_str(shape, j)
           << ": gradients do not accumulate: two uses of f give " << a12
           << " but the separate gradients sum to " << a1 << " + " << a2 << " = " << a1 + a2
           << " (a backward that assigns where it must add, or that changes state each run)";
        return failure(os.str());
      }
    }

    // 3. Finite differences: each element within its bound, and the mean error within its own.
    double sum_err = 0, sum_bound = 0, worst_err = -1;
    std::size_t bad = 0, first_bad = 0, worst = 0;
    double first_numeric = 0, first_bound = 0, worst_numeric = 0;
    for (std::size_t j = 0; j < n; ++j) {
      const double numeric = central_difference(f, v, j, w1, o.eps());
      if (!std::isfinite(numeric)) {
        std::ostringstream os;
        os << name << ' ' << element_str(shape, j) << ": numeric gradient is " << numeric
           << " (f is not finite within eps " << o.eps() << " of this point)";
        return failure(os.str());
      }
      const double analytic = g1[i] ? g1[i]->data()[j] : 0.0;
      const double err = std::abs(analytic - numeric);
      // With no gradient the numeric one must vanish within atol alone: relative slack on an
      // error whose analytic side is exactly 0 would only widen atol.
      const double bound = o.atol() + (g1[i] ? o.rtol() * std::abs(numeric) : 0.0);
      sum_err += err;
      sum_bound += bound;
      if (err > worst_err) {
        worst_err = err;
        worst = j;
        worst_numeric = numeric;
      }
      if (!(err <= bound) && bad++ == 0) {
        first_bad = j;
        first_numeric = numeric;
        first_bound = bound;
      }
    }
    if (n == 0) continue;
    const double mean_err = sum_err / double(n);
    const double mean_bound = o.mean_tol() * sum_bound / double(n);
    res.max_abs_error = std::max(res.max_abs_error, worst_err);
    res.mean_abs_error = std::max(res.mean_abs_error, mean_err);
    if (bad) {
      std::ostringstream os;
      os << name << ' ' << element_str(shape, first_bad) << ": analytic "
         << analytic_str(g1[i], first_bad) << " vs numeric " << first_numeric << " (error "
         << std::abs((g1[i] ? g1[i]->data()[first_bad] : 0.0) - first_numeric) << " > its bound "
         << first_bound << "); " << bad << " of " << n
         << " elements over their bound; mean abs error " << mean_err;
      return failure(os.str());
    }
    if (!(mean_err <= mean_bound)) {
      std::ostringstream os;
      os << name << ": mean abs error " << mean_err << " over its bound " << mean_bound
         << " (mean_tol " << o.mean_tol()
         << " times the mean per-element bound), though every element is within its own; "
            "largest error at "
         << element_str(shape, worst) << ": analytic " << analytic_str(g1[i], worst)
         << " vs numeric " << worst_numeric;
      return failure(os.str());
    }
  }
  return res;
}

}  // namespace

GradcheckResult gradcheck(const std::function<Variable(const std::vector<Variable>&)>& f,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& opts) {
  // One set of variables, perturbed in place like any other variable: the inputs go through
  // exactly the code that checks layer weights.
  std::vector<Variable> vars;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    vars.emplace_back(inputs[i], true, "input" + std::to_string(i));
    names.push_back("input " + std::to_string(i));
  }
  return check([&] { return f(vars); }, vars, names, opts);
}

GradcheckResult gradcheck_variables(const std::function<Variable()>& f,
                                    const std::vector<Variable>& variables,
                                    const GradcheckOptions& opts) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < variables.size(); ++i) {
    if (!variables[i].defined())
      fail(kGradcheck, "variable " + std::to_string(i) + " is undefined");
    const std::string& n = variables[i].name();
    names.push_back(n.empty() ? "variable " + std::to_string(i) : "variable '" + n + "'");
  }
  return check(f, variables, names, opts);
}

}  // namespace tapeflow
