#pragma once
/// What the metrics share to read their inputs: Keras' rank adjustment, shape checks, sample
/// weights, class ids and arg-max. Internal to framework/metrics.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "tapeflow/framework/core/tensor.hpp"

namespace tapeflow::metrics::detail {

/// Keras' `squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1)` on the shapes: when the ranks
/// differ by one and the longer one ends in an axis of 1, that axis is dropped, or, when the
/// shorter one has rank 1 and `expand_rank_1`, the shorter one gets a trailing 1 instead.
void squeeze_or_expand_to_same_rank(Tensor& x1, Tensor& x2, bool expand_rank_1 = true);
/// The same on two shapes.
void squeeze_or_expand_to_same_rank(Shape& s1, Shape& s2, bool expand_rank_1 = true);

/// `y_true` and `y_pred` after `squeeze_or_expand_to_same_rank`, which must then have the same
/// shape: otherwise a ShapeError "<where>: y_true shape (..) and y_pred shape (..) ..."; nothing is
/// broadcast (`(N,)` against `(1, N)` would silently compare every pair).
void require_same_shape(const std::string& where, Tensor& y_true, Tensor& y_pred);

/// One weight per element of a tensor of `shape`: `sample_weight` aligned with the leading axes
/// (trailing axes of 1 beyond `shape`'s rank dropped first), each of its axes 1 or equal to
/// `shape`'s. None (`is_unweighted`): an empty vector. A weight that does not fit is a ShapeError
/// naming `where`, "sample_weight" and both shapes.
std::vector<double> broadcast_weights(const std::string& where, const Tensor& sample_weight,
                                      const Shape& shape);

/// The class id `v` holds: it must be an integer in `[0, num_classes)` (or `ignore`, returned as
/// is); otherwise a ValueError "<where>: <arg> must hold integer class ids in [0, n), got v".
long class_id(const std::string& where, const char* arg, float v, long num_classes,
              std::optional<long> ignore = std::nullopt);

/// Index of the largest value along `axis` (negative counts from the end) for each position of
/// the other axes (row-major order), the first one on ties (as numpy and TF). A slice holding a
/// NaN gives -1: no class, so it can never match. `out_shape`, when given, receives the shape
/// without `axis`.
std::vector<long> argmax(const std::string& where, const Tensor& x, int axis = -1,
                         Shape* out_shape = nullptr);

/// A threshold in [0, 1] (Keras' `assert_thresholds_range`): ValueError naming `where`, `arg` and
/// the value otherwise (NaN included).
void check_unit_interval(const std::string& where, const char* arg, double v);

/// A finite threshold: ValueError naming `where` and `arg` otherwise.
void check_finite(const std::string& where, const char* arg, double v);

/// `num / den`, 0 when `den` is 0 (Keras' `divide_no_nan`; NaN stays NaN).
inline double divide_no_nan(double num, double den) { return den == 0.0 ? 0.0 : num / den; }

}  // namespace tapeflow::metrics::detail
