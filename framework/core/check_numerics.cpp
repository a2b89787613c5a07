#include "tapeflow/framework/core/check_numerics.hpp"

#include <atomic>
#include <cmath>
#include <sstream>
#include <string>

namespace tapeflow {

namespace {

// Process-wide, like TF's switch; read once per op, so relaxed order is enough.
std::atomic<bool> enabled{false};

// What a scan found: counts and the first non-finite element.
struct Scan {
  std::size_t nan = 0, inf = 0, first = 0, size = 0;
  float first_value = 0.f;
  Shape shape;
  bool finite() const { return nan == 0 && inf == 0; }
};

Scan scan(const Tensor& t) {
  Scan s;
  const float* p = t.data();
  const std::size_t n = t.size();
  std::size_t i = 0;
  // The common case is all finite: one tight pass, the counting only after the first miss.
  while (i < n && std::isfinite(p[i])) ++i;
  if (i == n) return s;
  s.first = i;
  s.first_value = p[i];
  s.size = n;
  s.shape = shape_of(t);
  for (; i < n; ++i) {
    if (std::isnan(p[i]))
      ++s.nan;
    else if (std::isinf(p[i]))
      ++s.inf;
  }
  return s;
}

// A non-finite output built by `detail::result` whose op has not recorded it yet. The id is kept
// apart, a plain integer, because every op's `recording` call reads it.
thread_local std::uint64_t pending_id = 0;  // 0: none
thread_local const char* pending_function = "";
thread_local Scan pending_found;

void clear_pending() {
  pending_id = 0;
  pending_found = Scan{};
}

// The last output found finite by note_new_output: record() need not scan it again.
thread_local std::uint64_t last_finite = 0;

std::string element_str(const Scan& s) {
  std::vector<std::size_t> idx(s.shape.size());
  std::size_t rest = s.first;
  for (std::size_t a = s.shape.size(); a-- > 0;) {
    idx[a] = s.shape[a] ? rest % s.shape[a] : 0;
    rest = s.shape[a] ? rest / s.shape[a] : 0;
  }
  std::ostringstream os;
  os << "element " << s.first;
  if (s.shape.size() > 1) os << " (index " << shape_str(idx) << ")";
  // A NaN's sign bit is noise (log(-1) gives -nan): print every NaN the same.
  if (std::isnan(s.first_value))
    os << " (nan)";
  else
    os << " (" << s.first_value << ")";
  return os.str();
}

std::string findings_str(const Scan& s) {
  return "the output (shape " + shape_str(s.shape) + ") holds " + std::to_string(s.nan) +
         " NaN and " + std::to_string(s.inf) + " infinit" + (s.inf == 1 ? "y" : "ies") + " among " +
         std::to_string(s.size) + " elements, the first at " + element_str(s);
}

std::string inputs_str(const std::vector<Variable>& inputs) {
  if (inputs.empty()) return "the op has no inputs";
  std::string r = inputs.size() == 1 ? "the input has shape " : "the inputs have shapes ";
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (i) r += i + 1 == inputs.size() ? " and " : ", ";
    r += inputs[i].defined() ? shape_str(inputs[i].shape()) : std::string("(none)");
  }
  return r;
}

// The pending output's op never reached record (or another op recorded first): report it by
// the function that built it, the best name left.
[[noreturn]] void throw_unrecorded() {
  const Scan found = std::move(pending_found);
  const std::string function = pending_function;
  clear_pending();
  fail("check_numerics",
       "an op built in " + function +
           " did not record itself, so its name and inputs are unknown: " + findings_str(found));
}

}  // namespace

void enable_check_numerics() { enabled.store(true, std::memory_order_relaxed); }
void disable_check_numerics() {
  enabled.store(false, std::memory_order_relaxed);
  clear_pending();
}
bool check_numerics_enabled() { return enabled.load(std::memory_order_relaxed); }

namespace detail {

void note_new_output(const Variable& output, const char* function) {
  if (!check_numerics_enabled()) return;
  // An earlier bad output is still pending: its op never recorded it. It came first, so it is
  // the one to report.
  if (pending_id) throw_unrecorded();
  Scan s = scan(output.value());
  if (s.finite()) {
    last_finite = output.id();
    return;
  }
  pending_id = output.id();
  pending_function = function;
  pending_found = std::move(s);
}

bool numerics_pending() { return pending_id != 0; }

void check_recorded_output(const char* op, const std::vector<Variable>& inputs,
                           const Variable& output) {
  if (!check_numerics_enabled()) {
    clear_pending();
    return;
  }
  if (pending_id) {
    if (pending_id != output.id()) throw_unrecorded();
    const Scan s = std::move(pending_found);
    clear_pending();
    fail(op, "check_numerics: " + findings_str(s) + "; " + inputs_str(inputs));
  }
  // Outputs not built by detail::result (the tape's own gradient sums, custom ops).
  if (!output.defined() || output.id() == last_finite) return;
  const Scan s = scan(output.value());
  if (!s.finite()) fail(op, "check_numerics: " + findings_str(s) + "; " + inputs_str(inputs));
  last_finite = output.id();
}

}  // namespace detail
}  // namespace tapeflow
