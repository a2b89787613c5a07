#pragma once
/// Golden-case loading and checking for the conformance runner (format:
/// `../shared/golden/README.md`). A case is a folder holding `config.txt` (`key=value` lines)
/// and `.npy` arrays; each kind of case (a layer's forward/backward, a training run) is a
/// `CaseType` that claims the cases it understands and runs them.
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tapeflow/framework/core/tensor.hpp"
#include "tapeflow/framework/nn/initializers.hpp"

namespace tapeflow::golden {

/// One case folder, its config and lazy access to its arrays.
struct Case {
  std::filesystem::path dir;
  std::map<std::string, std::string> config;

  bool has(const std::string& key) const { return config.count(key) != 0; }
  /// The value under `key` (an Error naming the case when absent).
  const std::string& get(const std::string& key) const;
  std::string get(const std::string& key, const std::string& fallback) const;
  /// "2,2,2" -> {2, 2, 2}.
  std::vector<long> get_ints(const std::string& key) const;
  bool has_array(const std::string& name) const;
  /// `<dir>/<name>.npy` as float32.
  Tensor array(const std::string& name) const;
};

/// Result of one case: pass/fail, the largest |got - expected| over every checked array, and
/// what failed.
struct CaseResult {
  bool passed = true;
  double max_error = 0;
  std::string message;
};

/// Accumulates comparisons with the golden tolerance `|a - b| <= atol + rtol * |b|`.
class Checker {
 public:
  explicit Checker(double atol = 1e-4, double rtol = 1e-4) : atol_(atol), rtol_(rtol) {}
  /// Compares `got` with `expected` element by element (a shape mismatch fails).
  void check(const std::string& what, const Tensor& got, const Tensor& expected);
  void check_scalar(const std::string& what, double got, double expected);
  void fail(const std::string& message);
  const CaseResult& result() const { return result_; }

 private:
  double atol_, rtol_;
  CaseResult result_;
};

/// A kind of case: `accepts` tells whether a case is of this kind, `run` checks it.
struct CaseType {
  std::string name;
  std::function<bool(const Case&)> accepts;
  std::function<CaseResult(const Case&)> run;
};

/// Every folder holding a `config.txt` at or below each root, sorted; an Error for a root
/// that does not exist.
std::vector<std::filesystem::path> find_cases(const std::vector<std::string>& roots);
/// Reads `dir/config.txt`.
Case load_case(const std::filesystem::path& dir);

/// The conv3d_transpose layer cases: build the layer from the config with kernel.npy/bias.npy
/// as initializers, run it on x.npy, then check y, and the gradients of `sum(y * gy)` with
/// respect to x, kernel and bias.
CaseType conv3d_transpose_case_type();

/// The training cases (`training/`): one Conv3DTranspose trained for `steps` steps with the
/// config's regularizers, kernel constraint and optimizer (sgd, momentum, adam), the loss
/// checked before each step and the weights after it.
CaseType training_case_type();

/// An initializer that hands back a reference array (its shape is checked by the layer).
inline Initializer from_array(const Tensor& t) {
  return [t](const Shape&) { return t; };
}

/// The case types the runner knows, in the order they are tried.
std::vector<CaseType> default_case_types();

}  // namespace tapeflow::golden
