#include "tapeflow/framework/core/errors.hpp"

namespace tapeflow {

namespace detail {
std::string with_context(const std::string& context, const std::string& message) {
  // An error raised as "activation: unknown 'x'" and caught by a layer that adds
  // "dense: activation" reads "dense: activation: unknown 'x'", not "... activation: activation".
  // So: find the longest tail of the context's components (the whole context first) that the
  // message already starts with, and put only the components before it in front.
  auto starts_with = [&](const std::string& prefix) {
    return message.compare(0, prefix.size() + 2, prefix + ": ") == 0;
  };
  if (starts_with(context)) return message;
  for (std::size_t cut = context.find(": "); cut != std::string::npos;
       cut = context.find(": ", cut + 2))
    if (starts_with(context.substr(cut + 2))) return context.substr(0, cut) + ": " + message;
  return context + ": " + message;
}
}  // namespace detail

void Error::rethrow_in(const std::string& context) const {
  throw Error(detail::with_context(context, what()));
}
void ValueError::rethrow_in(const std::string& context) const {
  throw ValueError(detail::with_context(context, what()));
}
void ShapeError::rethrow_in(const std::string& context) const {
  throw ShapeError(detail::with_context(context, what()));
}
void FileError::rethrow_in(const std::string& context) const {
  throw FileError(detail::with_context(context, what()));
}

void fail(const std::string& where, const std::string& what) {
  throw ValueError(where + ": " + what);
}
void fail_shape(const std::string& where, const std::string& what) {
  throw ShapeError(where + ": " + what);
}
void fail_file(const std::string& where, const std::string& what) {
  throw FileError(where + ": " + what);
}

}  // namespace tapeflow
