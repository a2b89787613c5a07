#include "tapeflow/layers/merge.hpp"

#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

Merge::Merge(const std::string& default_name, const LayerOptions& options)
    : Layer(default_name, options) {}

std::string Merge::shapes_str(const std::vector<Shape>& shapes) {
  std::string s;
  for (std::size_t i = 0; i < shapes.size(); ++i) s += (i ? ", " : "") + shape_str(shapes[i]);
  return s;
}

Variable Merge::operator()(const std::vector<Variable>& inputs, bool training) {
  if (inputs.size() < 2)
    fail(name(), "a merge layer must be called on a list of at least 2 inputs, got " +
                     std::to_string(inputs.size()));
  std::vector<Shape> shapes;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) fail(name(), "input " + std::to_string(i) + " is undefined");
    shapes.push_back(inputs[i].shape());
  }
  check_shapes(shapes);
  // Layer::operator() takes one input; it builds, runs `call`, and applies the activity
  // regularizer. The list is handed to `call` through pending_.
  struct Reset {
    const std::vector<Variable>*& p;
    ~Reset() { p = nullptr; }
  } reset{pending_};
  pending_ = &inputs;
  return Layer::operator()(inputs[0], training);
}

std::vector<Variable> Merge::call_on_list(const std::vector<Variable>& inputs, bool training) {
  // One input is the single-tensor call, with its message (a merge layer needs a list).
  if (inputs.size() == 1) return {Layer::operator()(inputs[0], training)};
  return {(*this)(inputs, training)};
}

namespace {
[[noreturn]] void single_input(const std::string& layer) {
  fail(layer,
       "a merge layer must be called on a list of inputs, e.g. layer({a, b}), not on a "
       "single tensor");
}
}  // namespace

void Merge::build(const Shape&) {
  if (!pending_) single_input(name());
}

Variable Merge::call(const Variable&, bool) {
  if (!pending_) single_input(name());
  return merge(*pending_);
}

void ElementwiseMerge::check_shapes(const std::vector<Shape>& shapes) const {
  const Shape& first = shapes[0];
  for (const Shape& s : shapes) {
    if (s.size() != first.size())
      fail_shape(name(), "inputs must have the same rank, got shapes " + shapes_str(shapes));
    if (!s.empty() && s[0] != first[0])
      fail_shape(name(), "cannot merge tensors with different batch sizes, got shapes " +
                             shapes_str(shapes));
  }
  for (std::size_t a = 1; a < first.size(); ++a) {
    std::size_t d = 1;
    for (const Shape& s : shapes) {
      if (s[a] == 1 || s[a] == d) continue;
      if (d != 1)
        fail_shape(name(), "inputs have incompatible shapes " + shapes_str(shapes) + " (axis " +
                               std::to_string(a) + ": " + std::to_string(d) + " vs " +
                               std::to_string(s[a]) + ")");
      d = s[a];
    }
  }
}

namespace {
// The inputs folded from the first on with a binary op: ((x0 op x1) op x2) ...
Variable fold_inputs(const std::vector<Variable>& inputs,
                     Variable (*op)(const Variable&, const Variable&)) {
  Variable y = inputs[0];
  for (std::size_t i = 1; i < inputs.size(); ++i) y = op(y, inputs[i]);
  return y;
}
}  // namespace

Add::Add(const AddOptions& options) : LayerWith("add", options) {}
Variable Add::merge(const std::vector<Variable>& inputs) { return fold_inputs(inputs, add); }
TAPEFLOW_REGISTER_LAYER(Add)

Subtract::Subtract(const SubtractOptions& options) : LayerWith("subtract", options) {}

void Subtract::check_shapes(const std::vector<Shape>& shapes) const {
  if (shapes.size() != 2)
    fail(name(), "a Subtract layer must be called on exactly 2 inputs, got " +
                     std::to_string(shapes.size()));
  ElementwiseMerge::check_shapes(shapes);
}

Variable Subtract::merge(const std::vector<Variable>& inputs) { return sub(inputs[0], inputs[1]); }
TAPEFLOW_REGISTER_LAYER(Subtract)

Multiply::Multiply(const MultiplyOptions& options) : LayerWith("multiply", options) {}
Variable Multiply::merge(const std::vector<Variable>& inputs) { return fold_inputs(inputs, mul); }
TAPEFLOW_REGISTER_LAYER(Multiply)

Average::Average(const AverageOptions& options) : LayerWith("average", options) {}
Variable Average::merge(const std::vector<Variable>& inputs) {
  return div(fold_inputs(inputs, add), scalar(static_cast<float>(inputs.size())));
}
TAPEFLOW_REGISTER_LAYER(Average)

Maximum::Maximum(const MaximumOptions& options) : LayerWith("maximum", options) {}
Variable Maximum::merge(const std::vector<Variable>& inputs) {
  return fold_inputs(inputs, maximum);
}
TAPEFLOW_REGISTER_LAYER(Maximum)

Minimum::Minimum(const MinimumOptions& options) : LayerWith("minimum", options) {}
Variable Minimum::merge(const std::vector<Variable>& inputs) {
  return fold_inputs(inputs, minimum);
}
TAPEFLOW_REGISTER_LAYER(Minimum)

Concatenate::Concatenate(const ConcatenateOptions& options) : LayerWith("concatenate", options) {}

