#include "tapeflow/layers/activity_regularization.hpp"

#include "tapeflow/framework/nn/regularizers.hpp"
#include "tapeflow/layers/detail/option_checks.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

namespace {
// The common options with the activity regularizer the factors make; the options are checked
// first, so that a bad factor is reported as the layer's, before any regularizer is built.
LayerOptions activity_options(const ActivityRegularizationOptions& options) {
  const std::string who = options.name().empty() ? "activity_regularization" : options.name();
  if (options.activity_regularizer())
    fail(who, "activity_regularizer: not an option of ActivityRegularization (set l1 and l2)");
  detail::check_non_negative_option(who, "l1", options.l1());
  detail::check_non_negative_option(who, "l2", options.l2());
  LayerOptions common = options.common();
  common.activity_regularizer(regularizers::l1_l2(options.l1(), options.l2()));
  return common;
}
}  // namespace

ActivityRegularization::ActivityRegularization(const ActivityRegularizationOptions& options)
    : LayerWith(std::in_place, options, "activity_regularization", activity_options(options)) {}

Config ActivityRegularization::get_config() const {
  Config config = LayerWith::get_config();
  config.erase("activity_regularizer");
  return config;
}

Variable ActivityRegularization::call(const Variable& x, bool) { return x; }

TAPEFLOW_REGISTER_LAYER(ActivityRegularization)

}  // namespace tapeflow::layers
