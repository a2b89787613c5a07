#pragma once
/// `TAPEFLOW_RUN_ARG(T, name, default)`: an option of the training loop's and the callbacks'
/// options classes, with a chainable setter `name(value)` and a getter `name()` (PyTorch's
/// TORCH_ARG). These options are not configs (they hold callbacks and tensors), so they do not
/// use the config field lists of framework/nn/fields.hpp.
///
/// Example:
/// ```
/// class StepOptions {
///   TAPEFLOW_RUN_ARG(int, steps, 10)
/// };
/// int n = StepOptions().steps(3).steps();   // 3
/// ```
#include <utility>

#define TAPEFLOW_RUN_ARG(T, name, ...)      \
 public:                                    \
  auto& name(T value) {                     \
    name##_ = std::move(value);             \
    return *this;                           \
  }                                         \
  const T& name() const { return name##_; } \
                                            \
 private:                                   \
  T name##_ = __VA_ARGS__;                  \
                                            \
 public:
