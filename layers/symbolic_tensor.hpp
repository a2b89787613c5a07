#pragma once
/// The symbolic tensors of the functional API (Keras `KerasTensor`): what `Input(...)` gives and
/// what calling a layer on symbolic tensors returns. A symbolic tensor has a shape (the batch
/// axis left free unless the input fixes it) and the node that produces it: a layer called on
/// other symbolic tensors. A `Model` (layers/model.hpp) orders those nodes and runs them.
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tapeflow/framework/core/tensor.hpp"

namespace tapeflow::layers {

class Layer;

namespace detail {

/// How a node or a parent layer holds a layer: shared (the layer is owned by a
/// `std::shared_ptr`) or borrowed (the caller keeps it alive: a layer on the stack, a member).
/// A borrowed layer is checked on every use: after its end, `get` is an Error naming it and
/// `who`, never a dangling access.
struct LayerRef {
  static LayerRef shared(std::shared_ptr<Layer> layer);
  static LayerRef borrowed(Layer& layer);
  /// Shared when `layer` is owned by a `std::shared_ptr`, else borrowed.
  static LayerRef to(Layer& layer);

  /// The layer; an Error naming `who` (the model or parent) if a borrowed layer has ended.
  Layer& get(const std::string& who) const;
  /// The layer as a `std::shared_ptr` (non-owning when borrowed), checked like `get`.
  std::shared_ptr<Layer> pointer(const std::string& who) const;
  /// The same layer object (compared by address; no check).
  bool same(const LayerRef& other) const { return raw == other.raw; }

  std::shared_ptr<Layer> owned;
  Layer* raw = nullptr;
  std::weak_ptr<const char> alive;  // borrowed only
  std::string name;                 // for the message when a borrowed layer has ended
};

struct Node;

}  // namespace detail

/// A symbolic tensor (Keras `KerasTensor`). Cheap to copy: it shares its node.
///
/// Example:
/// ```
/// auto x = tapeflow::Input({8});                    // (None, 8)
/// auto h = tapeflow::layers::Dense(tapeflow::layers::DenseOptions(4))(x);
/// h.shape_str();                                    // "(None, 4)"
/// ```
class SymbolicTensor {
 public:
  SymbolicTensor() = default;
  bool defined() const { return node_ != nullptr; }
  /// The shape without the batch axis.
  const Shape& sample_shape() const;
  /// The batch size, when the input fixes it (`Input(shape, name, batch_size)`).
  std::optional<std::size_t> batch_size() const;
  /// The rank with the batch axis.
  std::size_t rank() const { return sample_shape().size() + 1; }
  /// "(None, 32, 32, 32, 1)" (Keras' form; the batch size when fixed).
  std::string shape_str() const;
  /// The name of the layer that produces it.
  const std::string& layer_name() const;
  /// Which output of that layer's node it is.
  std::size_t index() const { return index_; }
  const std::shared_ptr<const detail::Node>& node() const { return node_; }

  SymbolicTensor(std::shared_ptr<const detail::Node> node, std::size_t index)
      : node_(std::move(node)), index_(index) {}

 private:
  std::shared_ptr<const detail::Node> node_;
  std::size_t index_ = 0;
};

/// One symbolic tensor or several: what `Model` takes as inputs and outputs.
/// Example: `Model(x, y)`, `Model({a, b}, {y1, y2})`
class SymbolicTensors : public std::vector<SymbolicTensor> {
 public:
  SymbolicTensors() = default;
  SymbolicTensors(SymbolicTensor t) : std::vector<SymbolicTensor>{std::move(t)} {}  // NOLINT
  SymbolicTensors(std::initializer_list<SymbolicTensor> ts) : std::vector<SymbolicTensor>(ts) {}
  SymbolicTensors(std::vector<SymbolicTensor> ts)  // NOLINT(google-explicit-constructor)
      : std::vector<SymbolicTensor>(std::move(ts)) {}
};

namespace detail {

/// One call of a layer on symbolic tensors: the layer, its inputs (none for an `InputLayer`'s
/// node) and the shape of each output without the batch axis.
struct Node {
  LayerRef layer;
  std::vector<SymbolicTensor> inputs;
  std::vector<Shape> output_shapes;
  std::optional<std::size_t> batch_size;
};

}  // namespace detail

}  // namespace tapeflow::layers
