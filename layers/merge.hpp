#pragma once
/// Keras merge layers, which take a list of inputs: the elementwise `Add`, `Subtract`,
/// `Multiply`, `Average`, `Maximum`, `Minimum`, `Concatenate`, and `Dot`.
#include <array>
#include <string>
#include <utility>
#include <vector>

#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

/// Base of the layers that combine several inputs (Keras `_Merge`). Call them with a list:
/// `layer({a, b, c}, training)`. They have no weights; the built input shape (`input_shape()`)
/// is that of the first input. Calling one with a single `Variable` is an Error naming the
/// layer. Subclasses check the shapes (`check_shapes`, on every call, before anything runs) and
/// compute the result (`merge`).
class Merge : public Layer {
 public:
  /// The single-input call inherited from `Layer` (an Error for a merge layer).
  using Layer::operator();
  /// Merges `inputs` (at least 2). The activity regularizer, if any, applies to the result.
  Variable operator()(const std::vector<Variable>& inputs, bool training = false);
  /// The list call above, as a model runs it.
  std::vector<Variable> call_on_list(const std::vector<Variable>& inputs, bool training) override;

 protected:
  Merge(const std::string& default_name, const LayerOptions& options);
  /// An Error naming the layer and every shape unless the shapes can be merged.
  virtual void check_shapes(const std::vector<Shape>& shapes) const = 0;
  virtual Variable merge(const std::vector<Variable>& inputs) = 0;
  /// Layer's single-input entry points: `build` and `call` run only inside the list call (an
  /// Error otherwise, before anything is built); `call` runs `merge` on the list.
  void build(const Shape& input_shape) override;
  Variable call(const Variable& x, bool training) final;
  /// "(2, 3), (2, 3)" for error messages.
  static std::string shapes_str(const std::vector<Shape>& shapes);

 private:
  const std::vector<Variable>* pending_ = nullptr;
};

/// Base of the merge layers that combine their inputs element by element (Keras' elementwise
/// `_Merge` layers). The inputs must have the same rank and batch size; other sizes must be
/// equal or 1 (broadcast, as Keras). The result has the broadcast shape.
class ElementwiseMerge : public Merge {
 protected:
  using Merge::Merge;
  void check_shapes(const std::vector<Shape>& shapes) const override;
};

/// Options of `Add`: only the common ones (`name`, `trainable`, `activity_regularizer`).
/// Example: `AddOptions().name("residual")`
struct AddOptions : LayerOptionsBase<AddOptions> {};

/// Keras `Add`, default name "add": the elementwise sum of the inputs (shapes as
/// `ElementwiseMerge`).
///
/// Example:
/// ```
/// tapeflow::layers::Add add;
/// tapeflow::Variable y = add({a, b});   // a, b (2, 8) -> y (2, 8)
/// ```
class Add : public LayerWith<AddOptions, ElementwiseMerge> {
 public:
  explicit Add(const AddOptions& options = {});
  std::string class_name() const override { return "Add"; }

 protected:
  Variable merge(const std::vector<Variable>& inputs) override;
};

/// Options of `Subtract`: only the common ones. Example: `SubtractOptions().name("diff")`
struct SubtractOptions : LayerOptionsBase<SubtractOptions> {};

/// Keras `Subtract`, default name "subtract": `a - b` for exactly two inputs `{a, b}` (shapes as
/// `ElementwiseMerge`). Another number of inputs is an Error naming the layer.
///
/// Example:
/// ```
/// tapeflow::layers::Subtract sub;
/// tapeflow::Variable d = sub({a, b});   // a, b (2, 8) -> d (2, 8)
/// ```
class Subtract : public LayerWith<SubtractOptions, ElementwiseMerge> {
 public:
  explicit Subtract(const SubtractOptions& options = {});
  std::string class_name() const override { return "Subtract"; }

 protected:
  void check_shapes(const std::vector<Shape>& shapes) const override;
  Variable merge(const std::vector<Variable>& inputs) override;
};

/// Options of `Multiply`: only the common ones. Example: `MultiplyOptions().name("gate")`
struct MultiplyOptions : LayerOptionsBase<MultiplyOptions> {};

/// Keras `Multiply`, default name "multiply": the elementwise product of the inputs (shapes as
/// `ElementwiseMerge`).
///
/// Example:
/// ```
/// tapeflow::layers::Multiply mul;
/// tapeflow::Variable y = mul({x, gate});   // x (2, 8), gate (2, 1) -> y (2, 8)
/// ```
class Multiply : public LayerWith<MultiplyOptions, ElementwiseMerge> {
 public:
  explicit Multiply(const MultiplyOptions& options = {});
  std::string class_name() const override { return "Multiply"; }

 protected:
  Variable merge(const std::vector<Variable>& inputs) override;
};

/// Options of `Average`: only the common ones. Example: `AverageOptions().name("mean")`
struct AverageOptions : LayerOptionsBase<AverageOptions> {};

/// Keras `Average`, default name "average": the sum of the inputs divided by their number
/// (shapes as `ElementwiseMerge`).
///
/// Example:
/// ```
/// tapeflow::layers::Average avg;
/// tapeflow::Variable y = avg({a, b, c});   // (a + b + c) / 3
/// ```
class Average : public LayerWith<AverageOptions, ElementwiseMerge> {
 public:
  explicit Average(const AverageOptions& options = {});
  std::string class_name() const override { return "Average"; }

 protected:
  Variable merge(const std::vector<Variable>& inputs) override;
};

