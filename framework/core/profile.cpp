#include "tapeflow/framework/core/profile.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <unordered_map>

namespace tapeflow::profile {

namespace {
std::atomic<bool> on{false};
std::atomic<bool> by_layer{false};

// Labels and their sums, one row per label index. Layers may run on several threads (a
// dataset's map on the prefetch thread), so both sit under one mutex; it is taken only while
// profiling is on.
struct Table {
  std::mutex mu;
  std::unordered_map<std::string, int> index;
  std::vector<Row> rows;
};
Table& table() {
  static Table t;
  return t;
}

// The innermost open scope of this thread: a scope's self time excludes its inner scopes'.
thread_local Scope* innermost = nullptr;
}  // namespace

void enable(GroupBy group_by) {
  reset();
  by_layer.store(group_by == GroupBy::layer, std::memory_order_relaxed);
  on.store(true, std::memory_order_relaxed);
}
void disable() { on.store(false, std::memory_order_relaxed); }
bool enabled() { return on.load(std::memory_order_relaxed); }

void reset() {
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mu);
  for (Row& r : t.rows) r = Row{r.label};
}

int label_index(const std::string& label) {
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mu);
  auto [it, added] = t.index.emplace(label, static_cast<int>(t.rows.size()));
  if (added) t.rows.push_back(Row{label});
  return it->second;
}

std::string layer_label(const std::string& class_name, const std::string& name) {
  return by_layer.load(std::memory_order_relaxed) ? class_name + " " + name : class_name;
}

int current_label() {
  if (!enabled() || !innermost) return -1;
  return innermost->index_;
}

double now_ms() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double, std::milli>(clock::now().time_since_epoch()).count();
}

void add_backward(int index, double ms) {
  if (innermost) innermost->children_ms_ += ms;
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mu);
  if (index < 0 || static_cast<std::size_t>(index) >= t.rows.size()) return;
  t.rows[index].backward_ops += 1;
  t.rows[index].backward_ms += ms;
}

void Scope::open(int index, Phase phase) {
  index_ = index;
  phase_ = phase;
  if (innermost && innermost->index_ == index && innermost->phase_ == phase) {
    merged_ = true;
    return;
  }
  outer_ = innermost;
  innermost = this;
  start_ms_ = now_ms();
}

void Scope::close() {
  if (merged_) return;
  const double elapsed = now_ms() - start_ms_;
  innermost = outer_;
  if (outer_) outer_->children_ms_ += elapsed;
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mu);
  Row& r = t.rows[index_];
  const double self = std::max(0.0, elapsed - children_ms_);
  if (phase_ == Phase::forward) {
    r.forward_calls += 1;
    r.forward_ms += self;
  } else {
    r.backward_ops += 1;
    r.backward_ms += self;
  }
}

std::vector<Row> rows() {
  std::vector<Row> out;
  {
    Table& t = table();
    std::lock_guard<std::mutex> lock(t.mu);
    for (const Row& r : t.rows)
      if (r.forward_calls || r.backward_ops) out.push_back(r);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Row& a, const Row& b) { return a.total_ms() > b.total_ms(); });
  return out;
}

std::string summary(std::size_t per) {
  const std::vector<Row> rs = rows();
  const double div = per ? static_cast<double>(per) : 1.0;
  double total = 0;
  std::size_t width = 5;  // "label"
  for (const Row& r : rs) {
    total += r.total_ms();
    width = std::max(width, r.label.size());
  }
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "%-*s %8s %11s %8s %11s %6s\n", static_cast<int>(width), "label",
                "calls", "forward ms", "bwd ops", "backward ms", "share");
  out += line;
  for (const Row& r : rs) {
    std::snprintf(line, sizeof line, "%-*s %8.1f %11.2f %8.1f %11.2f %5.1f%%\n",
                  static_cast<int>(width), r.label.c_str(), r.forward_calls / div,
                  r.forward_ms / div, r.backward_ops / div, r.backward_ms / div,
                  total > 0 ? 100.0 * r.total_ms() / total : 0.0);
    out += line;
  }
  std::snprintf(line, sizeof line, "%-*s %8s %11s %8s %11.2f\n", static_cast<int>(width), "total",
                "", "", "", total / div);
  out += line;
  return out;
}

}  // namespace tapeflow::profile
