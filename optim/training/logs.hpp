#pragma once
/// `Logs`: what `fit`, `evaluate` and the callbacks pass around, Keras' `logs` dict: the name of
/// each quantity ("loss", "accuracy", "val_loss", "learning_rate", ...) and its value, in the
/// order the names were first set (the progress bar prints them in that order).
///
/// Example:
/// ```
/// tapeflow::training::Logs logs;
/// logs.set("loss", 0.25);
/// logs.set("accuracy", 0.9);
/// double l = logs.at("loss");              // 0.25
/// bool v = logs.contains("val_loss");      // false
/// ```
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tapeflow::training {

/// Named values in insertion order (a name set again keeps its place).
class Logs {
 public:
  using Item = std::pair<std::string, double>;

  /// Sets `name` to `value`, appending the name if it is new.
  void set(const std::string& name, double value);
  bool contains(const std::string& name) const;
  /// The value of `name`, or nothing.
  std::optional<double> get(const std::string& name) const;
  /// The value of `name`. Errors: a `ValueError` starting with `where` that names the missing
  /// key and lists the keys present (the message a misspelt `monitor` gets).
  double at(const std::string& name, const std::string& where = "logs") const;
  /// Every entry, in insertion order.
  const std::vector<Item>& items() const { return items_; }
  /// "loss, accuracy, val_loss": the names, for error messages.
  std::string names() const;
  bool empty() const { return items_.empty(); }
  /// Sets every entry of `other` here (in `other`'s order).
  void update(const Logs& other);
  /// The entries with `prefix` before each name (`"val_"` for validation logs).
  Logs prefixed(const std::string& prefix) const;

 private:
  std::vector<Item> items_;
};

}  // namespace tapeflow::training
