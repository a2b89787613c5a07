#pragma once
/// What `Model::compile(optimizer, loss, metrics, loss_weights)` takes, each by Keras name or as
/// an object (Keras' `compile` arguments):
/// - optimizer: "sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "adamax", "nadam"
///   (Keras' defaults), a `std::shared_ptr<Optimizer>`, or an `Optimizer&` the caller keeps
///   alive (e.g. to save it with `save_checkpoint` later);
/// - loss: a name of `losses::get` ("mse", "binary_crossentropy", ...) or a function
///   `(y_true, y_pred) -> scalar Variable`; one for every output, or a list with one per output;
/// - metrics: names of `metrics::get`, or "accuracy" / "acc", which becomes binary, sparse
///   categorical or categorical accuracy from the shapes of the first batch as Keras chooses
///   (an output of last size 1: binary; labels of lower rank or of last size 1 against more
///   classes: sparse categorical; else categorical), or `Metric` objects. With several outputs
///   each metric is computed for each output and logged as "<output layer>_<metric>";
/// - loss_weights: one factor per output (the total loss is the weighted sum).
///
/// Example:
/// ```
/// model.compile("adam", "binary_crossentropy", {"accuracy"});
/// model.compile(std::make_shared<tf::optim::SGD>(tf::optim::SGDOptions().learning_rate(0.1)),
///               [](const tf::Variable& t, const tf::Variable& p) { return tf::losses::huber(t, p,
///               0.5f); }, {std::make_shared<tf::metrics::AUC>()});
/// ```
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "tapeflow/framework/core/variable.hpp"
#include "tapeflow/framework/metrics/metric.hpp"
#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::training {

using LossFn = std::function<Variable(const Variable& y_true, const Variable& y_pred)>;

/// An optimizer by name or object.
class OptimizerArg {
 public:
  OptimizerArg(const char* name);                             // NOLINT(google-explicit-constructor)
  OptimizerArg(const std::string& name);                      // NOLINT(google-explicit-constructor)
  OptimizerArg(std::shared_ptr<optim::Optimizer> optimizer);  // NOLINT
  template <class O, std::enable_if_t<std::is_base_of_v<optim::Optimizer, O>, int> = 0>
  OptimizerArg(std::shared_ptr<O> optimizer)  // NOLINT(google-explicit-constructor)
      : OptimizerArg(std::static_pointer_cast<optim::Optimizer>(std::move(optimizer))) {}
  /// Borrowed: the caller keeps `optimizer` alive while the model trains with it.
  OptimizerArg(optim::Optimizer& optimizer);  // NOLINT(google-explicit-constructor)
  /// The optimizer (made from the name on each call).
  std::shared_ptr<optim::Optimizer> resolve() const;

 private:
  std::string name_;
  std::shared_ptr<optim::Optimizer> optimizer_;
};

/// One loss: a name of `losses::get`, or a function with a name for the logs.
class Loss {
 public:
  Loss(const char* name);         // NOLINT(google-explicit-constructor)
  Loss(const std::string& name);  // NOLINT(google-explicit-constructor)
  template <class F,
            std::enable_if_t<std::is_invocable_r_v<Variable, F, const Variable&, const Variable&>,
                             int> = 0>
  Loss(F fn, std::string name = "loss")  // NOLINT(google-explicit-constructor)
      : name_(std::move(name)), fn_(std::move(fn)) {}
  const std::string& name() const { return name_; }
  Variable operator()(const Variable& y_true, const Variable& y_pred) const {
    return fn_(y_true, y_pred);
  }

 private:
  std::string name_;
  LossFn fn_;
};

/// The loss of every output, or a list of one per output.
class Losses {
 public:
  Losses(const char* name) : losses_{Loss(name)} {}         // NOLINT
  Losses(const std::string& name) : losses_{Loss(name)} {}  // NOLINT
  Losses(Loss loss) : losses_{std::move(loss)} {}           // NOLINT
  template <class F,
            std::enable_if_t<std::is_invocable_r_v<Variable, F, const Variable&, const Variable&>,
                             int> = 0>
  Losses(F fn) : losses_{Loss(std::move(fn))} {}  // NOLINT(google-explicit-constructor)
  Losses(std::initializer_list<Loss> losses) : losses_(losses) {}
  Losses(std::vector<Loss> losses) : losses_(std::move(losses)) {}  // NOLINT
  const std::vector<Loss>& list() const { return losses_; }

 private:
  std::vector<Loss> losses_;
};

/// A metric by name or object. A metric object given for several outputs is cloned per output.
class MetricArg {
 public:
  MetricArg(const char* name) : name_(name) {}                                        // NOLINT
  MetricArg(std::string name) : name_(std::move(name)) {}                             // NOLINT
  MetricArg(std::shared_ptr<metrics::Metric> metric) : metric_(std::move(metric)) {}  // NOLINT
  template <class M, std::enable_if_t<std::is_base_of_v<metrics::Metric, M>, int> = 0>
  MetricArg(std::shared_ptr<M> metric) : metric_(std::move(metric)) {}  // NOLINT
  const std::string& name() const { return name_; }
  const std::shared_ptr<metrics::Metric>& metric() const { return metric_; }

 private:
  std::string name_;
  std::shared_ptr<metrics::Metric> metric_;
};

}  // namespace tapeflow::training
