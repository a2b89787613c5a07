#include "tapeflow/layers/layer_normalization.hpp"

#include <algorithm>
#include <cmath>

#include "tapeflow/framework/ops/ops.hpp"

namespace tapeflow::layers {

namespace {
template <class T>
std::string repr_or_none(const T& v) {
  return v.defined() ? v.repr() : "None";
}
std::string axis_str(const std::vector<int>& a) {
  if (a.size() == 1) return std::to_string(a[0]);
  return config_ints(std::vector<long long>(a.begin(), a.end()));
}
}  // namespace

LayerNormalization::LayerNormalization(const LayerNormalizationOptions& options)
    : Layer("layer_normalization", options.common()), options_(options) {
  if (options_.axis().empty()) fail(name(), "axis is empty (give at least one axis)");
  if (!(options_.epsilon() >= 0.f) || !std::isfinite(options_.epsilon()))
    fail(name(), "epsilon must be a finite number >= 0, got " + config_float(options_.epsilon()));
}

void LayerNormalization::build(const Shape& s) {
  const long rank = static_cast<long>(s.size());
  axes_.clear();
  for (int a : options_.axis()) {
    if (a < -rank || a >= rank)
      fail(name(), "axis " + axis_str(options_.axis()) + " is out of range for an input of shape " +
                       shape_str(s) + " (rank " + std::to_string(rank) + ")");
    axes_.push_back(static_cast<std::size_t>(a < 0 ? a + rank : a));
  }
  std::sort(axes_.begin(), axes_.end());
  if (std::adjacent_find(axes_.begin(), axes_.end()) != axes_.end())
    fail(name(), "axis " + axis_str(options_.axis()) + " repeats an axis of the input of shape " +
                     shape_str(s));
  Shape param;
  for (auto a : axes_) param.push_back(s[a]);
  // Keras creates gamma before beta.
  if (options_.scale())
    gamma_ = add_weight("gamma", param, options_.gamma_initializer(), options_.gamma_regularizer(),
                        options_.gamma_constraint());
  if (options_.center())
    beta_ = add_weight("beta", param, options_.beta_initializer(), options_.beta_regularizer(),
                       options_.beta_constraint());
  InputSpec spec;
  spec.ndim = s.size();
  for (auto a : axes_) spec.axes[static_cast<int>(a)] = s[a];
  set_input_spec(spec);
}

Variable LayerNormalization::call(const Variable& x, bool) {
  const Shape s = x.shape();
  Axes red(axes_.begin(), axes_.end());
  // The weights hold only the normalized axes; reshape them to broadcast against x.
  std::vector<long> bshape(s.size(), 1);
  for (auto a : axes_) bshape[a] = static_cast<long>(s[a]);
  Variable mu = mean(x, red, /*keepdims=*/true);
  Variable centered = sub(x, mu);
  Variable var = mean(square(centered), red, /*keepdims=*/true);
  Variable y = mul(centered, rsqrt(add(var, scalar(options_.epsilon()))));
  if (gamma_.defined()) y = mul(y, reshape(gamma_, bshape));
  if (beta_.defined()) y = add(y, reshape(beta_, bshape));
  return y;
}

Config LayerNormalization::get_config() const {
  Config c = Layer::get_config();
  c["axis"] = axis_str(options_.axis());
  c["epsilon"] = config_float(options_.epsilon());
  c["center"] = config_bool(options_.center());
  c["scale"] = config_bool(options_.scale());
  c["beta_initializer"] = options_.beta_initializer().repr();
  c["gamma_initializer"] = options_.gamma_initializer().repr();
  c["beta_regularizer"] = repr_or_none(options_.beta_regularizer());
  c["gamma_regularizer"] = repr_or_none(options_.gamma_regularizer());
  c["beta_constraint"] = repr_or_none(options_.beta_constraint());
  c["gamma_constraint"] = repr_or_none(options_.gamma_constraint());
  return c;
}

std::string LayerNormalization::extra_repr() const {
  std::string s =
      "axis=" + axis_str(options_.axis()) + ", epsilon=" + config_float(options_.epsilon());
  if (!options_.center()) s += ", center=false";
  if (!options_.scale()) s += ", scale=false";
  return s;
}

}  // namespace tapeflow::layers
