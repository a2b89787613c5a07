#include "tapeflow/layers/reshaping.hpp"

#include <algorithm>
#include <cctype>

#include "tapeflow/framework/ops/conv.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

// ---- Flatten -------------------------------------------------------------------------------

Flatten::Flatten(const FlattenOptions& options) : LayerWith("flatten", options) {
  options_.data_format(tapeflow::detail::normalize_data_format(name(), options.data_format()));
  InputSpec spec;
  spec.min_ndim = 1;
  set_input_spec(spec);
}

Variable Flatten::call(const Variable& x, bool) {
  Variable v = x;
  const std::size_t r = x.dim();
  if (options_.data_format() == "channels_first" && r >= 3) {
    // Keras moves the channels last first, so a channels_first model flattens in the same
    // order as its channels_last twin (and Dense weights carry over between them).
    std::vector<std::size_t> perm{0};
    for (std::size_t a = 2; a < r; ++a) perm.push_back(a);
    perm.push_back(1);
    v = transpose(x, perm);
  }
  const Shape s = v.shape();
  long rest = 1;
  for (std::size_t a = 1; a < s.size(); ++a) rest *= static_cast<long>(s[a]);
  return reshape(v, {static_cast<long>(s[0]), rest});
}

TAPEFLOW_REGISTER_LAYER(Flatten)

// ---- Reshape -------------------------------------------------------------------------------

Reshape::Reshape(const ReshapeOptions& options) : LayerWith("reshape", options) {
  const auto& t = options_.target_shape();
  if (std::count(t.begin(), t.end(), -1L) > 1)
    fail(name(), "target_shape " + shape_str(t) + " has more than one unknown (-1) dimension");
  for (long d : t)
    if (d < 1 && d != -1)
      fail(name(), "target_shape " + shape_str(t) +
                       " must hold positive sizes or one -1 (inferred), got " + std::to_string(d));
  InputSpec spec;
  spec.min_ndim = 1;
  set_input_spec(spec);
}

Variable Reshape::call(const Variable& x, bool) {
  const Shape s = x.shape();
  const auto& t = options_.target_shape();
  std::size_t have = 1;
  for (std::size_t a = 1; a < s.size(); ++a) have *= s[a];
  std::size_t known = 1;
  long unknown = -1;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] == -1)
      unknown = static_cast<long>(i);
    else
      known *= static_cast<std::size_t>(t[i]);
  }
  std::vector<long> out{static_cast<long>(s[0])};
  out.insert(out.end(), t.begin(), t.end());
  const Shape per_sample(s.begin() + 1, s.end());
  if (unknown >= 0 ? have % known != 0 : have != known)
    fail_shape(name(), "cannot reshape an input of shape " + shape_str(s) + " (" +
                           std::to_string(have) + " elements per sample, shape " +
                           shape_str(per_sample) + ") to target_shape " + shape_str(t) +
                           (unknown >= 0 ? " (not a multiple of " + std::to_string(known) + ")"
                                         : " (" + std::to_string(known) + " elements)"));
  if (unknown >= 0) out[static_cast<std::size_t>(unknown) + 1] = static_cast<long>(have / known);
  return reshape(x, out);
}

TAPEFLOW_REGISTER_LAYER(Reshape)

// ---- Permute -------------------------------------------------------------------------------

Permute::Permute(const PermuteOptions& options) : LayerWith("permute", options) {
  std::vector<int> sorted = options_.dims();
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size(); ++i)
    if (sorted[i] != static_cast<int>(i) + 1)
      fail(name(), "dims " + shape_str(options_.dims()) + " must be a permutation of 1.." +
                       std::to_string(sorted.size()) + " (1-based axes, the batch axis excluded)");
  if (sorted.empty()) fail(name(), "dims must not be empty");
  InputSpec spec;
  spec.ndim = options_.dims().size() + 1;
  set_input_spec(spec);
}

Variable Permute::call(const Variable& x, bool) {
  std::vector<std::size_t> perm{0};
  for (int d : options_.dims()) perm.push_back(static_cast<std::size_t>(d));
  return transpose(x, perm);
}

TAPEFLOW_REGISTER_LAYER(Permute)

RepeatVector::RepeatVector(const RepeatVectorOptions& options)
    : LayerWith("repeat_vector", options) {
  if (options_.n() < 1) fail(name(), "n must be >= 1, got " + std::to_string(options_.n()));
  set_input_spec(InputSpec{.ndim = 2});
}

Variable RepeatVector::call(const Variable& x, bool) {
  // (batch, 1, features) tiled n times along the new axis.
  return tile(expand_dims(x, 1), {1, static_cast<std::size_t>(options_.n()), 1});
}

TAPEFLOW_REGISTER_LAYER(RepeatVector)

}  // namespace tapeflow::layers
