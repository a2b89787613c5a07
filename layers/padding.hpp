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

 private:
  std::vector<long> values_;
  Pairs pairs_;
  bool is_pairs_ = false;
};

/// Options of `ZeroPadding<N>`: `padding` (an `AxisPairs`, default 1 on every side) and, for
/// 2-D and 3-D (as in Keras), `data_format` (`"channels_last"`, default, or
/// `"channels_first"`, any case).
///
/// Example: `ZeroPadding3DOptions().padding({1, 2, 0}).data_format("channels_first")`
template <std::size_t N>
struct ZeroPaddingOptions : LayerOptionsBase<ZeroPaddingOptions<N>> {
  static_assert(N >= 1 && N <= 3, "ZeroPadding has 1 to 3 spatial axes");
  ZeroPaddingOptions& padding(const AxisPairs& p) {
    padding_ = p;
    return *this;
  }
  const AxisPairs& padding() const { return padding_; }
  ZeroPaddingOptions& data_format(std::string f) requires(N > 1) {
    data_format_ = std::move(f);
    return *this;
  }
  const std::string& data_format() const { return data_format_; }

 private:
  AxisPairs padding_{1L};
  std::string data_format_ = "channels_last";
};

/// Options of `Cropping<N>`: `cropping` (an `AxisPairs`; Keras' defaults: 1 on every side for
/// 1-D and 3-D, 0 for 2-D) and, for 2-D and 3-D, `data_format` as for `ZeroPadding`.
///
/// Example: `Cropping2DOptions().cropping({{2, 2}, {4, 4}})`
template <std::size_t N>
struct CroppingOptions : LayerOptionsBase<CroppingOptions<N>> {
  static_assert(N >= 1 && N <= 3, "Cropping has 1 to 3 spatial axes");
  CroppingOptions& cropping(const AxisPairs& c) {
    cropping_ = c;
    return *this;
  }
  const AxisPairs& cropping() const { return cropping_; }
  CroppingOptions& data_format(std::string f) requires(N > 1) {
    data_format_ = std::move(f);
    return *this;
  }
  const std::string& data_format() const { return data_format_; }

 private:
  AxisPairs cropping_{N == 2 ? 0L : 1L};
  std::string data_format_ = "channels_last";
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
class ZeroPadding : public Layer {
 public:
  explicit ZeroPadding(const ZeroPaddingOptions<N>& options = {});
  /// "ZeroPadding1D", "ZeroPadding2D" or "ZeroPadding3D".
  std::string class_name() const override;
  const ZeroPaddingOptions<N>& options() const { return options_; }
  /// The resolved `(before, after)` per spatial axis.
  const AxisPairs::Pairs& padding() const { return padding_; }
  /// Base keys plus `padding` (1-D: `(before, after)`; else one pair per axis) and
  /// `data_format` (2-D, 3-D).
  Config get_config() const override;

 protected:
  Variable call(const Variable& x, bool training) override;
  std::string extra_repr() const override;

 private:
  ZeroPaddingOptions<N> options_;
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
class Cropping : public Layer {
 public:
  explicit Cropping(const CroppingOptions<N>& options = {});
  /// "Cropping1D", "Cropping2D" or "Cropping3D".
  std::string class_name() const override;
  const CroppingOptions<N>& options() const { return options_; }
  /// The resolved `(before, after)` per spatial axis.
  const AxisPairs::Pairs& cropping() const { return cropping_; }
  /// Base keys plus `cropping` (1-D: `(before, after)`; else one pair per axis) and
  /// `data_format` (2-D, 3-D).
  Config get_config() const override;

 protected:
  Variable call(const Variable& x, bool training) override;
  std::string extra_repr() const override;

 private:
  CroppingOptions<N> options_;
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
