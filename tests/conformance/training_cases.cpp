// The training golden cases (../shared/golden/training/*): one Conv3DTranspose trained for
// `steps` steps with SGD, momentum or Adam on mse + regularization losses, the kernel
// constraint applied after each update. Checks the loss before each step and the weights after.
#include <fstream>
#include <sstream>

#include "conformance/golden.hpp"
#include "conformance/tfjs_adam.hpp"
#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/losses.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/conv3d_transpose.hpp"
#include "tapeflow/optim/adam.hpp"
#include "tapeflow/optim/sgd.hpp"

namespace tapeflow::golden {

namespace {

// "name(a=1,b=[0,1],2)" -> name and arguments (positional ones keyed "0", "1", ...).
struct Call {
  std::string name;
  std::map<std::string, std::string> args;
  double number(const Case& c, const std::string& key) const {
    auto it = args.find(key);
    if (it == args.end())
      tapeflow::fail(c.dir.string(), "'" + name + "' has no argument '" + key + "'");
    return std::stod(it->second);
  }
};

Call parse_call(const std::string& text) {
  Call call;
  auto open = text.find('(');
  call.name = text.substr(0, open);
  if (open == std::string::npos) return call;
  std::string inner = text.substr(open + 1, text.rfind(')') - open - 1);
  std::vector<std::string> parts;
  int depth = 0;
  std::string cur;
  for (char ch : inner) {
    if (ch == '[') ++depth;
    if (ch == ']') --depth;
    if (ch == ',' && depth == 0) {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  if (!cur.empty()) parts.push_back(cur);
  int positional = 0;
  for (const auto& p : parts) {
    auto eq = p.find('=');
    if (eq == std::string::npos)
      call.args[std::to_string(positional++)] = p;
    else
      call.args[p.substr(0, eq)] = p.substr(eq + 1);
  }
  return call;
}

std::vector<int> parse_int_list(const std::string& text) {
  std::vector<int> out;
  std::string digits;
  for (char ch : text) {
    if (ch == '-' || (ch >= '0' && ch <= '9')) {
      digits += ch;
    } else if (!digits.empty()) {
      out.push_back(std::stoi(digits));
      digits.clear();
    }
  }
  if (!digits.empty()) out.push_back(std::stoi(digits));
  return out;
}

Regularizer make_regularizer(const Case& c, const std::string& key) {
  if (!c.has(key)) return {};
  Call r = parse_call(c.get(key));
  if (r.name == "l2") return regularizers::l2(float(r.number(c, r.args.count("0") ? "0" : "l2")));
  if (r.name == "l1") return regularizers::l1(float(r.number(c, r.args.count("0") ? "0" : "l1")));
  tapeflow::fail(c.dir.string(), "unknown regularizer '" + c.get(key) + "'");
}

Constraint make_constraint(const Case& c, const std::string& key) {
  if (!c.has(key)) return {};
  Call k = parse_call(c.get(key));
  if (k.name == "max_norm") {
    auto axes = parse_int_list(k.args.count("axis") ? k.args.at("axis") : "0");
    return constraints::max_norm(float(k.number(c, "max_value")), axes);
  }
  tapeflow::fail(c.dir.string(), "unknown constraint '" + c.get(key) + "'");
}

std::unique_ptr<optim::Optimizer> make_optimizer(const Case& c) {
  Call o = parse_call(c.get("optimizer"));
  const float lr = float(o.number(c, "learning_rate"));
  if (o.name == "sgd") return std::make_unique<optim::SGD>(optim::SGDOptions().learning_rate(lr));
  if (o.name == "momentum")
    return std::make_unique<optim::SGD>(
        optim::SGDOptions()
            .learning_rate(lr)
            .momentum(o.number(c, "momentum"))
            .nesterov(o.args.count("nesterov") && o.args.at("nesterov") == "true"));
  if (o.name == "adam")
    return std::make_unique<optim::Adam>(optim::AdamOptions()
                                             .learning_rate(lr)
                                             .beta_1(o.number(c, "beta1"))
                                             .beta_2(o.number(c, "beta2"))
                                             .epsilon(o.number(c, "epsilon")));
  tapeflow::fail(c.dir.string(), "unknown optimizer '" + c.get("optimizer") + "'");
}

CaseResult run_training(const Case& c) {
  Checker check;
  Graph graph;
  auto as_default = graph.as_default();
  if (c.get("loss") != "mean_squared_error(y,target)+regularization_losses")
    tapeflow::fail(c.dir.string(), "unsupported loss '" + c.get("loss") + "'");

  const bool use_bias = c.get("use_bias", "true") == "true";
  const Tensor k0 = c.array("kernel_0");
  layers::Conv3DTransposeOptions o(std::stol(c.get("filters")), c.get_ints("kernel_size"));
  o.strides(c.get_ints("strides"))
      .padding(c.get("padding"))
      .data_format(c.get("data_format"))
      .activation(c.get("activation", "linear"))
      .use_bias(use_bias)
      .kernel_initializer([k0](const Shape&) { return k0; })
      .kernel_regularizer(make_regularizer(c, "kernel_regularizer"))
      .kernel_constraint(make_constraint(c, "kernel_constraint"));
  if (use_bias) {
    const Tensor b0 = c.array("bias_0");
    o.bias_initializer([b0](const Shape&) { return b0; })
        .bias_regularizer(make_regularizer(c, "bias_regularizer"))
        .bias_constraint(make_constraint(c, "bias_constraint"));
  }
  layers::Conv3DTranspose layer(o);
  auto opt = make_optimizer(c);
  const Call optimizer_call = parse_call(c.get("optimizer"));

  std::vector<double> losses;
  {
    std::ifstream in(c.dir / "losses.txt");
    double v;
    while (in >> v) losses.push_back(v);
  }
  const Variable x(c.array("x")), target(c.array("target"));
  const long steps = std::stol(c.get("steps"));
  for (long t = 1; t <= steps; ++t) {
    GradientTape tape;
    Variable y = layer(x);
    Variable loss = add(losses::mean_squared_error(target, y), get_regularization_loss(graph));
    if (std::size_t(t - 1) < losses.size())
      check.check_scalar("loss before step " + std::to_string(t), loss.item(), losses[t - 1]);
    auto vars = layer.trainable_variables();
    if (optimizer_call.name == "adam")
      test::use_tfjs_adam_step(*opt, optimizer_call.number(c, "epsilon"),
                               optimizer_call.number(c, "beta2"), t);
    opt->apply_gradients(tape.gradient(loss, vars), vars);
    check.check("kernel after step " + std::to_string(t), layer.kernel().value(),
                c.array("kernel_" + std::to_string(t)));
    if (use_bias)
      check.check("bias after step " + std::to_string(t), layer.bias().value(),
                  c.array("bias_" + std::to_string(t)));
  }
  if (losses.size() != std::size_t(steps))
    check.fail("losses.txt has " + std::to_string(losses.size()) + " values for " +
               std::to_string(steps) + " steps");
  return check.result();
}

}  // namespace

CaseType training_case_type() {
  return {"training", [](const Case& c) { return c.has("optimizer") && c.has("steps"); },
          run_training};
}

}  // namespace tapeflow::golden
