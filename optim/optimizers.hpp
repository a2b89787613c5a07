#pragma once
/// Optimizers by Keras name (`keras.optimizers.get`): what `compile("adam", ...)` uses.
///
/// Example: `std::shared_ptr<tapeflow::optim::Optimizer> opt = tapeflow::optim::get("rmsprop");`
#include <memory>
#include <string>
#include <vector>

#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::optim {

/// A new optimizer with its default options: "sgd", "adam", "adamw", "rmsprop", "adagrad",
/// "adadelta", "adamax", "nadam" (any case). Errors: an unknown name (a ValueError listing
/// these).
std::shared_ptr<Optimizer> get(const std::string& name);
/// The names `get` knows.
std::vector<std::string> optimizer_names();

}  // namespace tapeflow::optim
