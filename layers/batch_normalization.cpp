#include "tapeflow/layers/batch_normalization.hpp"

#include <algorithm>
#include <cmath>

#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/normalization.hpp"
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

BatchNormalization::BatchNormalization(const BatchNormalizationOptions& options)
    : Layer("batch_normalization", options.common()), options_(options) {
  if (options_.axis().empty()) fail(name(), "axis is empty (give at least one axis)");
  if (!(options_.momentum() >= 0.f && options_.momentum() <= 1.f))
    fail(name(), "momentum must be in [0, 1], got " + config_float(options_.momentum()));
  if (!(options_.epsilon() >= 0.f) || !std::isfinite(options_.epsilon()))
    fail(name(), "epsilon must be a finite number >= 0, got " + config_float(options_.epsilon()));
}

void BatchNormalization::build(const Shape& s) {
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
  // Keras: (C,) for one axis; the full rank with 1 elsewhere for several.
  Shape param;
  if (axes_.size() == 1) {
    param = {s[axes_[0]]};
  } else {
    param.assign(s.size(), 1);
    for (auto a : axes_) param[a] = s[a];
  }
  if (options_.scale())
    gamma_ = add_weight("gamma", param, options_.gamma_initializer(), options_.gamma_regularizer(),
                        options_.gamma_constraint());
  if (options_.center())
    beta_ = add_weight("beta", param, options_.beta_initializer(), options_.beta_regularizer(),
                       options_.beta_constraint());
  moving_mean_ = add_weight("moving_mean", param, options_.moving_mean_initializer(), {}, {},
                            /*trainable=*/false);
  moving_variance_ =
      add_weight("moving_variance", param, options_.moving_variance_initializer(), {}, {},
                 /*trainable=*/false);
  InputSpec spec;
  spec.ndim = s.size();
  for (auto a : axes_) spec.axes[static_cast<int>(a)] = s[a];
  set_input_spec(spec);
  // Registered last: nothing after this can throw, so the base's rollback of a failed build
  // (which knows only add_weight's entries) is never needed for them.
  Graph g = graph();
  Variable mm = moving_mean_, mv = moving_variance_;
  g.add_to_collection(
      GraphKeys::UPDATE_OPS, [mm] { return mm; }, scope_name() + "/AssignMovingAvg");
  g.add_to_collection(
      GraphKeys::UPDATE_OPS, [mv] { return mv; }, scope_name() + "/AssignMovingAvg_1");
}

Variable BatchNormalization::call(const Variable& x, bool training) {
  const Shape s = x.shape();
  std::vector<long> bshape(s.size(), 1);
  for (auto a : axes_) bshape[a] = static_cast<long>(s[a]);
  const Variable eps = scalar(options_.epsilon());
  Variable y;
  // The moving averages are state, not part of the differentiated computation: update the
  // stored values from the batch statistics' values.
  auto update_moving = [&](Tensor bm, Tensor bv) {
    const float m = options_.momentum();
    bm.reshape(moving_mean_.shape());
    bv.reshape(moving_variance_.shape());
    moving_mean_.assign(Tensor(moving_mean_.value() * m + bm * (1.f - m)));
    moving_variance_.assign(Tensor(moving_variance_.value() * m + bv * (1.f - m)));
  };
  if (training && trainable() && axes_.size() == 1 && axes_[0] + 1 == s.size()) {
    // Channels last (the usual case): one fused op.
    BatchNormResult r = batch_norm_channels_last(x, gamma_, beta_, options_.epsilon());
    if (x.value().size() > 0) update_moving(std::move(r.mean), std::move(r.variance));
    return r.y;
  }
  if (training && trainable()) {
    Axes red;
    std::size_t count = 1;
    for (std::size_t i = 0; i < s.size(); ++i)
      if (!std::binary_search(axes_.begin(), axes_.end(), i)) {
        red.push_back(static_cast<int>(i));
        count *= s[i];
      }
    Variable mu = mean(x, red, /*keepdims=*/true);
    Variable centered = sub(x, mu);
    Variable var = mean(square(centered), red, /*keepdims=*/true);
    y = mul(centered, rsqrt(add(var, eps)));
    if (count > 0) update_moving(mu.value(), var.value());
  } else {
    Variable mm = reshape(moving_mean_, bshape);
    Variable mv = reshape(moving_variance_, bshape);
    y = mul(sub(x, mm), rsqrt(add(mv, eps)));
  }
  if (gamma_.defined()) y = mul(y, reshape(gamma_, bshape));
  if (beta_.defined()) y = add(y, reshape(beta_, bshape));
  return y;
}

Config BatchNormalization::get_config() const {
  Config c = Layer::get_config();
  c["axis"] = axis_str(options_.axis());
  c["momentum"] = config_float(options_.momentum());
  c["epsilon"] = config_float(options_.epsilon());
  c["center"] = config_bool(options_.center());
  c["scale"] = config_bool(options_.scale());
  c["beta_initializer"] = options_.beta_initializer().repr();
  c["gamma_initializer"] = options_.gamma_initializer().repr();
  c["moving_mean_initializer"] = options_.moving_mean_initializer().repr();
  c["moving_variance_initializer"] = options_.moving_variance_initializer().repr();
  c["beta_regularizer"] = repr_or_none(options_.beta_regularizer());
  c["gamma_regularizer"] = repr_or_none(options_.gamma_regularizer());
  c["beta_constraint"] = repr_or_none(options_.beta_constraint());
  c["gamma_constraint"] = repr_or_none(options_.gamma_constraint());
  return c;
}

std::string BatchNormalization::extra_repr() const {
  std::string s = "axis=" + axis_str(options_.axis()) +
                  ", momentum=" + config_float(options_.momentum()) +
                  ", epsilon=" + config_float(options_.epsilon());
  if (!options_.center()) s += ", center=false";
  if (!options_.scale()) s += ", scale=false";
  return s;
}

}  // namespace tapeflow::layers
