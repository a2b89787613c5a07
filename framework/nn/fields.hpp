#pragma once
/// Options structs that declare each field once: type, name and default in one X-macro list,
/// from which the struct gets its storage, chainable setters, getters and `for_each_field`, and
/// generic code gets configs (write, read back), printing and Boost.Serialization.
///
/// A field list is a macro taking a callback `F` and calling it once per field as
/// `F(type, name, default)`; the default is an initializer (`0.9`, `"valid"`, `{1, 1}`,
/// `std::nullopt`, `{}` for a default-constructed value) and may contain commas, the type may
/// not (use an alias). Expand the list inside the struct with one of:
/// - `TAPEFLOW_FIELDS(Self, LIST)`: the fields of a struct `Self`;
/// - `TAPEFLOW_DERIVED_FIELDS(Self, Base, LIST)`: `Base`'s fields (visited first), then these;
/// - `TAPEFLOW_CHAIN_FIELDS(Self, Base, LIST)`: in a CRTP base deriving from the plain struct
///   `Base` whose fields are `LIST`, re-declares their setters to return `Self` so that a chain
///   mixing common and own options keeps the derived type;
/// - `TAPEFLOW_READONLY_FIELDS(LIST)`: getters but no setters, for a class whose constructor
///   checks its values (the learning-rate schedules).
/// Each field `name` of type `T` is stored as the private member `name_` and has
/// `Self& name(const T&)` (setter), `const T& name() const` and `T& name()` (getters), and
/// `for_each_field(visitor)` calls `visitor(const char* name, value)` (a `T&`, or `const T&` on a
/// const struct) for every field in list order. The macros leave the access public.
///
/// Each field type needs `config_write(const T&)` and `config_read(where, key, text, T&)` for the
/// config functions: this header has them for double, float, bool, the integer types,
/// std::string, vectors of numbers and std::optional of any of these. Other types add overloads,
/// found by argument-dependent lookup (declare them in the type's own namespace).
///
/// Example:
/// ```
/// // (a longer list takes one field a line, the lines continued with backslashes)
/// #define SCALE_FIELDS(F) F(float, factor, 1.f) F(std::optional<std::vector<long>>, axes, {})
/// struct ScaleOptions {
///   TAPEFLOW_FIELDS(ScaleOptions, SCALE_FIELDS)
/// };
/// auto o = ScaleOptions().factor(2.f).axes(std::vector<long>{1, 2});
/// tapeflow::Config c = tapeflow::fields_to_config(o);  // {axes: "(1, 2)", factor: "2"}
/// auto back = tapeflow::fields_from_config<ScaleOptions>("Scale", c);  // missing keys: defaults
/// std::string s = tapeflow::fields_repr("Scale", o);   // "Scale(factor=2, axes=(1, 2))"
/// ScaleOptions().axes();                               // std::nullopt, written "None"
/// ```
#include <boost/serialization/nvp.hpp>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/nn/config.hpp"

