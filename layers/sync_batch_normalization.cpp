#include "tapeflow/layers/sync_batch_normalization.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "tapeflow/framework/ops/collective.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/framework/runtime/communicator.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

SyncBatchNormalization::SyncBatchNormalization(const SyncBatchNormalizationOptions& options)
    : BatchNormalization("sync_batch_normalization", options) {}

Variable SyncBatchNormalization::call(const Variable& x, bool training) {
  if (!(training && trainable())) return BatchNormalization::call(x, training);
  const Shape s = x.shape();
  Axes red;
  std::int64_t count = 1;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (!std::binary_search(axes_.begin(), axes_.end(), i)) {
      red.push_back(static_cast<int>(i));
      count *= static_cast<std::int64_t>(s[i]);
    }
  // Keras 2's _calculate_mean_and_var: the moments of the global batch from the ranks' sums, in
  // the same order on every rank (each is a collective).
  const Variable total = all_reduce_sum(sum(x, red, /*keepdims=*/true));
  const Variable squared_total = all_reduce_sum(sum(square(x), red, /*keepdims=*/true));
  distributed::all_reduce(&count, 1);
  const Variable n = scalar(static_cast<float>(count));
  const Variable mu = div(total, n);
  const Variable var = sub(div(squared_total, n), square(mu));
  const Variable y = mul(sub(x, mu), rsqrt(add(var, scalar(options_.epsilon()))));
  if (count > 0) update_moving(mu.value(), var.value());
  return scale_and_shift(y, broadcast_shape(s));
}

TAPEFLOW_REGISTER_LAYER(SyncBatchNormalization)

}  // namespace tapeflow::layers
