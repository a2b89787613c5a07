#include "tapeflow/layers/batch_normalization.hpp"

#include <algorithm>
#include <cmath>

#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/normalization.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

BatchNormalization::BatchNormalization(const BatchNormalizationOptions& options)
    : BatchNormalization("batch_normalization", options) {}

BatchNormalization::BatchNormalization(const std::string& default_name,
                                       const BatchNormalizationOptions& options)
    : Normalization(default_name, options) {
  if (!(options_.momentum() >= 0.f && options_.momentum() <= 1.f))
    fail(name(), "momentum must be in [0, 1], got " + config_float(options_.momentum()));
}

void BatchNormalization::build(const Shape& s) {
  build_axes(s);
  // Keras: (C,) for one axis; the full rank with 1 elsewhere for several.
  Shape param;
  if (axes_.size() == 1) {
    param = {s[axes_[0]]};
  } else {
    param.assign(s.size(), 1);
    for (auto a : axes_) param[a] = s[a];
  }
  add_gamma_beta(param);
  moving_mean_ = add_weight("moving_mean", param, options_.moving_mean_initializer(), {}, {},
                            /*trainable=*/false);
  moving_variance_ =
      add_weight("moving_variance", param, options_.moving_variance_initializer(), {}, {},
                 /*trainable=*/false);
  fix_input_spec(s);
  // Tracked: the base takes them out of the graph with the layer (and on a failed build).
  Graph g = graph();
  Variable mm = moving_mean_, mv = moving_variance_;
  track_graph_entry(GraphKeys::UPDATE_OPS, g.add_to_collection(
                                               GraphKeys::UPDATE_OPS, [mm] { return mm; },
                                               scope_name() + "/AssignMovingAvg"));
  track_graph_entry(GraphKeys::UPDATE_OPS, g.add_to_collection(
                                               GraphKeys::UPDATE_OPS, [mv] { return mv; },
                                               scope_name() + "/AssignMovingAvg_1"));
}

// The moving averages are state, not part of the differentiated computation: update the stored
// values from the batch statistics' values.
void BatchNormalization::update_moving(Tensor bm, Tensor bv) {
  const float m = options_.momentum();
  bm.reshape(moving_mean_.shape());
  bv.reshape(moving_variance_.shape());
  moving_mean_.assign(Tensor(moving_mean_.value() * m + bm * (1.f - m)));
  moving_variance_.assign(Tensor(moving_variance_.value() * m + bv * (1.f - m)));
}

Variable BatchNormalization::call(const Variable& x, bool training) {
  const Shape s = x.shape();
  const std::vector<long> bshape = broadcast_shape(s);
  const Variable eps = scalar(options_.epsilon());
  Variable y;
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
  } else if (axes_.size() == 1 && axes_[0] + 1 == s.size()) {
    // Channels last, fixed statistics: (x - mean) * rsqrt(variance + eps) * gamma + beta as
    // x * scale + shift, one pass over x.
    const long C = static_cast<long>(s.back());
    Variable scale = rsqrt(add(reshape(moving_variance_, {C}), eps));
    if (gamma_.defined()) scale = mul(scale, gamma_);
    Variable shift = neg(mul(reshape(moving_mean_, {C}), scale));
    if (beta_.defined()) shift = add(shift, beta_);
    return channel_affine(x, scale, shift);
  } else {
    Variable mm = reshape(moving_mean_, bshape);
    Variable mv = reshape(moving_variance_, bshape);
    y = mul(sub(x, mm), rsqrt(add(mv, eps)));
  }
  return scale_and_shift(y, bshape);
}

TAPEFLOW_REGISTER_LAYER(BatchNormalization)

}  // namespace tapeflow::layers
