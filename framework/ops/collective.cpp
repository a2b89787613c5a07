#include "tapeflow/framework/ops/collective.hpp"

#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/framework/runtime/communicator.hpp"

namespace tapeflow {

Variable all_reduce_sum(const Variable& x) {
  Tensor sum = x.value();
  distributed::all_reduce(sum.data(), sum.size());
  Variable y = detail::result(std::move(sum));
  if (detail::recording({&x}))
    detail::record("all_reduce_sum", {x}, y,
                   [](const Variable& g) { return std::vector<Variable>{all_reduce_sum(g)}; });
  return y;
}

}  // namespace tapeflow