void Concatenate::check_shapes(const std::vector<Shape>& shapes) const {
  const Shape& first = shapes[0];
  const long rank = static_cast<long>(first.size());
  const int axis = options_.axis();
  for (const Shape& s : shapes)
    if (s.size() != first.size())
      fail_shape(name(), "inputs must have the same rank, got shapes " + shapes_str(shapes));
  if (axis < -rank || axis >= rank)
    fail_shape(name(), "axis " + std::to_string(axis) + " is out of range for inputs of rank " +
                           std::to_string(rank) + " (shapes " + shapes_str(shapes) + ")");
  const std::size_t a = static_cast<std::size_t>(axis < 0 ? axis + rank : axis);
  for (const Shape& s : shapes)
    for (std::size_t i = 0; i < s.size(); ++i)
      if (i != a && s[i] != first[i])
        fail_shape(name(), "inputs must have matching shapes except for the concatenation axis " +
                               std::to_string(axis) + ", got shapes " + shapes_str(shapes));
}

Variable Concatenate::merge(const std::vector<Variable>& inputs) {
  return concat(inputs, options_.axis());
}

TAPEFLOW_REGISTER_LAYER(Concatenate)

Dot::Dot(const DotOptions& options) : LayerWith("dot", options) {
  const std::size_t n = options_.axes().size();
  if (n != 1 && n != 2)
    fail(name(),
         "axes: expected one axis, or one per input (2), got " + config_write(options_.axes()));
}

std::array<std::size_t, 2> Dot::contraction_axes(std::size_t r1, std::size_t r2) const {
  const AxisList& axes = options_.axes();
  std::array<std::size_t, 2> out{};
  const std::size_t ranks[2] = {r1, r2};
  for (std::size_t i = 0; i < 2; ++i) {
    const long rank = static_cast<long>(ranks[i]);
    const long a = axes.size() == 1 ? axes[0] : axes[i];
    const long resolved = a < 0 ? a + rank : a;
    if (resolved <= 0 || resolved >= rank)
      fail_shape(name(), "axes " + config_write(axes) + ": axis " + std::to_string(a) +
                             " of input " + std::to_string(i) + " (rank " + std::to_string(rank) +
                             ") is out of range or the batch axis 0, which cannot be contracted");
    out[i] = static_cast<std::size_t>(resolved);
  }
  return out;
}

void Dot::check_shapes(const std::vector<Shape>& shapes) const {
  if (shapes.size() != 2)
    fail(name(),
         "a Dot layer must be called on exactly 2 inputs, got " + std::to_string(shapes.size()));
  if (shapes[0].size() < 2 || shapes[1].size() < 2)
    fail_shape(name(),
               "inputs need a batch axis and at least one more, got shapes " + shapes_str(shapes));
  if (shapes[0][0] != shapes[1][0])
    fail_shape(name(),
               "cannot take the dot product of tensors with different batch sizes, got "
               "shapes " +
                   shapes_str(shapes));
  const auto [a1, a2] = contraction_axes(shapes[0].size(), shapes[1].size());
  if (shapes[0][a1] != shapes[1][a2])
    fail_shape(name(), "incompatible input shapes: axis values " + std::to_string(shapes[0][a1]) +
                           " (at axis " + std::to_string(a1) +
                           ") != " + std::to_string(shapes[1][a2]) + " (at axis " +
                           std::to_string(a2) + "), shapes " + shapes_str(shapes));
}

namespace {
// x divided by its L2 norm along `axis`, the norm at least 1e-7: Keras' `normalize`, written
// as x * rsqrt(max(sum(x^2), 1e-14)), whose gradient stays finite for a zero sample.
Variable dot_l2_normalize(const Variable& x, std::size_t axis) {
  const Variable squares = sum(square(x), {static_cast<int>(axis)}, /*keepdims=*/true);
  return mul(x, rsqrt(maximum(squares, scalar(1e-14f))));
}

// `x` with axis `axis` moved to position `to` (the others in order).
Variable dot_move_axis(const Variable& x, std::size_t axis, std::size_t to) {
  std::vector<std::size_t> perm;
  for (std::size_t i = 0; i < x.dim(); ++i)
    if (i != axis) perm.push_back(i);
  perm.insert(perm.begin() + static_cast<long>(to), axis);
  return transpose(x, perm);
}
}  // namespace

Variable Dot::merge(const std::vector<Variable>& inputs) {
  const auto [a1, a2] = contraction_axes(inputs[0].dim(), inputs[1].dim());
  Variable x1 = inputs[0], x2 = inputs[1];
  if (options_.normalize()) {
    x1 = dot_l2_normalize(x1, a1);
    x2 = dot_l2_normalize(x2, a2);
  }
  // As one batched matrix product: x1 -> (batch, rest1, n), x2 -> (batch, n, rest2).
  const Shape s1 = x1.shape(), s2 = x2.shape();
  const long batch = static_cast<long>(s1[0]), n = static_cast<long>(s1[a1]);
  std::vector<long> out_shape{batch};
  for (std::size_t i = 1; i < s1.size(); ++i)
    if (i != a1) out_shape.push_back(static_cast<long>(s1[i]));
  for (std::size_t i = 1; i < s2.size(); ++i)
    if (i != a2) out_shape.push_back(static_cast<long>(s2[i]));
  const Variable m1 = reshape(dot_move_axis(x1, a1, s1.size() - 1), {batch, -1, n});
  const Variable m2 = reshape(dot_move_axis(x2, a2, 1), {batch, n, -1});
  if (out_shape.size() == 1) out_shape.push_back(1);  // Keras keeps at least rank 2
  return reshape(matmul(m1, m2), out_shape);
}

TAPEFLOW_REGISTER_LAYER(Dot)

}  // namespace tapeflow::layers
