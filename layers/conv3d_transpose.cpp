#include "tapeflow/layers/conv3d_transpose.hpp"

#include <mutex>

namespace tapeflow::layers {

namespace {

std::mutex functional_mutex;
std::vector<std::shared_ptr<Layer>>& functional_registry() {
  static std::vector<std::shared_ptr<Layer>> layers;
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
  std::lock_guard<std::mutex> lock(functional_mutex);
  functional_registry().push_back(layer);
  return y;
}

Variable conv3d_transpose(const Variable& inputs, long filters, long kernel_size,
                          const Conv3DTransposeOptions& options) {
  return conv3d_transpose(inputs, filters, std::vector<long>{kernel_size}, options);
}

std::vector<std::shared_ptr<Layer>> functional_layers() {
  std::lock_guard<std::mutex> lock(functional_mutex);
  return functional_registry();
}

}  // namespace tapeflow::layers
