#pragma once
/// Differentiable ops as free functions. Binary elementwise ops broadcast like NumPy; each
/// gradient is reduced back to its input's shape. Axes may be negative (counted from the end).
#include <cstdint>
#include <utility>
#include <vector>

#include "framework/tape.hpp"

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
Variable pow(const Variable& a, const Variable& b);
Variable maximum(const Variable& a, const Variable& b);
Variable minimum(const Variable& a, const Variable& b);
/// `cond ? a : b` elementwise (cond nonzero = true); cond gets no gradient.
Variable where(const Variable& cond, const Variable& a, const Variable& b);

// ---- elementwise, unary --------------------------------------------------------------------
Variable neg(const Variable& x);
Variable exp(const Variable& x);
Variable log(const Variable& x);
Variable sqrt(const Variable& x);
Variable rsqrt(const Variable& x);
Variable square(const Variable& x);
Variable abs(const Variable& x);
/// -1, 0 or 1; its gradient is zero.
Variable sign(const Variable& x);
Variable clip_by_value(const Variable& x, float clip_min, float clip_max);

// ---- linear algebra ------------------------------------------------------------------------
/// 2-D or batched matrix product through BLAS; leading (batch) dims broadcast.
Variable matmul(const Variable& a, const Variable& b, bool transpose_a = false,
                bool transpose_b = false);

// ---- reductions (empty axes = all axes) ----------------------------------------------------
Variable sum(const Variable& x, const Axes& axes = {}, bool keepdims = false);
Variable mean(const Variable& x, const Axes& axes = {}, bool keepdims = false);
Variable max(const Variable& x, const Axes& axes = {}, bool keepdims = false);
Variable min(const Variable& x, const Axes& axes = {}, bool keepdims = false);
Variable prod(const Variable& x, const Axes& axes = {}, bool keepdims = false);

// ---- shapes --------------------------------------------------------------------------------
/// One entry may be -1 (inferred).
Variable reshape(const Variable& x, const std::vector<long>& shape);
/// Empty perm reverses the axes.
Variable transpose(const Variable& x, const std::vector<std::size_t>& perm = {});
Variable concat(const std::vector<Variable>& xs, int axis);
Variable stack(const std::vector<Variable>& xs, int axis = 0);
/// Into `num` equal parts along axis.
std::vector<Variable> split(const Variable& x, std::size_t num, int axis);
/// Into parts of the given sizes along axis.
std::vector<Variable> split(const Variable& x, const std::vector<std::size_t>& sizes, int axis);
/// TF `tf.slice`: `size[i] == -1` takes the rest of axis i.
Variable slice(const Variable& x, const std::vector<long>& begin, const std::vector<long>& size);
/// TF `tf.strided_slice` without masks: Python slicing per axis, negative indices allowed.
Variable strided_slice(const Variable& x, const std::vector<long>& begin,
                       const std::vector<long>& end, const std::vector<long>& strides);
/// Constant padding; one (before, after) pair per axis.
Variable pad(const Variable& x, const std::vector<std::pair<std::size_t, std::size_t>>& paddings,
             float constant_value = 0.f);
Variable tile(const Variable& x, const std::vector<std::size_t>& multiples);
Variable broadcast_to(const Variable& x, const Shape& shape);
Variable expand_dims(const Variable& x, int axis);
/// Empty axes removes every axis of length 1.
Variable squeeze(const Variable& x, const Axes& axes = {});
/// TF `tf.gather`: output shape = x.shape[:axis] + indices.shape + x.shape[axis+1:].
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
/// A new op result (not trainable, not watched by itself).
inline Variable result(Tensor value) { return Variable(std::move(value)); }
}  // namespace detail

}  // namespace tapeflow
