#include "tapeflow/layers/group_normalization.hpp"

#include "tapeflow/framework/ops/normalization.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

GroupNormalization::GroupNormalization(const GroupNormalizationOptions& options)
    : Normalization("group_normalization", options) {
  if (options_.groups() == 0 || options_.groups() < -1)
    fail(name(), "groups must be a positive number of groups or -1 (one per channel), got " +
                     std::to_string(options_.groups()));
  if (options_.axis().size() != 1)
    fail(name(),
         "axis must be a single axis (the channel axis), got " + config_write(options_.axis()));
}

void GroupNormalization::build(const Shape& s) {
  build_axes(s);
  const std::size_t axis = axes_[0];
  if (axis == 0)
    fail_shape(name(), "axis " + config_write(options_.axis()) +
                           " is the batch axis of the input of shape " + shape_str(s) +
                           "; give the channel axis");
  const std::size_t channels = s[axis];
  const std::size_t groups =
      options_.groups() == -1 ? channels : static_cast<std::size_t>(options_.groups());
  if (groups > channels)
    fail_shape(name(), "groups " + std::to_string(groups) +
                           " cannot be more than the number of channels " +
                           std::to_string(channels) + " (input shape " + shape_str(s) + ")");
  if (channels % groups != 0)
    fail_shape(name(), "groups " + std::to_string(groups) + " must divide the number of channels " +
                           std::to_string(channels) + " (input shape " + shape_str(s) + ")");
  groups_ = groups;
  add_gamma_beta({channels});
  fix_input_spec(s);
}

Variable GroupNormalization::call(const Variable& x, bool) {
  return group_norm(x, gamma_, beta_, groups_, axes_[0], options_.epsilon());
}

TAPEFLOW_REGISTER_LAYER(GroupNormalization)

}  // namespace tapeflow::layers
