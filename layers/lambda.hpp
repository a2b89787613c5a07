#pragma once
/// Keras `Lambda`: a layer made of a function. A model holding one can be saved and reloaded only
/// when the function is registered by name (`register_lambda`), which its config then holds.
#include <functional>
#include <string>
#include <vector>

#include "tapeflow/layers/layer.hpp"

/// The option of `Lambda` after the common ones: `function` (""), the name under which the
/// function is registered (`register_lambda`); empty for a callable given directly, which
/// cannot be saved.
#define TAPEFLOW_LAMBDA_FIELDS(F) F(std::string, function, "")

namespace tapeflow::layers {

/// What a `Lambda` computes: any differentiable function of its input built from ops.
using LambdaFunction = std::function<Variable(const Variable&)>;

/// Registers `fn` under `name`, so that a `Lambda` can be made from the name and a model holding
/// it saved and reloaded (Keras saves the function's code; C++ has only names). Call it before
/// loading such a model, in every program that does. A ValueError for an empty name, a null
/// function, or a name already registered.
/// Example: `tapeflow::layers::register_lambda("square", [](const Variable& x) { return x * x; });`
void register_lambda(const std::string& name, LambdaFunction fn);
/// The names `register_lambda` has registered, sorted.
std::vector<std::string> registered_lambdas();

/// Options of `Lambda`. Example: `LambdaOptions("square").name("sq")`
struct LambdaOptions : LayerOptionsBase<LambdaOptions> {
  LambdaOptions() = default;
  explicit LambdaOptions(std::string f) { function(std::move(f)); }
  TAPEFLOW_DERIVED_FIELDS(LambdaOptions, LayerOptionsBase, TAPEFLOW_LAMBDA_FIELDS)
  static constexpr PrintedFields printed{"function"};
};

/// Keras `Lambda`, default name "lambda": `y = fn(x)`, no weights. Made from a registered
/// function's name (`Lambda(LambdaOptions("square"))`), it saves, reloads and converts to Keras
/// JSON like any layer (config `function`: the name). Made from a callable directly
/// (`Lambda(fn)`), it runs the same, but its config, and so saving the model or writing its
/// JSON, is an Error naming the layer that says how to register the function. Errors: an
/// unknown function name (the message lists the registered ones), an empty callable, a
/// function that returns an undefined tensor.
///
/// Example:
/// ```
/// tapeflow::layers::register_lambda("double", [](const Variable& x) { return x * 2.f; });
/// auto dbl =
/// std::make_shared<tapeflow::layers::Lambda>(tapeflow::layers::LambdaOptions("double")); auto y =
/// (*dbl)(inputs);    // in a functional model that can be saved tapeflow::layers::Lambda
/// once([](const Variable& x) { return tapeflow::exp(x); });
/// ```
class Lambda : public LayerWith<LambdaOptions> {
 public:
  /// From a registered function's name (`options.function()`).
  explicit Lambda(const LambdaOptions& options);
  /// From a callable, not saveable; `options.function()` must be empty.
  explicit Lambda(LambdaFunction fn, const LambdaOptions& options = {});
  std::string class_name() const override { return "Lambda"; }
  /// The config, with the function's name; an Error for a callable without one.
  Config get_config() const override;

 protected:
  Variable call(const Variable& x, bool training) override;

 private:
  LambdaFunction fn_;
};

}  // namespace tapeflow::layers
