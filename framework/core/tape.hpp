#pragma once
#include <functional>
#include <memory>
#include <unordered_set>
#include <vector>

#include "tapeflow/framework/core/variable.hpp"

namespace tapeflow {

/// Records the differentiable ops run while it is alive, then computes gradients by walking
/// them backwards (iteratively: a chain of any length is fine).
///
/// Trainable variables are watched automatically; `watch` adds any other variable or constant.
/// A non-persistent tape answers one `gradient` call and frees what each op saved as the walk
/// passes it; a persistent one can be asked again. Tapes nest: the ops run while an inner tape
/// computes its gradient are recorded by the outer ones, which gives higher-order gradients.
///
/// Backwards read the values they saved live, not copies. A backward that needs a value
/// modified in place since its op was recorded (`Variable::version`: say an optimizer step
/// between two `gradient` calls of a persistent tape) throws `ValueError` naming the variable
/// and the op, instead of differentiating at the new value.
///
/// Example:
/// ```
/// tapeflow::Variable w(xt::ones<float>({3}), /*trainable=*/true);
/// tapeflow::GradientTape tape;
/// auto loss = tapeflow::sum(tapeflow::square(w));
/// auto grads = tape.gradient(loss, {w});   // grads[0] == 2 * w
/// ```
class GradientTape {
 public:
  explicit GradientTape(bool persistent = false, bool watch_accessed_variables = true);
  ~GradientTape();
  GradientTape(const GradientTape&) = delete;
  GradientTape& operator=(const GradientTape&) = delete;

  /// Records ops that use `v` from now on, whether or not it is trainable.
  void watch(const Variable& v);
  void watch(const std::vector<Variable>& vs);
  /// The variables this tape watched (explicitly, or trainable ones used by a recorded op).
  std::vector<Variable> watched_variables() const;

  /// d target / d source for each source. A source the target does not depend on gets an
  /// undefined `Variable` (unlike a zero gradient). A non-scalar target is summed, unless
  /// `output_gradient` (same shape as target) weights it.
  std::vector<Variable> gradient(const Variable& target, const std::vector<Variable>& sources,
                                 const Variable& output_gradient = Variable());

  /// Called by `gradient` with a source's index in `sources` and its gradient as soon as that
  /// gradient is final (no op the walk has yet to reach adds to it), while the walk goes on:
  /// the hook PyTorch DDP and Horovod use to start a gradient's all-reduce during the backward
  /// pass. Each source with a gradient is reported once per `gradient` call, in the order the
  /// walk finishes them; a source without one (undefined in the result) is not reported. The
  /// hook may read the gradient but not change it, and must not call `gradient` on this tape.
  using GradientReadyHook = std::function<void(std::size_t source, const Variable& gradient)>;
  /// Installs `hook` for the following `gradient` calls (an empty function removes it).
  void set_gradient_ready_hook(GradientReadyHook hook) { ready_hook_ = std::move(hook); }

  /// Forgets everything recorded so far (the tape stays active).
  void reset();
  bool persistent() const { return persistent_; }
  /// Number of ops recorded (those not yet freed included).
  std::size_t size() const;

  struct Entry;

 private:
  friend struct TapeAccess;
  bool persistent_;
  bool watch_accessed_;
  bool used_ = false;
  bool paused_ = false;
  std::vector<Entry> entries_;
  std::unordered_set<std::uint64_t> watched_ids_;
  std::vector<Variable> watched_vars_;
  GradientReadyHook ready_hook_;
};

/// The same value, but no gradient flows through it.
Variable stop_gradient(const Variable& x);

/// Pauses recording on every active tape while alive.
class StopRecording {
 public:
  StopRecording();
  ~StopRecording();
  StopRecording(const StopRecording&) = delete;
  StopRecording& operator=(const StopRecording&) = delete;

 private:
  std::vector<GradientTape*> paused_;
};

namespace detail {
/// Gradients of an op's inputs given the gradient of its output; an undefined entry means
/// "no gradient for this input". Built from differentiable ops, so it can itself be recorded.
using BackwardFn = std::function<std::vector<Variable>(const Variable& grad_output)>;

/// True when some active tape would record an op on these inputs. Ops build their backward
/// closure only then, so nothing is kept when no tape is listening. Also true, whatever the
/// tapes, while `check_numerics` holds a bad output of the op not yet reported, so that the op
/// reaches `record`, which reports it by name (check_numerics.hpp).
bool recording(std::initializer_list<const Variable*> inputs);
bool recording(const std::vector<Variable>& inputs);
/// Records `output = op(inputs)` on every active tape that watches one of the inputs, with the
/// inputs' and output's versions (`Variable::version`) for the check of saved values. While
/// `enable_check_numerics()` is on, first throws `ValueError("<op>: check_numerics: ...")` if
/// `output` holds a NaN or an infinity.
void record(const char* op, const std::vector<Variable>& inputs, const Variable& output,
            BackwardFn backward);
}  // namespace detail

}  // namespace tapeflow
