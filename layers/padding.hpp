#pragma once
/// Keras' `ZeroPadding1D/2D/3D` and `Cropping1D/2D/3D`: add zeros around, or cut from, the
/// spatial axes.
#include <cstddef>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

/// A `(before, after)` amount per spatial axis, written in any of Keras' argument forms:
/// - one number: the same on both sides of every axis: `1`;
/// - one number per axis, the same on both sides: `{1, 2}` (2-D: height 1, width 2);
///   for the 1-D layers, two numbers are Keras' `(before, after)` tuple instead;
/// - one `(before, after)` pair per axis: `{{1, 2}, {3, 4}}`.
/// The layer resolves it against its rank (an Error naming the layer and the argument when the
/// count does not fit or a value is negative).
///
/// Example: `ZeroPadding2DOptions().padding({{1, 0}, {2, 2}})`
class AxisPairs {
 public:
  using Pairs = std::vector<std::pair<long, long>>;
  AxisPairs(long v) : values_{v} {}  // NOLINT(google-explicit-constructor): Keras' int form
  AxisPairs(std::initializer_list<long> v) : values_(v) {}
  AxisPairs(std::initializer_list<std::pair<long, long>> p) : pairs_(p), is_pairs_(true) {}
  explicit AxisPairs(std::vector<long> v) : values_(std::move(v)) {}
  explicit AxisPairs(Pairs p) : pairs_(std::move(p)), is_pairs_(true) {}

  /// `n` pairs, or an Error naming `where` and the argument `arg`.
  Pairs resolve(std::size_t n, const std::string& where, const std::string& arg) const;
  /// As written: "1", "(1, 2)" or "((1, 2), (3, 4))".
  std::string str() const;
  /// The config text: as `str()`, except that a single pair is Keras' 1-D `(before, after)`
  /// tuple, "(1, 2)". The layers write their resolved pairs: "(1, 2)", "((1, 1), (2, 2))".
  friend std::string config_write(const AxisPairs& amounts);

 private:
  std::vector<long> values_;
  Pairs pairs_;
  bool is_pairs_ = false;
};
/// The inverse of `config_write`: a number, a tuple of numbers or a tuple of pairs; a malformed
/// value is a ValueError naming `where`, `key` and `text`.
void config_read(const std::string& where, const std::string& key, const std::string& text,
                 AxisPairs& out);

/// The own option of `ZeroPadding<N>`: `padding`, default 1 on every side.
#define TAPEFLOW_ZERO_PADDING_FIELDS(F) F(AxisPairs, padding, 1L)
/// The own option of `Cropping<N>`: `cropping`, default 1 on every side for 1-D and 3-D, 0 for
/// 2-D (Keras; `N` is that of the options struct that expands the list).
#define TAPEFLOW_CROPPING_FIELDS(F) F(AxisPairs, cropping, N == 2 ? 0L : 1L)

/// Options of `ZeroPadding<N>`: the common ones, `data_format` for 2-D and 3-D (as in Keras:
/// "channels_last", default, or "channels_first", any case), then `padding` (an `AxisPairs`,
/// default 1 on every side).
///
/// Example: `ZeroPadding3DOptions().padding({1, 2, 0}).data_format("channels_first")`
template <std::size_t N>
struct ZeroPaddingOptions : detail::SpatialOptionsBase<ZeroPaddingOptions<N>, N> {
  static_assert(N >= 1 && N <= 3, "ZeroPadding has 1 to 3 spatial axes");
  using spatial_options = detail::SpatialOptionsBase<ZeroPaddingOptions<N>, N>;
  TAPEFLOW_DERIVED_FIELDS(ZeroPaddingOptions, spatial_options, TAPEFLOW_ZERO_PADDING_FIELDS)
  static constexpr PrintedFields printed{"padding", N > 1 ? "data_format" : ""};
};

