#pragma once
/// Keras' stateful metrics: the `Metric` base and `get`, the registry by Keras name.
///
/// A metric accumulates its state over batches (`update_state`), reports the value of all the
/// batches seen so far (`result`), and starts over with `reset_state`. Every metric computes in
/// double precision and, as Keras' `divide_no_nan`, reports 0 before its first update.
///
/// Sample weights (`sample_weight`): a rank-0 tensor, such as the default `Tensor()`, or a tensor
/// with no elements means none (every weight 1). A number is not accepted where a weight goes
/// (a deleted overload stops `update_state(t, p, 0.5)` at compile time: a scalar tensor would be
/// no weight at all); a uniform weight is `Tensor{w}`, shape (1,). Otherwise the weights align with
/// the leading axes of `y_true` (per sample `(N,)`, per element `y_true`'s shape, or anything
/// between whose axes are 1 or match), as Keras' `expand_dims(sample_weight, -1)` does for one
/// axis less; the metric-specific rules are in each class's comment.
///
/// Example:
/// ```
/// auto acc = tapeflow::metrics::get("binary_accuracy");
/// acc->update_state(y_true, y_pred);          // one batch
/// acc->update_state(y_true2, y_pred2);        // the next
/// double value = acc->result();               // over both batches
/// auto val_acc = acc->clone();                // same configuration, fresh state
/// ```
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "tapeflow/framework/core/tensor.hpp"

namespace tapeflow::metrics {

/// Keras' `Metric`: stateful, accumulated over batches. `name()` is the log key
/// ("binary_accuracy", or the name the user gave). Subclasses implement `update_state`, `result`,
/// `reset_state` and `clone`.
///
/// Example: `std::unique_ptr<Metric> m = std::make_unique<BinaryAccuracy>(); m->update_state(t,
/// p); double v = m->result();`
class Metric {
 public:
  virtual ~Metric();

  /// The log key, e.g. "binary_accuracy" or the user's name.
  const std::string& name() const { return name_; }
  void set_name(std::string name);
  /// The class name as Keras spells it ("BinaryAccuracy"); "Metric" unless a subclass says.
  virtual std::string class_name() const;

  /// Accumulates one batch. `y_true`/`y_pred` as Keras takes them (`y_pred` probabilities or
  /// scores); `sample_weight` as the top of this file says.
  virtual void update_state(const Tensor& y_true, const Tensor& y_pred,
                            const Tensor& sample_weight = Tensor()) = 0;
  /// A number where a weight goes is a mistake (it would become a rank-0 tensor: no weight).
  template <class W>
  requires std::is_arithmetic_v<W>
  void update_state(const Tensor& y_true, const Tensor& y_pred, W sample_weight) = delete;

  /// The current value (Keras' `result()`).
  virtual double result() const = 0;
  /// Back to the state before any update.
  virtual void reset_state() = 0;
  /// A metric of the same class and configuration (and name) with a fresh state: the validation
  /// copy of a training metric.
  virtual std::unique_ptr<Metric> clone() const = 0;

  /// Keras' `__call__`: `update_state` then `result`.
  double operator()(const Tensor& y_true, const Tensor& y_pred,
                    const Tensor& sample_weight = Tensor());

 protected:
  explicit Metric(std::string name);
  Metric(const Metric&) = default;
  Metric& operator=(const Metric&) = default;
  /// "ClassName 'name'", the start of every error message of this metric.
  std::string where() const;

 private:
  std::string name_;
};

/// True when `sample_weight` means "no weights": rank 0 (the default `Tensor()`) or no elements.
bool is_unweighted(const Tensor& sample_weight);

/// A metric by Keras name or alias, with its default configuration; the returned metric's
/// `name()` is the string given, as Keras' `compile` logs it: "mse"/"MSE"/"mean_squared_error",
/// "mae"/"MAE"/"mean_absolute_error", "accuracy" (exact match, Keras' `Accuracy` class),
/// "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
/// "top_k_categorical_accuracy", "precision", "recall", "auc", "binary_iou"/"binary_io_u",
/// "dice", and the class names ("MeanSquaredError", "BinaryAccuracy", "AUC", "BinaryIoU", ...).
/// Names are case-sensitive, as Keras'. Keras' `compile` reads "accuracy" as binary, categorical
/// or sparse accuracy depending on the loss and shapes; `get` does not guess (that choice belongs
/// to the training loop). An unknown name is a ValueError listing the known ones.
/// Example: `auto m = tapeflow::metrics::get("mae");  // m->name() == "mae"`
std::unique_ptr<Metric> get(const std::string& name);

/// The names `get` knows (aliases and class names), in the order its error message lists them.
std::vector<std::string> known_names();

}  // namespace tapeflow::metrics