/// Options of `Maximum`: only the common ones. Example: `MaximumOptions().name("max")`
struct MaximumOptions : LayerOptionsBase<MaximumOptions> {};

/// Keras `Maximum`, default name "maximum": the elementwise maximum of the inputs (shapes as
/// `ElementwiseMerge`). Where inputs tie, the gradient goes to the first of them (as TF's
/// `maximum`, applied from the first input on).
///
/// Example:
/// ```
/// tapeflow::layers::Maximum max;
/// tapeflow::Variable y = max({a, b});
/// ```
class Maximum : public LayerWith<MaximumOptions, ElementwiseMerge> {
 public:
  explicit Maximum(const MaximumOptions& options = {});
  std::string class_name() const override { return "Maximum"; }

 protected:
  Variable merge(const std::vector<Variable>& inputs) override;
};

/// Options of `Minimum`: only the common ones. Example: `MinimumOptions().name("min")`
struct MinimumOptions : LayerOptionsBase<MinimumOptions> {};

/// Keras `Minimum`, default name "minimum": the elementwise minimum of the inputs (shapes and
/// ties as `Maximum`).
///
/// Example:
/// ```
/// tapeflow::layers::Minimum min;
/// tapeflow::Variable y = min({a, b});
/// ```
class Minimum : public LayerWith<MinimumOptions, ElementwiseMerge> {
 public:
  explicit Minimum(const MinimumOptions& options = {});
  std::string class_name() const override { return "Minimum"; }

 protected:
  Variable merge(const std::vector<Variable>& inputs) override;
};

/// The option of `Concatenate` after the common ones: `axis` (-1; negative counts from the end).
#define TAPEFLOW_CONCATENATE_FIELDS(F) F(int, axis, -1)

/// Options of `Concatenate`. Example: `ConcatenateOptions().axis(1)`
struct ConcatenateOptions : LayerOptionsBase<ConcatenateOptions> {
  TAPEFLOW_DERIVED_FIELDS(ConcatenateOptions, LayerOptionsBase, TAPEFLOW_CONCATENATE_FIELDS)
  static constexpr PrintedFields printed{"axis"};
};

/// Keras `Concatenate`, default name "concatenate": joins the inputs along `axis`. They must
/// have the same rank and the same sizes on every other axis.
///
/// Example:
/// ```
/// tapeflow::layers::Concatenate cat;
/// tapeflow::Variable y = cat({a, b});   // a (2, 3), b (2, 5) -> y (2, 8)
/// ```
class Concatenate : public LayerWith<ConcatenateOptions, Merge> {
 public:
  explicit Concatenate(const ConcatenateOptions& options = {});
  std::string class_name() const override { return "Concatenate"; }

 protected:
  void check_shapes(const std::vector<Shape>& shapes) const override;
  Variable merge(const std::vector<Variable>& inputs) override;
};

/// The options of `Dot` after the common ones (Keras names): `axes` (required), the axis of
/// each input along which to take the dot product: one axis for both, or one per input
/// (`{a1, a2}`; negative counts from the end of each input's shape; the batch axis 0 cannot be
/// one); `normalize` (false): L2-normalize both inputs along those axes first, which makes the
/// result the cosine similarity.
#define TAPEFLOW_DOT_FIELDS(F) \
  F(AxisList, axes, {})        \
  F(bool, normalize, false)

/// Options of `Dot`. Example: `DotOptions(1)`, `DotOptions({2, 1}).normalize(true)`
struct DotOptions : LayerOptionsBase<DotOptions> {
  DotOptions() = default;
  explicit DotOptions(AxisList a) { axes(std::move(a)); }
  TAPEFLOW_DERIVED_FIELDS(DotOptions, LayerOptionsBase, TAPEFLOW_DOT_FIELDS)
  static constexpr PrintedFields printed{"axes", "normalize"};
};

/// Keras `Dot`, default name "dot": the dot product of the samples of exactly two inputs
/// `{a, b}` along `axes` (Keras' `batch_dot`): sample by sample, the contraction of `a`'s axis
/// `axes[0]` with `b`'s axis `axes[1]`, whose sizes must match. The result's axes are the batch
/// axis, `a`'s other axes, then `b`'s other axes; a result of the batch axis alone gets a
/// trailing axis of size 1. With `normalize`, each input is first divided by its L2 norm along
/// its axis (at least 1e-7, as Keras). Errors: another number of inputs, different batch sizes,
/// `axes` not one or two axes, an axis out of range or the batch axis, sizes that differ.
///
/// Example:
/// ```
/// tapeflow::layers::Dot dot(tapeflow::layers::DotOptions(1));
/// tapeflow::Variable y = dot({a, b});   // a, b (4, 8) -> y (4, 1), y[i] = a[i] . b[i]
/// tapeflow::layers::Dot attend(tapeflow::layers::DotOptions({2, 2}));
/// tapeflow::Variable s = attend({q, k});   // q (4, 5, 8), k (4, 7, 8) -> s (4, 5, 7)
/// ```
class Dot : public LayerWith<DotOptions, Merge> {
 public:
  explicit Dot(const DotOptions& options);
  std::string class_name() const override { return "Dot"; }

 protected:
  void check_shapes(const std::vector<Shape>& shapes) const override;
  Variable merge(const std::vector<Variable>& inputs) override;

 private:
  // The contraction axis of each input (non-negative), for inputs of ranks `r1` and `r2`.
  std::array<std::size_t, 2> contraction_axes(std::size_t r1, std::size_t r2) const;
};

}  // namespace tapeflow::layers
