#pragma once
/// Keras losses as differentiable free functions, Keras argument order `(y_true, y_pred)`.
///
/// Each returns a scalar with Keras' default reduction (`sum_over_batch_size`): the per-sample
/// loss (a mean over the last axis for the elementwise losses, a sum over the class axis for the
/// cross-entropies), then the mean over every remaining element.
///
/// Shapes: `y_true` and `y_pred` must have the same shape, except that, as Keras'
/// `squeeze_or_expand_to_same_rank`, one may have an extra trailing axis of length 1
/// (`(N,)` against `(N, 1)`). Anything else is an Error naming the loss and both shapes; nothing
/// is broadcast (a silent `(N,)` x `(N, 1)` -> `(N, N)` broadcast is a classic bug).
/// Gradients flow to both arguments.
#include <functional>
#include <string>
#include <vector>

#include "tapeflow/framework/ops/ops.hpp"

namespace tapeflow::losses {

/// Keras' `backend.epsilon()`: probabilities are clipped to `[kEpsilon, 1 - kEpsilon]`.
inline constexpr float kEpsilon = 1e-7f;

/// `mean((y_true - y_pred)^2)`. Example: `auto l = tapeflow::losses::mean_squared_error(t, y);`
Variable mean_squared_error(const Variable& y_true, const Variable& y_pred);
/// `mean(|y_true - y_pred|)`. Example: `mean_absolute_error(t, y)`.
Variable mean_absolute_error(const Variable& y_true, const Variable& y_pred);
/// Keras aliases. Example: `mse(t, y)`.
inline Variable mse(const Variable& y_true, const Variable& y_pred) {
  return mean_squared_error(y_true, y_pred);
}
inline Variable mae(const Variable& y_true, const Variable& y_pred) {
  return mean_absolute_error(y_true, y_pred);
}

/// Huber loss of `e = y_pred - y_true`: `0.5 * e^2` where `|e| <= delta`, else
/// `delta * |e| - 0.5 * delta^2`, averaged. `delta` must be >= 0. Example: `huber(t, y, 0.5f)`.
Variable huber(const Variable& y_true, const Variable& y_pred, float delta = 1.f);

/// Binary cross-entropy, averaged over every element.
/// Probabilities (Keras 3): `p = clip(y_pred, eps, 1 - eps)`,
/// `-(t * log(p) + (1 - t) * log(1 - p))` (tf.keras 2 also added eps inside the logs; Keras 3
/// does not, nor do we). Logits (`from_logits`): `max(x, 0) - x * t + log(1 + exp(-|x|))`,
/// finite for any finite logit. `label_smoothing` in [0, 1] moves targets to
/// `t * (1 - ls) + 0.5 * ls`.
/// Example: `binary_crossentropy(t, logits, /*from_logits=*/true)`.
Variable binary_crossentropy(const Variable& y_true, const Variable& y_pred,
                             bool from_logits = false, float label_smoothing = 0.f);

/// Categorical cross-entropy over the class axis `axis` (default -1), then the mean over the
/// other elements. Probabilities (Keras): `p = clip(y_pred / sum(y_pred, axis), eps, 1 - eps)`,
/// `-sum(t * log(p), axis)`. Logits: `-sum(t * log_softmax(x, axis), axis)`, finite for any
/// finite logits. `label_smoothing` in [0, 1] moves one-hot targets to
/// `t * (1 - ls) + ls / num_classes` (num_classes = size of the class axis).
/// Note: Keras' order is (from_logits, label_smoothing, axis); tapeflow puts `axis` before
/// `label_smoothing` so that an int axis can never silently become a smoothing factor.
/// Example: `categorical_crossentropy(onehot, probs)`, `categorical_crossentropy(t, x, true, 1)`.
Variable categorical_crossentropy(const Variable& y_true, const Variable& y_pred,
                                  bool from_logits = false, int axis = -1,
                                  float label_smoothing = 0.f);

/// Categorical cross-entropy with integer class labels over the last axis of `y_pred`.
/// `labels` has shape `y_pred.shape[:-1]` (or that plus a trailing 1), given as an `IndexTensor`
/// or as floats holding integers; a label outside `[0, num_classes)` (or not an integer) is an
/// Error naming the loss, the label and the number of classes. Labels get no gradient.
/// Probabilities (Keras 3): `-log_softmax(log(clip(y_pred, eps, 1 - eps)))[label]`, i.e. the
/// clipped probabilities renormalized; logits: `-log_softmax(y_pred)[label]`.
/// Example: `sparse_categorical_crossentropy(IndexTensor{2, 0}, logits, /*from_logits=*/true)`.
Variable sparse_categorical_crossentropy(const IndexTensor& labels, const Variable& y_pred,
                                         bool from_logits = false);
Variable sparse_categorical_crossentropy(const Variable& labels, const Variable& y_pred,
                                         bool from_logits = false);
/// (A `Tensor` would otherwise convert to both `IndexTensor` and `Variable`.)
Variable sparse_categorical_crossentropy(const Tensor& labels, const Variable& y_pred,
                                         bool from_logits = false);

/// A loss as a function of `(y_true, y_pred)`, with its default arguments.
using LossFunction = std::function<Variable(const Variable& y_true, const Variable& y_pred)>;

/// A loss by Keras name (`keras.losses.get`), the function's or the class's:
/// "mean_squared_error" / "mse" / "MeanSquaredError", "mean_absolute_error" / "mae",
/// "huber", "binary_crossentropy", "categorical_crossentropy",
/// "sparse_categorical_crossentropy" (each with its defaults: probabilities, not logits).
/// Errors: an unknown name (a ValueError listing the known ones).
/// Example: `auto l = tapeflow::losses::get("mse")(y_true, y_pred);`
LossFunction get(const std::string& name);
/// The snake_case names `get` knows.
std::vector<std::string> loss_names();

}  // namespace tapeflow::losses
