#include "tapeflow/framework/core/errors.hpp"

#include <string_view>

namespace tapeflow {

namespace {
// "<head>: <tail>", built by appending: GCC 12 warns falsely (-Warray-bounds, inside
// char_traits.h) on the `a + ": " + b` form here once the file is compiled with the library's
// precompiled header.
std::string joined(std::string_view head, std::string_view tail) {
  std::string out;
  out.reserve(head.size() + 2 + tail.size());
  out.append(head).append(": ").append(tail);
  return out;
}
}  // namespace

namespace detail {
std::string with_context(const std::string& context, const std::string& message) {
  // An error raised as "activation: unknown 'x'" and caught by a layer that adds
  // "dense: activation" reads "dense: activation: unknown 'x'", not "... activation: activation".
  // So: find the longest tail of the context's components (the whole context first) that the
  // message already starts with, and put only the components before it in front.
  const std::string_view ctx = context;
  auto starts_with = [&](std::string_view prefix) {
    return message.size() >= prefix.size() + 2 && message.compare(0, prefix.size(), prefix) == 0 &&
           message.compare(prefix.size(), 2, ": ") == 0;
  };
  if (starts_with(ctx)) return message;
  for (std::size_t cut = ctx.find(": "); cut != std::string_view::npos;
       cut = ctx.find(": ", cut + 2))
    if (starts_with(ctx.substr(cut + 2))) return joined(ctx.substr(0, cut), message);
  return joined(ctx, message);
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
  throw ValueError(joined(where, what));
}
void fail_shape(const std::string& where, const std::string& what) {
  throw ShapeError(joined(where, what));
}
void fail_file(const std::string& where, const std::string& what) {
  throw FileError(joined(where, what));
}

}  // namespace tapeflow
