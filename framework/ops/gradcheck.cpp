#include "tapeflow/framework/ops/gradcheck.hpp"

#include <cmath>
#include <random>
#include <sstream>

#include "tapeflow/framework/ops/ops.hpp"

namespace tapeflow {

namespace {
double weighted_sum(const Tensor& y, const Tensor& w) {
  double s = 0;
  for (std::size_t i = 0; i < y.size(); ++i) s += double(y.data()[i]) * double(w.data()[i]);
  return s;
}
}  // namespace

GradcheckResult gradcheck(const std::function<Variable(const std::vector<Variable>&)>& f,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& opts) {
  GradcheckResult res;
  auto make_vars = [&](const std::vector<Tensor>& vals) {
    std::vector<Variable> vs;
    for (std::size_t i = 0; i < vals.size(); ++i)
      vs.emplace_back(vals[i], true, "input" + std::to_string(i));
    return vs;
  };

  // Analytic gradients of sum(f(x) * w).
  std::vector<Variable> vars = make_vars(inputs);
  Tensor w;
  std::vector<Variable> grads, grads_twice;
  {
    GradientTape tape(/*persistent=*/true);
    Variable y = f(vars);
    std::mt19937 rng(opts.seed);
    std::uniform_real_distribution<float> dist(0.5f, 1.5f);
    w = Tensor::from_shape(y.value().shape());
    for (auto& e : w) e = (rng() & 1) ? dist(rng) : -dist(rng);
    Variable loss = sum(mul(y, Variable(w)));
    grads = tape.gradient(loss, vars);
    Variable loss2 = add(loss, sum(mul(f(vars), Variable(w))));
    grads_twice = tape.gradient(loss2, vars);
  }

  std::vector<Tensor> vals = inputs;
  for (std::size_t i = 0; i < vals.size(); ++i) {
    std::string in_name = "input " + std::to_string(i);
    if (!grads[i].defined()) {
      bool nonzero = false;
      // An input the output does not depend on must have a zero numeric gradient.
      for (std::size_t j = 0; j < vals[i].size() && !nonzero; ++j) {
        float orig = vals[i].data()[j];
        vals[i].data()[j] = orig + float(opts.eps);
        double fp = weighted_sum(f(make_vars(vals)).value(), w);
        vals[i].data()[j] = orig - float(opts.eps);
        double fm = weighted_sum(f(make_vars(vals)).value(), w);
        vals[i].data()[j] = orig;
        nonzero = std::abs((fp - fm) / (2 * opts.eps)) > opts.atol;
      }
      if (nonzero) {
        res.ok = false;
        res.message = in_name + ": no gradient, but the output depends on it";
        return res;
      }
      continue;
    }
    const Tensor& g = grads[i].value();
    if (shape_of(g) != shape_of(vals[i])) {
      res.ok = false;
      res.message = in_name + ": gradient shape " + shape_str(g.shape()) + " != input shape " +
                    shape_str(vals[i].shape());
      return res;
    }
    for (std::size_t j = 0; j < vals[i].size(); ++j) {
      float orig = vals[i].data()[j];
      vals[i].data()[j] = orig + float(opts.eps);
      double fp = weighted_sum(f(make_vars(vals)).value(), w);
      vals[i].data()[j] = orig - float(opts.eps);
      double fm = weighted_sum(f(make_vars(vals)).value(), w);
      vals[i].data()[j] = orig;
      double numeric = (fp - fm) / (2 * opts.eps);
      double analytic = g.data()[j];
      double err = std::abs(analytic - numeric);
      res.max_abs_error = std::max(res.max_abs_error, err);
      if (!std::isfinite(analytic) || err > opts.atol + opts.rtol * std::abs(numeric)) {
        std::ostringstream os;
        os << in_name << " element " << j << ": analytic " << analytic << " vs numeric "
           << numeric;
        res.ok = false;
        res.message = os.str();
        return res;
      }
      double twice = grads_twice[i].value().data()[j];
      if (std::abs(twice - 2 * analytic) > 1e-4 + 1e-4 * std::abs(analytic)) {
        std::ostringstream os;
        os << in_name << " element " << j << ": gradients do not accumulate (" << twice
           << " vs 2 * " << analytic << ")";
        res.ok = false;
        res.message = os.str();
        return res;
      }
    }
  }
  return res;
}

}  // namespace tapeflow
