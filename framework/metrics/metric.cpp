#include "tapeflow/framework/metrics/metric.hpp"

#include <functional>
#include <utility>

#include "tapeflow/framework/metrics/accuracy_metrics.hpp"
#include "tapeflow/framework/metrics/confusion_metrics.hpp"
#include "tapeflow/framework/metrics/iou_metrics.hpp"
#include "tapeflow/framework/metrics/mean_metrics.hpp"

namespace tapeflow::metrics {

Metric::Metric(std::string name) : name_(std::move(name)) {
  if (name_.empty()) fail("Metric", "name is empty (it is the log key)");
}
Metric::~Metric() = default;

void Metric::set_name(std::string name) {
  if (name.empty()) fail(where(), "set_name: the name is empty (it is the log key)");
  name_ = std::move(name);
}

std::string Metric::class_name() const { return "Metric"; }

std::string Metric::where() const { return class_name() + " '" + name_ + "'"; }

double Metric::operator()(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight) {
  update_state(y_true, y_pred, sample_weight);
  return result();
}

bool is_unweighted(const Tensor& sample_weight) {
  return sample_weight.dimension() == 0 || sample_weight.size() == 0;
}

namespace {

using Factory = std::function<std::unique_ptr<Metric>(const std::string& name)>;
struct Entry {
  const char* key;
  Factory make;
};

// Every metric with its default configuration (the constructors' defaults) and the given name.
template <class M>
Factory named() {
  return [](const std::string& name) -> std::unique_ptr<Metric> {
    auto m = std::make_unique<M>();
    m->set_name(name);
    return m;
  };
}

const std::vector<Entry>& registry() {
  static const std::vector<Entry> entries = {
      {"mse", named<MeanSquaredError>()},
      {"MSE", named<MeanSquaredError>()},
      {"mean_squared_error", named<MeanSquaredError>()},
      {"mae", named<MeanAbsoluteError>()},
      {"MAE", named<MeanAbsoluteError>()},
      {"mean_absolute_error", named<MeanAbsoluteError>()},
      {"accuracy", named<Accuracy>()},
      {"binary_accuracy", named<BinaryAccuracy>()},
      {"categorical_accuracy", named<CategoricalAccuracy>()},
      {"sparse_categorical_accuracy", named<SparseCategoricalAccuracy>()},
      {"top_k_categorical_accuracy", named<TopKCategoricalAccuracy>()},
      {"precision", named<Precision>()},
      {"recall", named<Recall>()},
      {"auc", named<AUC>()},
      {"binary_iou", named<BinaryIoU>()},
      {"binary_io_u", named<BinaryIoU>()},
      {"dice", named<Dice>()},
      {"MeanSquaredError", named<MeanSquaredError>()},
      {"MeanAbsoluteError", named<MeanAbsoluteError>()},
      {"Accuracy", named<Accuracy>()},
      {"BinaryAccuracy", named<BinaryAccuracy>()},
      {"CategoricalAccuracy", named<CategoricalAccuracy>()},
      {"SparseCategoricalAccuracy", named<SparseCategoricalAccuracy>()},
      {"TopKCategoricalAccuracy", named<TopKCategoricalAccuracy>()},
      {"Precision", named<Precision>()},
      {"Recall", named<Recall>()},
      {"AUC", named<AUC>()},
      {"BinaryIoU", named<BinaryIoU>()},
      {"Dice", named<Dice>()},
  };
  return entries;
}

}  // namespace

std::vector<std::string> known_names() {
  std::vector<std::string> names;
  for (const auto& e : registry()) names.emplace_back(e.key);
  return names;
}

std::unique_ptr<Metric> get(const std::string& name) {
  for (const auto& e : registry())
    if (name == e.key) return e.make(name);
  std::string known;
  for (const auto& e : registry()) known += (known.empty() ? "" : ", ") + std::string(e.key);
  fail("metrics::get", "unknown metric '" + name + "' (known: " + known + ")");
}

}  // namespace tapeflow::metrics
