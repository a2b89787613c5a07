#include "tapeflow/optim/optimizers.hpp"

#include <functional>
#include <map>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/core/strings.hpp"
#include "tapeflow/optim/adadelta.hpp"
#include "tapeflow/optim/adagrad.hpp"
#include "tapeflow/optim/adam.hpp"
#include "tapeflow/optim/adamax.hpp"
#include "tapeflow/optim/nadam.hpp"
#include "tapeflow/optim/rmsprop.hpp"
#include "tapeflow/optim/sgd.hpp"

namespace tapeflow::optim {

namespace {
template <class O>
std::shared_ptr<Optimizer> make() {
  return std::make_shared<O>();
}

const std::map<std::string, std::function<std::shared_ptr<Optimizer>()>>& factories() {
  static const std::map<std::string, std::function<std::shared_ptr<Optimizer>()>> table{
      {"adadelta", make<Adadelta>}, {"adagrad", make<Adagrad>}, {"adam", make<Adam>},
      {"adamax", make<Adamax>},     {"adamw", make<AdamW>},     {"nadam", make<Nadam>},
      {"rmsprop", make<RMSprop>},   {"sgd", make<SGD>},
  };
  return table;
}
}  // namespace

std::vector<std::string> optimizer_names() {
  std::vector<std::string> names;
  for (const auto& [name, make] : factories()) names.push_back(name);
  return names;
}

std::shared_ptr<Optimizer> get(const std::string& name) {
  auto it = factories().find(tapeflow::detail::to_lower(name));
  if (it == factories().end()) {
    std::string known;
    for (const auto& n : optimizer_names()) known += (known.empty() ? "" : ", ") + n;
    fail("optimizer", "unknown optimizer '" + name + "'; known: " + known);
  }
  return it->second();
}

}  // namespace tapeflow::optim
