#pragma once
/// Differentiable ops as free functions. Binary elementwise ops broadcast like NumPy; each
/// gradient is reduced back to its input's shape. Axes may be negative (counted from the end).
/// Every backward is itself built from these ops, so gradients of gradients work (nest tapes).
/// Bad input throws `tapeflow::Error` naming the op, the argument and the shapes or values.
///
/// With a bare `Tensor` argument an unqualified call (`exp(t)`) finds `xt::exp` by
/// argument-dependent lookup and returns an xtensor expression: qualify it (`tapeflow::exp(t)`)
/// or pass a `Variable` (`exp(Variable(t))`).
///
/// Example:
/// ```
/// tapeflow::Variable w(xt::ones<float>({3, 2}), /*trainable=*/true);
/// tapeflow::Variable x(tapeflow::Tensor{{1.f, 2.f, 3.f}});
/// tapeflow::GradientTape tape;
/// auto loss = tapeflow::mean(tapeflow::square(tapeflow::matmul(x, w)));
/// auto dw = tape.gradient(loss, {w})[0];
/// ```
#include <cstdint>
#include <utility>
#include <vector>

#include "tapeflow/framework/core/check_numerics.hpp"
#include "tapeflow/framework/core/tape.hpp"

namespace tapeflow {

using Axes = std::vector<int>;
using IndexTensor = xt::xarray<std::int64_t>;

/// A constant scalar (0-d) variable.
Variable scalar(float v);
Variable zeros_like(const Variable& x);
Variable ones_like(const Variable& x);

// ---- elementwise, broadcasting -------------------------------------------------------------
Variable add(const Variable& a, const Variable& b);
Variable sub(const Variable& a, const Variable& b);
Variable mul(const Variable& a, const Variable& b);
Variable div(const Variable& a, const Variable& b);
/// `a^b`. As in TF, b's gradient is `a^b log(a)` where a > 0 and 0 elsewhere.
Variable pow(const Variable& a, const Variable& b);
/// Elementwise max/min; a NaN on either side gives NaN, as in TF. The gradient goes to a where
/// a >= b (maximum) or a <= b (minimum), otherwise to b: ties go to the first argument, and at a
/// NaN the gradient goes to b, as in TF.
/// Example: `maximum(x, scalar(0.f))` is relu, NaN kept.
Variable maximum(const Variable& a, const Variable& b);
Variable minimum(const Variable& a, const Variable& b);
/// `cond ? a : b` elementwise (cond nonzero = true); all three broadcast together; cond gets
/// no gradient.
Variable where(const Variable& cond, const Variable& a, const Variable& b);

// ---- elementwise, unary --------------------------------------------------------------------
/// Unary math. Gradients: abs' = sign (0 at 0, as TF), sqrt/rsqrt/log via their outputs/inputs.
Variable neg(const Variable& x);
Variable exp(const Variable& x);
Variable log(const Variable& x);
Variable sqrt(const Variable& x);
Variable rsqrt(const Variable& x);
Variable square(const Variable& x);
Variable abs(const Variable& x);
/// -1, 0 or 1; its gradient is zero.
Variable sign(const Variable& x);
/// Clamps to [clip_min, clip_max] (Error if clip_min > clip_max); NaN stays NaN. The gradient
/// passes except where x < clip_min or x > clip_max (TF): bounds included, NaN included.
/// Example: `clip_by_value(p, 1e-7f, 1.f - 1e-7f)`.
Variable clip_by_value(const Variable& x, float clip_min, float clip_max);

// ---- linear algebra ------------------------------------------------------------------------
/// Matrix product of the last two dims, through `gemm::sgemm`; both operands need rank >= 2
/// (a 1-D operand is an Error: use `expand_dims`), leading (batch) dims broadcast like NumPy.
/// `transpose_a`/`transpose_b` transpose the last two dims of a/b first. Errors name both shapes
/// and the inner dimensions that differ. Example: `matmul(x, w)` with x (batch, 3), w (3, 2).
Variable matmul(const Variable& a, const Variable& b, bool transpose_a = false,
                bool transpose_b = false);

// ---- reductions (empty axes = all axes) ----------------------------------------------------
/// Reductions over `axes`; `keepdims` keeps reduced axes with length 1. max/min share the
/// gradient equally among tied extrema (TF) and refuse an empty reduced axis; a NaN in a group
/// makes its max/min NaN and its gradient NaN (TF: no element equals it); prod's gradient
/// is exact with zeros in the input (exclusive products, no division), at any order; mean of an
/// empty axis is NaN. Example: `mean(x, {-1}, /*keepdims=*/true)`.
Variable sum(const Variable& x, const Axes& axes = {}, bool keepdims = false);
Variable mean(const Variable& x, const Axes& axes = {}, bool keepdims = false);
Variable max(const Variable& x, const Axes& axes = {}, bool keepdims = false);
Variable min(const Variable& x, const Axes& axes = {}, bool keepdims = false);
Variable prod(const Variable& x, const Axes& axes = {}, bool keepdims = false);

// ---- shapes --------------------------------------------------------------------------------
/// One entry may be -1 (inferred).
Variable reshape(const Variable& x, const std::vector<long>& shape);
/// Permutes axes; empty perm reverses them. Example: `transpose(x, {0, 2, 1})`.
Variable transpose(const Variable& x, const std::vector<std::size_t>& perm = {});
/// Joins along an existing axis; shapes must match except on that axis; the list must not be
/// empty.
Variable concat(const std::vector<Variable>& xs, int axis);
/// Joins along a new axis (in [-(rank+1), rank]); all shapes must match.
Variable stack(const std::vector<Variable>& xs, int axis = 0);
/// Into `num` equal parts along axis.
std::vector<Variable> split(const Variable& x, std::size_t num, int axis);
/// Into parts of the given sizes along axis; the sizes must sum to the axis length.
std::vector<Variable> split(const Variable& x, const std::vector<std::size_t>& sizes, int axis);
/// TF `tf.slice`: one begin and size per axis; `size[i] == -1` takes the rest of axis i; a box
/// reaching outside x is an Error.
Variable slice(const Variable& x, const std::vector<long>& begin, const std::vector<long>& size);
/// TF `tf.strided_slice` without masks: Python slicing per axis, negative indices and strides
/// allowed, out-of-range bounds clamped; begin/end/strides may be shorter than the rank (the
/// remaining axes are taken whole). `x[::-1]` is `strided_slice(x, {-1}, {-n - 1}, {-1})`.
Variable strided_slice(const Variable& x, const std::vector<long>& begin,
                       const std::vector<long>& end, const std::vector<long>& strides);
/// Constant padding; one (before, after) pair per axis. Example: `pad(x, {{0, 0}, {1, 1}})`.
Variable pad(const Variable& x, const std::vector<std::pair<std::size_t, std::size_t>>& paddings,
             float constant_value = 0.f);
/// TF `tf.tile`: one multiple per axis.
Variable tile(const Variable& x, const std::vector<std::size_t>& multiples);
Variable broadcast_to(const Variable& x, const Shape& shape);
/// Inserts an axis of length 1 at `axis` in [-(rank+1), rank].
Variable expand_dims(const Variable& x, int axis);
/// Removes axes of length 1 (an Error for a listed axis of another length); empty axes removes
/// every axis of length 1.
Variable squeeze(const Variable& x, const Axes& axes = {});
/// TF `tf.gather`: output shape = x.shape[:axis] + indices.shape + x.shape[axis+1:]. An index
/// outside [0, x.shape[axis]) is an Error naming it and the axis size. The gradient is a
/// scatter-add (repeated indices accumulate). Example: `gather(embeddings, ids)`.
Variable gather(const Variable& x, const IndexTensor& indices, int axis = 0);

// ---- operators -----------------------------------------------------------------------------
inline Variable operator+(const Variable& a, const Variable& b) { return add(a, b); }
inline Variable operator-(const Variable& a, const Variable& b) { return sub(a, b); }
inline Variable operator*(const Variable& a, const Variable& b) { return mul(a, b); }
inline Variable operator/(const Variable& a, const Variable& b) { return div(a, b); }
inline Variable operator-(const Variable& a) { return neg(a); }
inline Variable operator+(const Variable& a, float b) { return add(a, scalar(b)); }
inline Variable operator-(const Variable& a, float b) { return sub(a, scalar(b)); }
inline Variable operator*(const Variable& a, float b) { return mul(a, scalar(b)); }
inline Variable operator/(const Variable& a, float b) { return div(a, scalar(b)); }
inline Variable operator+(float a, const Variable& b) { return add(scalar(a), b); }
inline Variable operator-(float a, const Variable& b) { return sub(scalar(a), b); }
inline Variable operator*(float a, const Variable& b) { return mul(scalar(a), b); }
inline Variable operator/(float a, const Variable& b) { return div(scalar(a), b); }

// ---- helpers for op authors ----------------------------------------------------------------
namespace detail {
/// The broadcast shape of a and b, or an Error naming `op` and both shapes.
Shape broadcast_shape(const char* op, const Shape& a, const Shape& b);
/// Sums `g` down to `shape` (undoing a broadcast); differentiable.
Variable unbroadcast(const Variable& g, const Shape& shape);
/// Normalizes a possibly negative axis against rank, or an Error naming `op`.
std::size_t normalize_axis(const char* op, int axis, std::size_t rank);
/// Normalized, sorted, unique axes; empty input = all axes.
std::vector<std::size_t> normalize_axes(const char* op, const Axes& axes, std::size_t rank);
/// A new op result (not trainable, not watched by itself). Every op builds its output with it,
/// then records: while `enable_check_numerics()` is on, a NaN or infinity found here makes the
/// op's `detail::record` call throw, naming it (`function`, the caller, names it should it never
/// record). Example: `Variable y = result(Tensor(xt::exp(x.value())));`
/// (`__builtin_FUNCTION()`, GCC's and Clang's, rather than std::source_location, which Debian 12's
/// Clang 14 cannot compile with its libstdc++: the fuzzing builds use Clang.)
inline Variable result(Tensor value, const char* function = __builtin_FUNCTION()) {
  Variable y(std::move(value));
  if (check_numerics_enabled()) [[unlikely]]
    note_new_output(y, function);
  return y;
}
}  // namespace detail

}  // namespace tapeflow
