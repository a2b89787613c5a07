#pragma once
/// Where a training step spends its time, by layer type: the forward time of each layer's calls
/// and the backward time of the ops they recorded, summed per label (a layer's class name, or
/// its class and name with `GroupBy::layer`; an optimizer's update; an op run outside any layer
/// by its op name). Off by default; while off,
/// nothing is timed and a layer call costs one branch more.
///
/// - Forward: a `Scope` times its own lifetime minus that of the scopes opened inside it (its
///   self time), so a model's label holds only the model's own glue and each layer its call.
///   A scope opened with the label of the one around it (a `Model` step and the layer's own
///   call) merges into it.
/// - Backward: every op recorded while a scope is open carries its label; `GradientTape`
///   times each op's backward (with the sum into gradients already there) under that label,
///   and the rest of its walk under "GradientTape (walk)".
/// Times are wall-clock on the calling thread: a layer's time includes its parallel kernels.
///
/// Example:
/// ```
/// tapeflow::profile::enable();
/// for (int i = 0; i < 10; ++i) model.train_on_batch(x, y);
/// std::cout << tapeflow::profile::summary();   // a table, the largest total first
/// tapeflow::profile::disable();
/// ```
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace tapeflow::profile {

/// How layer calls are labelled: by class ("Conv3D", the default: where a model's time goes by
/// kind of layer) or by class and name ("Conv3D conv3d_8": which layer).
enum class GroupBy { layer_type, layer };

/// Starts timing (and clears what an earlier run summed).
void enable(GroupBy group_by = GroupBy::layer_type);
/// Stops timing; what was summed stays readable.
void disable();
bool enabled();
/// Clears the sums.
void reset();

/// One label's sums since `enable` / `reset`.
struct Row {
  std::string label;
  std::size_t forward_calls = 0;  // scopes closed under this label
  double forward_ms = 0;          // their self time
  std::size_t backward_ops = 0;   // op backwards run for ops recorded under this label
  double backward_ms = 0;
  double total_ms() const { return forward_ms + backward_ms; }
};
/// Every label with a call or an op, the largest total first.
std::vector<Row> rows();
/// The rows as a table (label, calls, forward ms, backward ops, backward ms, share of the total),
/// each time divided by `per` (say the number of steps timed, for times per step).
std::string summary(std::size_t per = 1);

/// A layer call's label under the grouping `enable` chose.
std::string layer_label(const std::string& class_name, const std::string& name);

/// The label ops recorded now carry (an index into the labels; -1: profiling is off or no scope
/// is open). For the tape.
int current_label();
/// A label's index (made on first use).
int label_index(const std::string& label);
/// Adds an op's backward time, spent inside the innermost open scope, under label `index`
/// instead of that scope's (the tape's call).
void add_backward(int index, double ms);

/// Monotonic clock, milliseconds.
double now_ms();

/// Which column a scope's self time goes to: a layer's call is `forward`; the tape's own walk
/// is `backward`.
enum class Phase { forward, backward };

/// Times the code while alive under a label (see the header comment); does nothing when
/// profiling is off. `label` is called only when it is on (say `[&] { return class_name(); }`).
class Scope {
 public:
  template <class LabelFn>
  explicit Scope(LabelFn&& label, Phase phase = Phase::forward) {
    if (enabled()) open(label_index(std::forward<LabelFn>(label)()), phase);
  }
  ~Scope() {
    if (index_ >= 0) close();
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  void open(int index, Phase phase);
  void close();
  friend void add_backward(int index, double ms);
  friend int current_label();
  int index_ = -1;
  Phase phase_ = Phase::forward;
  bool merged_ = false;  // same label as the scope around it: that one times it
  double start_ms_ = 0;
  double children_ms_ = 0;
  Scope* outer_ = nullptr;
};

}  // namespace tapeflow::profile
