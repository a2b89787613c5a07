#include "tapeflow/framework/metrics/accuracy_metrics.hpp"
#include "tapeflow/framework/metrics/confusion_metrics.hpp"
#include "tapeflow/framework/metrics/iou_metrics.hpp"
#include "tapeflow/framework/metrics/mean_metrics.hpp"
#include "tapeflow/framework/metrics/metric.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::metrics;
using test::T;

// A number where a weight goes does not compile (it would be a rank-0 tensor: no weight).
template <class M, class W>
concept takes_weight = requires(M& m, const Tensor& t, W w) {
  m.update_state(t, t, w);
};
template <class W>
concept mean_takes_weight = requires(Mean& m, const Tensor& t, W w) {
  m.update_state(t, w);
};
static_assert(!takes_weight<Metric, double>);
static_assert(!takes_weight<Metric, int>);
static_assert(takes_weight<Metric, Tensor>);
static_assert(!takes_weight<Precision, float>);
static_assert(!takes_weight<BinaryAccuracy, float>);
static_assert(!takes_weight<MeanIoU, float>);
static_assert(!takes_weight<BinaryIoU, float>);
static_assert(!takes_weight<Dice, float>);
static_assert(takes_weight<Dice, Tensor>);
static_assert(!mean_takes_weight<float>);  // update_state(Tensor, 0.5f): no
static_assert(!mean_takes_weight<int>);
static_assert(requires(Mean & m) { m.update_state(2.0, 32.0); });
static_assert(mean_takes_weight<Tensor>);

TEST_CASE("get: Keras names and aliases, the name as given") {
  struct Case {
    const char* key;
    const char* class_name;
  };
  for (const Case& c : {Case{"mse", "MeanSquaredError"},
                        {"mean_squared_error", "MeanSquaredError"},
                        {"mae", "MeanAbsoluteError"},
                        {"mean_absolute_error", "MeanAbsoluteError"},
                        {"accuracy", "Accuracy"},
                        {"binary_accuracy", "BinaryAccuracy"},
                        {"categorical_accuracy", "CategoricalAccuracy"},
                        {"sparse_categorical_accuracy", "SparseCategoricalAccuracy"},
                        {"top_k_categorical_accuracy", "TopKCategoricalAccuracy"},
                        {"precision", "Precision"},
                        {"recall", "Recall"},
                        {"auc", "AUC"},
                        {"binary_iou", "BinaryIoU"},
                        {"dice", "Dice"}}) {
    CAPTURE(c.key);
    auto m = get(c.key);
    REQUIRE(m);
    CHECK(m->name() == c.key);
    CHECK(m->class_name() == c.class_name);
    CHECK(m->result() == 0.0);  // divide_no_nan before any update
  }
  // Class names and the upper-case aliases too, named as given (Keras' compile does).
  CHECK(get("MSE")->class_name() == "MeanSquaredError");
  CHECK(get("MAE")->class_name() == "MeanAbsoluteError");
  CHECK(get("binary_io_u")->class_name() == "BinaryIoU");
  for (const char* key :
       {"MeanSquaredError", "MeanAbsoluteError", "Accuracy", "BinaryAccuracy",
        "CategoricalAccuracy", "SparseCategoricalAccuracy", "TopKCategoricalAccuracy", "Precision",
        "Recall", "AUC", "BinaryIoU", "Dice"}) {
    CAPTURE(key);
    auto m = get(key);
    CHECK(m->class_name() == key);
    CHECK(m->name() == key);
  }
  // Default configurations.
  CHECK(dynamic_cast<BinaryAccuracy&>(*get("binary_accuracy")).threshold() == 0.5f);
  CHECK(dynamic_cast<TopKCategoricalAccuracy&>(*get("top_k_categorical_accuracy")).k() == 5);
  CHECK(dynamic_cast<AUC&>(*get("auc")).thresholds().size() == 200);
  CHECK(dynamic_cast<Precision&>(*get("precision")).thresholds() == std::vector<float>{0.5f});
  CHECK(known_names().size() == 29);
}

TEST_CASE("get: unknown names list the known ones") {
  TF_CHECK_ERROR(get("acuracy"), "metrics::get", "acuracy", "known", "mse", "binary_iou", "dice");
  TF_CHECK_ERROR(get(""), "metrics::get");
  TF_CHECK_ERROR(get("Mse"), "metrics::get", "Mse");  // Keras' names are case-sensitive
  CHECK_THROWS_AS(get("nope"), ValueError);
}

TEST_CASE("name, set_name, operator(), clone through the base") {
  std::unique_ptr<Metric> m = get("binary_accuracy");
  m->set_name("acc");
  CHECK(m->name() == "acc");
  TF_CHECK_ERROR(m->set_name(""), "BinaryAccuracy 'acc'", "empty");
  CHECK(m->name() == "acc");
  // Keras' __call__: update, then the running result. 3 of 4, then 0 of 2: 3 / 6.
  CHECK((*m)(Tensor{1.f, 1.f, 0.f, 0.f}, Tensor{0.9f, 0.8f, 0.1f, 0.7f}) == doctest::Approx(0.75));
  CHECK((*m)(Tensor{1.f, 0.f}, Tensor{0.1f, 0.9f}) == doctest::Approx(0.5));
  auto c = m->clone();
  CHECK(c->name() == "acc");
  CHECK(c->class_name() == "BinaryAccuracy");
  CHECK(c->result() == 0.0);  // fresh
  CHECK(m->result() == doctest::Approx(0.5));
  m->reset_state();
  CHECK(m->result() == 0.0);
}

TEST_CASE("is_unweighted: rank 0 or no elements") {
  CHECK(is_unweighted(Tensor()));
  CHECK(is_unweighted(Tensor(3.f)));
  CHECK(is_unweighted(Tensor::from_shape({0})));
  CHECK_FALSE(is_unweighted(Tensor{1.f}));
  CHECK_FALSE(is_unweighted(Tensor{1.f, 0.f}));
}