namespace tapeflow {

// ---- One value as config text -------------------------------------------------------------

/// Shortest text that reads back as the same double (`std::to_chars`): 0.9 -> "0.9",
/// 1e-7 -> "1e-07".
std::string config_write(double v);
/// As `config_float`: 0.01f -> "0.01".
std::string config_write(float v);
/// "true" / "false".
std::string config_write(bool v);
std::string config_write(const std::string& v);
/// Without it a string literal would convert to bool.
std::string config_write(const char* v);
template <class I>
requires(std::is_integral_v<I> && !std::is_same_v<I, bool>) std::string config_write(I v) {
  return std::to_string(v);
}
/// "(1, 2)", "(3,)" for one element, "()" for none (as `shape_str`).
template <class T>
requires std::is_arithmetic_v<T> std::string config_write(const std::vector<T>& v) {
  std::string s = "(";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + config_write(T(v[i]));
  return s + (v.size() == 1 ? ",)" : ")");
}
/// The value, or "None" when unset.
template <class T>
std::string config_write(const std::optional<T>& v) {
  return v ? config_write(*v) : std::string("None");
}

namespace detail {
/// Throws `ValueError("<where>: config key '<key>' has value '<text>', expected <expected>")`.
[[noreturn]] void bad_config_value(const std::string& where, const std::string& key,
                                   const std::string& text, const char* expected);
/// The items of a list "(a, b)" ("(a,)" and "(a, b,)" too), trimmed; an Error naming `where`,
/// `key` and `text` when `text` is no list.
std::vector<std::string> split_config_list(const std::string& where, const std::string& key,
                                           const std::string& text);
/// Throws `ValueError("<where>: unknown config key '<key>' (known: <known...>)")`.
[[noreturn]] void unknown_config_key(const std::string& where, const std::string& key,
                                     const std::vector<std::string>& known);

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
template <class T>
inline constexpr bool is_optional_v = is_optional<T>::value;
}  // namespace detail

/// Readers, the inverse of `config_write`: `out` takes the value written as `text` under `key`.
/// A malformed value is a `ValueError` naming `where`, the key and the value, and leaves `out`
/// unchanged.
void config_read(const std::string& where, const std::string& key, const std::string& text,
                 double& out);
void config_read(const std::string& where, const std::string& key, const std::string& text,
                 float& out);
void config_read(const std::string& where, const std::string& key, const std::string& text,
                 bool& out);
void config_read(const std::string& where, const std::string& key, const std::string& text,
                 std::string& out);
template <class I>
requires(std::is_integral_v<I> && !std::is_same_v<I, bool>) void config_read(
    const std::string& where, const std::string& key, const std::string& text, I& out) {
  I v{};
  auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size())
    detail::bad_config_value(where, key, text,
                             std::is_signed_v<I> ? "an integer" : "a non-negative integer");
  out = v;
}
template <class T>
requires std::is_arithmetic_v<T>
void config_read(const std::string& where, const std::string& key, const std::string& text,
                 std::vector<T>& out) {
  std::vector<T> v;
  for (const std::string& item : detail::split_config_list(where, key, text)) {
    T x{};
    try {
      config_read(where, key, item, x);
    } catch (const ValueError&) {
      // The message shows the whole list, not just the item that failed.
      detail::bad_config_value(where, key, text, "a list of numbers like (1, 2)");
    }
    v.push_back(x);
  }
  out = std::move(v);
}
/// "None" unsets `out`.
template <class T>
void config_read(const std::string& where, const std::string& key, const std::string& text,
                 std::optional<T>& out) {
  if (text == "None") {
    out.reset();
    return;
  }
  T v{};
  config_read(where, key, text, v);
  out = std::move(v);
}

// ---- Generic code over the fields of a struct ---------------------------------------------

/// How generic code reaches the fields of a struct, through the private visitor the macros
/// declare (a read-only struct exposes only its const `for_each_field`, but its own
/// `from_config` and `serialize` still need to set the fields). Types written without the macros
/// work too when they have a `for_each_field(visitor)` member.
/// Example: `tapeflow::FieldAccess::visit(opts, [](const char* name, auto& value) { ... });`
struct FieldAccess {
  template <class Fields, class Visitor>
  static void visit(Fields& fields, Visitor&& visitor) {
    if constexpr (requires { fields.tapeflow_visit_fields_(visitor); })
      fields.tapeflow_visit_fields_(visitor);
    else
      fields.for_each_field(visitor);
  }
};

/// The field names in list order.
template <class Fields>
std::vector<std::string> field_names(const Fields& fields) {
  std::vector<std::string> names;
  FieldAccess::visit(fields, [&](const char* name, const auto&) { names.emplace_back(name); });
  return names;
}

/// Calls `fn(value)` with the field called `name` (`fn` must accept every field's type);
/// false when there is none.
/// Example: `with_field(opts, "beta_1", [](auto& v) { std::cout << config_write(v); });`
template <class Fields, class Fn>
bool with_field(Fields& fields, std::string_view name, Fn&& fn) {
  bool found = false;
  FieldAccess::visit(fields, [&](const char* field, auto& value) {
    if (found || name != field) return;
    found = true;
    fn(value);
  });
  return found;
}

/// Every field under its name, written with `config_write`.
template <class Fields>
Config fields_to_config(const Fields& fields) {
  Config c;
  FieldAccess::visit(fields,
                     [&](const char* name, const auto& value) { c[name] = config_write(value); });
  return c;
}

/// Sets the fields that `config` has keys for (the others keep their value) with `config_read`.
/// Errors (`ValueError` naming `where`): a key that is no field, a malformed value; the fields
/// read before the error keep their new values, so read into a copy to be all-or-nothing.
template <class Fields>
void fields_update_from_config(const std::string& where, const Config& config, Fields& fields) {
  for (const auto& kv : config) {
    bool known = with_field(fields, kv.first,
                            [&](auto& value) { config_read(where, kv.first, kv.second, value); });
    if (!known) detail::unknown_config_key(where, kv.first, field_names(fields));
  }
}

