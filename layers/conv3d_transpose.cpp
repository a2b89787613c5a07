#include "tapeflow/layers/conv3d_transpose.hpp"

#include <algorithm>
#include <mutex>

namespace tapeflow::layers {

namespace {

// The functional layers made so far, weakly: each is owned by its graph (detail::give_to_graph)
// and freed with it.
std::mutex functional_mutex;
std::vector<std::weak_ptr<Layer>>& functional_registry() {
  static std::vector<std::weak_ptr<Layer>> layers;
  return layers;
}

}  // namespace

Variable conv3d_transpose(const Variable& inputs, long filters,
                          const std::vector<long>& kernel_size,
                          const Conv3DTransposeOptions& options) {
  Conv3DTransposeOptions o = options;
  o.filters(filters);
  o.kernel_size(kernel_size);
  auto layer = std::make_shared<Conv3DTranspose>(o);
  Variable y = (*layer)(inputs);
  detail::give_to_graph(layer);
  std::lock_guard<std::mutex> lock(functional_mutex);
  auto& r = functional_registry();
  std::erase_if(r, [](const std::weak_ptr<Layer>& w) { return w.expired(); });
  r.push_back(layer);
  return y;
}

Variable conv3d_transpose(const Variable& inputs, long filters, long kernel_size,
                          const Conv3DTransposeOptions& options) {
  return conv3d_transpose(inputs, filters, std::vector<long>{kernel_size}, options);
}

std::vector<std::shared_ptr<Layer>> functional_layers() {
  std::lock_guard<std::mutex> lock(functional_mutex);
  std::vector<std::shared_ptr<Layer>> out;
  for (const auto& w : functional_registry())
    if (auto l = w.lock()) out.push_back(std::move(l));
  return out;
}

}  // namespace tapeflow::layers
