#pragma once
/// TF's `tf.debugging.enable_check_numerics`: an opt-in debugging mode in which the first op
/// whose output holds a NaN or an infinity raises an error naming the op, instead of letting
/// the NaN spread silently to the loss.
///
/// While enabled, every new op output is scanned (`detail::result` in framework/ops/ops.hpp, the
/// function every op builds its output with, and the gradient sums of the tape). The error is
/// raised where the op records itself (`detail::record` in tape.hpp), which knows the op's name
/// and inputs; an op that no tape records is routed there too (`detail::recording` answers true
/// for it). Ops of the backward pass are checked like any other, so a NaN gradient names the
/// backward op that produced it. Composite ops (`mean`, the losses, `selu`) report the
/// primitive op inside them that failed (`mul`, `log`, ...), as TF does.
///
/// The setting is process-wide, like TF's. Scanning each output costs time: leave it off
/// outside debugging.
///
/// Example:
/// ```
/// tapeflow::enable_check_numerics();
/// try {
///   auto y = tapeflow::log(tapeflow::Variable(tapeflow::Tensor{1.f, -1.f}));
/// } catch (const tapeflow::ValueError& e) {
///   // "log: check_numerics: the output (shape (2,)) holds 1 NaN and 0 infinities among 2
///   //  elements, the first at element 1 (nan); the input has shape (2,)"
/// }
/// tapeflow::disable_check_numerics();
/// ```
#include <vector>

#include "tapeflow/framework/core/variable.hpp"

namespace tapeflow {

/// Turns the check on: from now on, the first op (forward or backward) whose output holds a NaN
/// or an infinity throws `ValueError` naming the op, the output's shape, how many elements are
/// not finite and where the first one is, and the shapes of the op's inputs.
/// Example: `tapeflow::enable_check_numerics(); train(model);  // stops at the first NaN`
void enable_check_numerics();

/// Turns the check off again (the default).
/// Example: `tapeflow::disable_check_numerics();`
void disable_check_numerics();

/// Whether `enable_check_numerics` is in effect.
/// Example: `if (tapeflow::check_numerics_enabled()) std::puts("checking every op");`
bool check_numerics_enabled();

namespace detail {
/// For `detail::result`: scans a new op output while the check is on. A non-finite one is kept
/// as pending until the op records it (`check_recorded_output` then throws with the op's name);
/// `function` (the C++ function that built it) names it if the op never gets that far.
/// Example: `if (check_numerics_enabled()) note_new_output(y, __func__);`
void note_new_output(const Variable& output, const char* function);

/// True while a non-finite output is pending: `detail::recording` answers true then, so that
/// the op that built it reaches `detail::record` even when no tape follows it.
/// Example: `if (numerics_pending()) return true;`
bool numerics_pending();

/// For `detail::record`, before anything is recorded: throws `ValueError("<op>: ...")` when the
/// check is on and `output` holds a NaN or an infinity. Outputs `note_new_output` already found
/// finite are not scanned again.
/// Example: `check_recorded_output("log", {x}, y);`
void check_recorded_output(const char* op, const std::vector<Variable>& inputs,
                           const Variable& output);
}  // namespace detail

}  // namespace tapeflow
