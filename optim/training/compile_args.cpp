#include "tapeflow/optim/training/compile_args.hpp"

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/ops/losses.hpp"
#include "tapeflow/optim/optimizers.hpp"

namespace tapeflow::training {

OptimizerArg::OptimizerArg(const char* name) : name_(name ? name : "") {}
OptimizerArg::OptimizerArg(const std::string& name) : name_(name) {}
OptimizerArg::OptimizerArg(std::shared_ptr<optim::Optimizer> optimizer)
    : optimizer_(std::move(optimizer)) {
  if (!optimizer_) fail("compile: optimizer", "a null optimizer");
}
// Borrowed: a shared_ptr that does not own (no deleter runs).
OptimizerArg::OptimizerArg(optim::Optimizer& optimizer)
    : optimizer_(std::shared_ptr<optim::Optimizer>(), &optimizer) {}

std::shared_ptr<optim::Optimizer> OptimizerArg::resolve() const {
  if (optimizer_) return optimizer_;
  std::shared_ptr<optim::Optimizer> made;
  try {
    made = optim::get(name_);
  } catch (const Error& e) {
    e.rethrow_in("compile");
  }
  return made;
}

Loss::Loss(const char* name) : Loss(std::string(name ? name : "")) {}
Loss::Loss(const std::string& name) : name_(name) {
  try {
    fn_ = losses::get(name);
  } catch (const Error& e) {
    e.rethrow_in("compile: loss");
  }
}

}  // namespace tapeflow::training
