#include "tapeflow/layers/prelu.hpp"

#include <set>

#include "tapeflow/framework/ops/activations.hpp"
#include "tapeflow/framework/ops/ops.hpp"

namespace tapeflow::layers {

namespace {
template <class T>
std::string repr_or_none(const T& v) {
  return v.defined() ? v.repr() : "None";
}
std::vector<long long> to_ll(const std::vector<int>& v) { return {v.begin(), v.end()}; }
}  // namespace

PReLU::PReLU(const PReLUOptions& options) : Layer("p_re_lu", options.common()), options_(options) {
  if (!options_.alpha_initializer().defined()) fail(name(), "alpha_initializer is undefined");
  for (int a : options_.shared_axes())
    if (a < 1)
      fail(name(), "shared_axes must be input axes >= 1 (axis 0 is the batch), got " +
                       config_ints(to_ll(options_.shared_axes())));
  InputSpec spec;
  spec.min_ndim = 2;
  set_input_spec(spec);
}

void PReLU::build(const Shape& s) {
  Shape param(s.begin() + 1, s.end());
  std::set<int> shared(options_.shared_axes().begin(), options_.shared_axes().end());
  for (int a : shared) {
    if (static_cast<std::size_t>(a) >= s.size())
      fail(name(), "shared_axes " + config_ints(to_ll(options_.shared_axes())) + " has axis " +
                       std::to_string(a) + ", out of range for an input of shape " + shape_str(s) +
                       " (axes 1 to " + std::to_string(s.size() - 1) + ")");
    param[static_cast<std::size_t>(a) - 1] = 1;
  }
  alpha_ = add_weight("alpha", param, options_.alpha_initializer(), options_.alpha_regularizer(),
                      options_.alpha_constraint());
  // Keras' InputSpec after build: the rank and every non-shared size are fixed.
  InputSpec spec;
  spec.ndim = s.size();
  for (std::size_t i = 1; i < s.size(); ++i)
    if (!shared.count(static_cast<int>(i))) spec.axes[static_cast<int>(i)] = s[i];
  set_input_spec(spec);
}

Variable PReLU::call(const Variable& x, bool) {
  // Keras: relu(x) - alpha * relu(-x); alpha broadcasts over the batch and the shared axes.
  return sub(activations::relu(x), mul(alpha_, activations::relu(neg(x))));
}

Config PReLU::get_config() const {
  Config c = Layer::get_config();
  c["alpha_initializer"] = options_.alpha_initializer().repr();
  c["alpha_regularizer"] = repr_or_none(options_.alpha_regularizer());
  c["alpha_constraint"] = repr_or_none(options_.alpha_constraint());
  c["shared_axes"] =
      options_.shared_axes().empty() ? "None" : config_ints(to_ll(options_.shared_axes()));
  return c;
}

std::string PReLU::extra_repr() const {
  if (options_.shared_axes().empty()) return "";
  return "shared_axes=" + config_ints(to_ll(options_.shared_axes()));
}

}  // namespace tapeflow::layers
