#include "tapeflow/layers/lambda.hpp"

#include <map>
#include <mutex>

#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

namespace {
struct LambdaRegistry {
  std::mutex mutex;
  std::map<std::string, LambdaFunction> functions;
};
LambdaRegistry& lambda_registry() {
  static LambdaRegistry registry;
  return registry;
}

LambdaFunction find_lambda(const std::string& layer, const std::string& name) {
  if (name.empty())
    fail(layer, "function: give the name of a function registered with register_lambda");
  LambdaRegistry& r = lambda_registry();
  std::lock_guard lock(r.mutex);
  auto it = r.functions.find(name);
  if (it == r.functions.end()) {
    std::string known;
    for (const auto& [n, f] : r.functions) known += (known.empty() ? "" : ", ") + n;
    fail(layer, "function: no function '" + name + "' is registered (register_lambda); known: " +
                    (known.empty() ? "none" : known));
  }
  return it->second;
}

}  // namespace

void register_lambda(const std::string& name, LambdaFunction fn) {
  if (name.empty()) fail("register_lambda", "the name is empty");
  if (!fn) fail("register_lambda", "the function registered as '" + name + "' is empty");
  LambdaRegistry& r = lambda_registry();
  std::lock_guard lock(r.mutex);
  if (!r.functions.emplace(name, std::move(fn)).second)
    fail("register_lambda", "a function named '" + name + "' is already registered");
}

std::vector<std::string> registered_lambdas() {
  LambdaRegistry& r = lambda_registry();
  std::lock_guard lock(r.mutex);
  std::vector<std::string> names;
  for (const auto& [n, f] : r.functions) names.push_back(n);
  return names;
}

Lambda::Lambda(const LambdaOptions& options)
    : LayerWith("lambda", options), fn_(find_lambda(name(), options.function())) {}

Lambda::Lambda(LambdaFunction fn, const LambdaOptions& options)
    : LayerWith("lambda", options), fn_(std::move(fn)) {
  if (!fn_) fail(name(), "the function is empty");
  if (!options_.function().empty())
    fail(name(), "function: give either a registered function's name or a callable, not both");
}

Config Lambda::get_config() const {
  if (options_.function().empty())
    fail(name(),
         "cannot save or describe a Lambda layer made from a callable: register the function "
         "with tapeflow::layers::register_lambda(\"name\", fn) and make the layer from "
         "LambdaOptions(\"name\")");
  return LayerWith::get_config();
}

Variable Lambda::call(const Variable& x, bool) {
  Variable y = fn_(x);
  if (!y.defined()) fail(name(), "the function returned an undefined tensor");
  return y;
}

TAPEFLOW_REGISTER_LAYER(Lambda)

}  // namespace tapeflow::layers
