#include "conformance/golden.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <xtensor/xnpy.hpp>

#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/conv3d_transpose.hpp"

namespace tapeflow::golden {

namespace fs = std::filesystem;

const std::string& Case::get(const std::string& key) const {
  auto it = config.find(key);
  if (it == config.end()) tapeflow::fail(dir.string(), "config.txt has no key '" + key + "'");
  return it->second;
}

std::string Case::get(const std::string& key, const std::string& fallback) const {
  auto it = config.find(key);
  return it == config.end() ? fallback : it->second;
}

std::vector<long> Case::get_ints(const std::string& key) const {
  std::vector<long> out;
  std::stringstream ss(get(key));
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      out.push_back(std::stol(item));
    } catch (const std::exception&) {
      tapeflow::fail(dir.string(),
                     "config key '" + key + "' is not a list of integers: '" + get(key) + "'");
    }
  }
  return out;
}

bool Case::has_array(const std::string& name) const { return fs::exists(dir / (name + ".npy")); }

Tensor Case::array(const std::string& name) const {
  fs::path p = dir / (name + ".npy");
  if (!fs::exists(p)) tapeflow::fail(dir.string(), "missing " + name + ".npy");
  auto a = xt::load_npy<float>(p.string());
  return Tensor(a);
}

void Checker::check(const std::string& what, const Tensor& got, const Tensor& expected) {
  if (shape_of(got) != shape_of(expected)) {
    fail(what + ": shape " + shape_str(got.shape()) + " != expected " +
         shape_str(expected.shape()));
    return;
  }
  double worst = 0;
  std::size_t worst_at = 0;
  bool ok = true;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double a = got.data()[i], b = expected.data()[i];
    const double err = std::abs(a - b);
    if (!(err <= atol_ + rtol_ * std::abs(b))) {
      if (ok || err > worst) worst_at = i;
      ok = false;
    }
    if (!(err <= worst)) worst = std::isnan(err) ? INFINITY : std::max(worst, err);
  }
  result_.max_error = std::max(result_.max_error, worst);
  if (!ok) {
    std::ostringstream os;
    os << what << ": element " << worst_at << " is " << got.data()[worst_at] << ", expected "
       << expected.data()[worst_at];
    fail(os.str());
  }
}

void Checker::check_scalar(const std::string& what, double got, double expected) {
  Tensor a = Tensor(float(got)), b = Tensor(float(expected));
  check(what, a, b);
}

void Checker::fail(const std::string& message) {
  result_.passed = false;
  if (!result_.message.empty()) result_.message += "; ";
  result_.message += message;
}

std::vector<fs::path> find_cases(const std::vector<std::string>& roots) {
  std::vector<fs::path> out;
  for (const auto& r : roots) {
    fs::path root(r);
    if (!fs::is_directory(root)) tapeflow::fail("conformance", "'" + r + "' is not a directory");
    if (fs::exists(root / "config.txt")) out.push_back(root);
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
         ++it)
      if (it->is_directory() && fs::exists(it->path() / "config.txt")) out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Case load_case(const fs::path& dir) {
  Case c;
  c.dir = dir;
  std::ifstream in(dir / "config.txt");
  if (!in) tapeflow::fail(dir.string(), "cannot read config.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto eq = line.find('=');
    if (line.empty() || eq == std::string::npos) continue;
    c.config[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return c;
}

namespace {

CaseResult run_conv3d_transpose(const Case& c) {
  Checker check;
  // A graph of its own per case: fresh names and collections.
  Graph graph;
  auto as_default = graph.as_default();

  const bool use_bias = c.get("use_bias", "true") == "true";
  layers::Conv3DTransposeOptions o(std::stol(c.get("filters")), c.get_ints("kernel_size"));
  o.strides(c.get_ints("strides"))
      .padding(c.get("padding"))
      .data_format(c.get("data_format"))
      .activation(c.get("activation", "linear"))
      .use_bias(use_bias)
      .kernel_initializer(from_array(c.array("kernel")));
  if (use_bias) o.bias_initializer(from_array(c.array("bias")));
  layers::Conv3DTranspose layer(o);

  Variable x(c.array("x"));
  GradientTape tape;
  tape.watch(x);
  Variable y = layer(x);
  check.check("y", y.value(), c.array("y"));
  if (c.has("output_shape")) {
    auto os = c.get_ints("output_shape");
    if (y.shape() != Shape(os.begin(), os.end()))
      check.fail("y has shape " + shape_str(y.shape()) + ", config says " + c.get("output_shape"));
  }
  std::vector<Variable> sources{x, layer.kernel()};
  if (use_bias) sources.push_back(layer.bias());
  auto grads = tape.gradient(y, sources, Variable(c.array("gy")));
  const char* names[] = {"gx", "gkernel", "gbias"};
  for (std::size_t i = 0; i < sources.size(); ++i) {
    if (!grads[i].defined()) {
      check.fail(std::string(names[i]) + ": no gradient");
      continue;
    }
    check.check(names[i], grads[i].value(), c.array(names[i]));
  }
  return check.result();
}

}  // namespace

CaseType conv3d_transpose_case_type() {
  return {"conv3d_transpose", [](const Case& c) { return c.has("filters") && !c.has("optimizer"); },
          run_conv3d_transpose};
}

std::vector<CaseType> default_case_types() {
  return {conv3d_transpose_case_type(), training_case_type()};
}

}  // namespace tapeflow::golden
