#pragma once
/// The exceptions tapeflow throws, one type per kind of problem so that a caller can tell them
/// apart, and the check macro that builds a message only when a check fails.
///
/// Every message starts with where it happened (the op or layer name, then the argument), then
/// what was expected and what was found.
/// Example:
/// ```
/// try {
///   model.load_weights("model.tfw");
/// } catch (const tapeflow::FileError& e) {         // corrupt, foreign, newer, missing
///   std::cerr << e.what() << '\n';
/// } catch (const tapeflow::ShapeError& e) {        // the file's weights do not fit the model
///   std::cerr << e.what() << '\n';
/// }
/// ```
#include <sstream>
#include <stdexcept>
#include <string>

namespace tapeflow {

/// The base of every error tapeflow reports about bad input or misuse (catch it to catch all).
class Error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
  /// Throws the same kind of error with `context: ` before the message: the way to add where an
  /// error happened while it is in flight. Context the message already starts with is not
  /// repeated (`rethrow_in("dense: activation")` of "activation: unknown 'x'" gives
  /// "dense: activation: unknown 'x'").
  [[noreturn]] virtual void rethrow_in(const std::string& context) const;
};

/// A bad argument or value: an unknown name, a number out of range, a missing option.
class ValueError : public Error {
 public:
  using Error::Error;
  [[noreturn]] void rethrow_in(const std::string& context) const override;
};

/// A tensor, input or weight of the wrong shape, rank or channel count.
class ShapeError : public Error {
 public:
  using Error::Error;
  [[noreturn]] void rethrow_in(const std::string& context) const override;
};

/// A file that cannot be read or written: missing, unreadable, corrupt, truncated, foreign, or
/// written by a newer version.
class FileError : public Error {
 public:
  using Error::Error;
  [[noreturn]] void rethrow_in(const std::string& context) const override;
};

/// Throws `ValueError("<where>: <what>")`.
[[noreturn]] void fail(const std::string& where, const std::string& what);
/// Throws `ShapeError("<where>: <what>")`.
[[noreturn]] void fail_shape(const std::string& where, const std::string& what);
/// Throws `FileError("<where>: <what>")`.
[[noreturn]] void fail_file(const std::string& where, const std::string& what);

namespace detail {
/// `context` joined before `message` without repeating the components (separated by ": ") that
/// `message` already starts with.
std::string with_context(const std::string& context, const std::string& message);

template <class... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  return os.str();
}
}  // namespace detail

}  // namespace tapeflow

/// `TAPEFLOW_CHECK(cond, ErrorType, where, parts...)`: throws `ErrorType("<where>: <parts...>")`
/// when `cond` is false. The message is built only then (the parts are streamed, so numbers and
/// strings mix freely). Example:
/// `TAPEFLOW_CHECK(rate >= 0 && rate < 1, ValueError, name(), "rate must be in [0, 1), got ",
/// rate);`
#define TAPEFLOW_CHECK(cond, ErrorType, where, ...)                                         \
  do {                                                                                      \
    if (!(cond))                                                                            \
      throw ErrorType(std::string(where) + ": " + ::tapeflow::detail::concat(__VA_ARGS__)); \
  } while (0)
