#pragma once
/// Gradient clipping on plain tensors, as TensorFlow's `tf.clip_by_norm` and
/// `tf.clip_by_global_norm`; the optimizers' `clipnorm`, `global_clipnorm` and `clipvalue`
/// options use them (clipping by value is `xt::clip(g, -v, v)`, which keeps NaN).
#include <vector>

#include "tapeflow/framework/core/tensor.hpp"

namespace tapeflow::optim {

/// `t * clip_norm / max(||t||_2, clip_norm)`: `t` unchanged when its L2 norm is at most
/// `clip_norm`, otherwise rescaled to that norm. A zero tensor stays zero. As TF, a NaN element
/// makes every element NaN; an infinite one makes itself NaN and the finite ones 0.
/// Errors: `clip_norm` not finite or not > 0.
/// Example: `clip_by_norm(Tensor{3.f, 4.f}, 1.f)` is `{0.6, 0.8}`.
Tensor clip_by_norm(const Tensor& t, float clip_norm);

/// `sqrt(sum of the squares of every element of every tensor)`, accumulated in double.
/// Example: `global_norm({Tensor{3.f}, Tensor{4.f}})` is 5.
double global_norm(const std::vector<Tensor>& ts);

/// Scales every tensor by `clip_norm / max(global_norm(ts), clip_norm)`, so the global norm is at
/// most `clip_norm`. Like TF, a non-finite global norm makes every output NaN. The global norm
/// before clipping is stored in `*norm_out` when given.
/// Errors: `clip_norm` not finite or not > 0.
/// Example: `clip_by_global_norm({Tensor{3.f}, Tensor{4.f}}, 1.f)` is `{{0.6}, {0.8}}`.
std::vector<Tensor> clip_by_global_norm(const std::vector<Tensor>& ts, float clip_norm,
                                        double* norm_out = nullptr);

}  // namespace tapeflow::optim