/// A default-constructed `Fields` with the values of `config`: a missing key gives the
/// field's default. Errors as `fields_update_from_config`.
template <class Fields>
Fields fields_from_config(const std::string& where, const Config& config) {
  Fields fields;
  fields_update_from_config(where, config, fields);
  return fields;
}

/// "k1=v1, k2=v2" in list order, each value written with `config_write`.
template <class Fields>
std::string fields_str(const Fields& fields) {
  std::string s;
  FieldAccess::visit(fields, [&](const char* name, const auto& value) {
    s += (s.empty() ? "" : ", ") + std::string(name) + "=" + config_write(value);
  });
  return s;
}

/// "name(k1=v1, k2=v2)" in list order (`config_repr` writes the same in key order).
template <class Fields>
std::string fields_repr(const std::string& name, const Fields& fields) {
  return name + "(" + fields_str(fields) + ")";
}

/// Saves or loads one field as `ar & make_nvp(name, value)`; a `std::optional<T>` is the
/// bool `has_<name>` followed by the value (a default `T` when unset).
template <class Archive, class T>
void field_serialize(Archive& ar, const char* name, T& value) {
  if constexpr (detail::is_optional_v<T>) {
    using V = typename T::value_type;
    const std::string has_name = "has_" + std::string(name);
    bool has = value.has_value();
    V v = value.value_or(V{});
    ar& boost::serialization::make_nvp(has_name.c_str(), has);
    ar& boost::serialization::make_nvp(name, v);
    if constexpr (Archive::is_loading::value) {
      if (has)
        value = std::move(v);
      else
        value.reset();
    }
  } else {
    ar& boost::serialization::make_nvp(name, value);
  }
}

/// Every field in list order with `field_serialize`, for a Boost `serialize` member: the archive
/// layout is the field list, so reordering, adding or retyping a field changes the format.
/// Include the Boost headers of the field types (string, vector) before instantiating it.
template <class Archive, class Fields>
void fields_serialize(Archive& ar, Fields& fields) {
  FieldAccess::visit(fields,
                     [&](const char* name, auto& value) { field_serialize(ar, name, value); });
}

}  // namespace tapeflow

// ---- The macros ---------------------------------------------------------------------------
// The per-field callbacks get (type, name, default...); the aliases tapeflow_fields_self_ and
// tapeflow_fields_base_ carry Self and Base into them, as an X-macro callback takes no extra
// arguments.

#define TAPEFLOW_DETAIL_FIELD_STORAGE(T, name, ...) T name##_ = __VA_ARGS__;

