#pragma once
/// The inputs of a functional model: `Input(shape)` (Keras `keras.Input`) makes an `InputLayer`
/// and gives its symbolic output, the tensor other layers are called on.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "tapeflow/layers/layer.hpp"
#include "tapeflow/layers/symbolic_tensor.hpp"

namespace tapeflow::layers {

/// The options of `InputLayer` after the common ones: `shape` (the shape of one sample, without
/// the batch axis), `batch_size` (None: any batch size).
#define TAPEFLOW_INPUT_LAYER_FIELDS(F) \
  F(std::vector<long>, shape, {})      \
  F(std::optional<long>, batch_size, std::nullopt)

/// Options of `InputLayer`. Example: `InputLayerOptions().shape({32, 32, 32, 1}).name("volume")`
struct InputLayerOptions : LayerOptionsBase<InputLayerOptions> {
  TAPEFLOW_DERIVED_FIELDS(InputLayerOptions, LayerOptionsBase, TAPEFLOW_INPUT_LAYER_FIELDS)
  static constexpr PrintedFields printed{"shape", "batch_size"};
};

/// Keras `InputLayer`, default name "input_layer": the entry of a functional model. It has no
/// weights; called eagerly it returns its input. `Input` is the usual way to make one.
///
/// Errors (ValueError naming the layer): a dimension that is not positive; a batch size that is
/// not positive.
class InputLayer : public LayerWith<InputLayerOptions> {
 public:
  explicit InputLayer(const InputLayerOptions& options);
  std::string class_name() const override { return "InputLayer"; }
  /// The shape of one sample.
  const Shape& sample_shape() const { return sample_shape_; }

 protected:
  Variable call(const Variable& x, bool training) override;

 private:
  Shape sample_shape_;
};

/// The symbolic tensor of `layer` (its one node, which keeps the layer alive).
SymbolicTensor input_tensor(std::shared_ptr<InputLayer> layer);

/// Keras `keras.Input`: a symbolic tensor of shape `(batch, *shape)`, the batch size free unless
/// given. The `InputLayer` behind it is kept by the tensor (and by the models built on it).
///
/// Example:
/// ```
/// auto volume = tapeflow::Input({32, 32, 32, 1});          // (None, 32, 32, 32, 1)
/// auto pair = tapeflow::Input({8}, "pair", /*batch_size=*/4);
/// ```
SymbolicTensor Input(const std::vector<long>& shape, const std::string& name = "",
                     std::optional<long> batch_size = std::nullopt);

/// Whether `t` is the output of an `InputLayer` (a model input).
bool is_model_input(const SymbolicTensor& t);

}  // namespace tapeflow::layers

namespace tapeflow {
using layers::Input;
using layers::SymbolicTensor;
}  // namespace tapeflow