/// Options of `Cropping<N>`: the common ones, `data_format` for 2-D and 3-D as for
/// `ZeroPadding`, then `cropping` (an `AxisPairs`; Keras' defaults: 1 on every side for 1-D and
/// 3-D, 0 for 2-D).
///
/// Example: `Cropping2DOptions().cropping({{2, 2}, {4, 4}})`
template <std::size_t N>
struct CroppingOptions : detail::SpatialOptionsBase<CroppingOptions<N>, N> {
  static_assert(N >= 1 && N <= 3, "Cropping has 1 to 3 spatial axes");
  using spatial_options = detail::SpatialOptionsBase<CroppingOptions<N>, N>;
  TAPEFLOW_DERIVED_FIELDS(CroppingOptions, spatial_options, TAPEFLOW_CROPPING_FIELDS)
  static constexpr PrintedFields printed{"cropping", N > 1 ? "data_format" : ""};
};

/// Keras `ZeroPadding1D/2D/3D`: the input has rank N + 2; spatial axis `a` grows by
/// `before + after` zeros. Default names "zero_padding1d", "zero_padding2d", "zero_padding3d".
/// Use the aliases `ZeroPadding1D`, `ZeroPadding2D`, `ZeroPadding3D`.
///
/// Example:
/// ```
/// tapeflow::layers::ZeroPadding2D pad(tapeflow::layers::ZeroPadding2DOptions().padding({1, 2}));
/// tapeflow::Variable y = pad(x);   // x (1, 4, 4, 3) -> y (1, 6, 8, 3)
/// ```
template <std::size_t N>
class ZeroPadding : public LayerWith<ZeroPaddingOptions<N>> {
 public:
  explicit ZeroPadding(const ZeroPaddingOptions<N>& options = {});
  /// "ZeroPadding1D", "ZeroPadding2D" or "ZeroPadding3D".
  std::string class_name() const override;
  /// The resolved `(before, after)` per spatial axis.
  const AxisPairs::Pairs& padding() const { return padding_; }

 protected:
  Variable call(const Variable& x, bool training) override;

 private:
  AxisPairs::Pairs padding_;
};

/// Keras `Cropping1D/2D/3D`: the input has rank N + 2; spatial axis `a` loses `before`
/// elements at its start and `after` at its end. Cropping that leaves nothing of an axis is an
/// Error naming the layer, the axis and the input shape. Default names "cropping1d",
/// "cropping2d", "cropping3d". Use the aliases `Cropping1D`, `Cropping2D`, `Cropping3D`.
///
/// Example:
/// ```
/// tapeflow::layers::Cropping1D crop(tapeflow::layers::Cropping1DOptions().cropping({1, 2}));
/// tapeflow::Variable y = crop(x);   // x (2, 10, 3) -> y (2, 7, 3)
/// ```
template <std::size_t N>
class Cropping : public LayerWith<CroppingOptions<N>> {
 public:
  explicit Cropping(const CroppingOptions<N>& options = {});
  /// "Cropping1D", "Cropping2D" or "Cropping3D".
  std::string class_name() const override;
  /// The resolved `(before, after)` per spatial axis.
  const AxisPairs::Pairs& cropping() const { return cropping_; }

 protected:
  Variable call(const Variable& x, bool training) override;

 private:
  AxisPairs::Pairs cropping_;
};

using ZeroPadding1DOptions = ZeroPaddingOptions<1>;
using ZeroPadding2DOptions = ZeroPaddingOptions<2>;
using ZeroPadding3DOptions = ZeroPaddingOptions<3>;
using ZeroPadding1D = ZeroPadding<1>;
using ZeroPadding2D = ZeroPadding<2>;
using ZeroPadding3D = ZeroPadding<3>;
using Cropping1DOptions = CroppingOptions<1>;
using Cropping2DOptions = CroppingOptions<2>;
using Cropping3DOptions = CroppingOptions<3>;
using Cropping1D = Cropping<1>;
using Cropping2D = Cropping<2>;
using Cropping3D = Cropping<3>;

extern template class ZeroPadding<1>;
extern template class ZeroPadding<2>;
extern template class ZeroPadding<3>;
extern template class Cropping<1>;
extern template class Cropping<2>;
extern template class Cropping<3>;

}  // namespace tapeflow::layers