#define TAPEFLOW_DETAIL_FIELD_GETTER(T, name, ...) \
  const T& name() const noexcept { return name##_; }

#define TAPEFLOW_DETAIL_FIELD_ACCESSORS(T, name, ...)     \
  tapeflow_fields_self_& name(const T& tapeflow_value_) { \
    name##_ = tapeflow_value_;                            \
    return static_cast<tapeflow_fields_self_&>(*this);    \
  }                                                       \
  TAPEFLOW_DETAIL_FIELD_GETTER(T, name)                   \
  T& name() noexcept { return name##_; }

#define TAPEFLOW_DETAIL_FIELD_CHAIN(T, name, ...)         \
  using tapeflow_fields_base_::name;                      \
  tapeflow_fields_self_& name(const T& tapeflow_value_) { \
    tapeflow_fields_base_::name(tapeflow_value_);         \
    return static_cast<tapeflow_fields_self_&>(*this);    \
  }

#define TAPEFLOW_DETAIL_FIELD_VISIT(T, name, ...) tapeflow_visitor_(#name, name##_);

#define TAPEFLOW_DETAIL_NO_BASE(CONST)
#define TAPEFLOW_DETAIL_BASE_FIRST(CONST)                                          \
  ::tapeflow::FieldAccess::visit(static_cast<CONST tapeflow_fields_base_&>(*this), \
                                 tapeflow_visitor_);

// The private visitor FieldAccess calls (CONST: `const` or nothing), then the public one.
#define TAPEFLOW_DETAIL_VISITOR(CONST, LIST, BASE)                        \
  template <class TapeflowVisitor>                                        \
  void tapeflow_visit_fields_(TapeflowVisitor& tapeflow_visitor_) CONST { \
    BASE(CONST)                                                           \
    LIST(TAPEFLOW_DETAIL_FIELD_VISIT)                                     \
  }
#define TAPEFLOW_DETAIL_FOR_EACH_FIELD(CONST)                      \
  template <class TapeflowVisitor>                                 \
  void for_each_field(TapeflowVisitor&& tapeflow_visitor_) CONST { \
    tapeflow_visit_fields_(tapeflow_visitor_);                     \
  }

#define TAPEFLOW_DETAIL_FIELDS(Self, LIST, BASE) \
 private:                                        \
  using tapeflow_fields_self_ = Self;            \
  friend struct ::tapeflow::FieldAccess;         \
  LIST(TAPEFLOW_DETAIL_FIELD_STORAGE)            \
  TAPEFLOW_DETAIL_VISITOR(, LIST, BASE)          \
  TAPEFLOW_DETAIL_VISITOR(const, LIST, BASE)     \
                                                 \
 public:                                         \
  LIST(TAPEFLOW_DETAIL_FIELD_ACCESSORS)          \
  TAPEFLOW_DETAIL_FOR_EACH_FIELD()               \
  TAPEFLOW_DETAIL_FOR_EACH_FIELD(const)

/// The fields `LIST` of the struct `Self`: storage, chainable setters, getters,
/// `for_each_field` (see the top of this file). Example:
/// `#define POINT_FIELDS(F) F(double, x, 0.0) F(double, y, 0.0)`
/// `struct Point { TAPEFLOW_FIELDS(Point, POINT_FIELDS) };  // Point().x(1.0).y(2.0)`
#define TAPEFLOW_FIELDS(Self, LIST) TAPEFLOW_DETAIL_FIELDS(Self, LIST, TAPEFLOW_DETAIL_NO_BASE)

/// As `TAPEFLOW_FIELDS`, in a struct deriving from `Base`, whose fields `for_each_field` visits
/// first. Example:
/// `struct AdamOptions : OptimizerOptions<AdamOptions> {`
/// `  TAPEFLOW_DERIVED_FIELDS(AdamOptions, OptimizerOptions, TAPEFLOW_ADAM_FIELDS)`
/// `};`
#define TAPEFLOW_DERIVED_FIELDS(Self, Base, LIST) \
 private:                                         \
  using tapeflow_fields_base_ = Base;             \
  TAPEFLOW_DETAIL_FIELDS(Self, LIST, TAPEFLOW_DETAIL_BASE_FIRST)

/// In a CRTP base `template <class D> struct X : Base`, where `Base` declares the fields `LIST`
/// with `TAPEFLOW_FIELDS`: setters of those fields returning `Self` (`D`), so that
/// `DOptions().common_option(1).own_option(2)` compiles. The storage and visitors stay `Base`'s.
/// Example:
/// `template <class D> class OptimizerOptions : public CommonOptions {`
/// `  TAPEFLOW_CHAIN_FIELDS(D, CommonOptions, TAPEFLOW_OPTIMIZER_FIELDS)`
/// `};`
#define TAPEFLOW_CHAIN_FIELDS(Self, Base, LIST) \
 private:                                       \
  using tapeflow_fields_self_ = Self;           \
  using tapeflow_fields_base_ = Base;           \
                                                \
 public:                                        \
  LIST(TAPEFLOW_DETAIL_FIELD_CHAIN)

/// Fields without setters: storage, const getters and the const `for_each_field`; the class's
/// constructors set and check them. Example:
/// `class ExponentialDecay : ... { TAPEFLOW_READONLY_FIELDS(TAPEFLOW_EXPONENTIAL_DECAY_FIELDS) };`
#define TAPEFLOW_READONLY_FIELDS(LIST)                          \
 private:                                                       \
  friend struct ::tapeflow::FieldAccess;                        \
  LIST(TAPEFLOW_DETAIL_FIELD_STORAGE)                           \
  TAPEFLOW_DETAIL_VISITOR(, LIST, TAPEFLOW_DETAIL_NO_BASE)      \
  TAPEFLOW_DETAIL_VISITOR(const, LIST, TAPEFLOW_DETAIL_NO_BASE) \
                                                                \
 public:                                                        \
  LIST(TAPEFLOW_DETAIL_FIELD_GETTER)                            \
  TAPEFLOW_DETAIL_FOR_EACH_FIELD(const)
