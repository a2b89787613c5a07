#pragma once
/// Keras `Sequential`: a stack of layers called in order, itself a `Layer`.
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

/// Options of `Sequential`: only the common ones (`name`, `trainable`, `activity_regularizer`).
/// Example: `SequentialOptions().name("encoder")`
struct SequentialOptions : LayerOptionsBase<SequentialOptions> {};

/// One entry of `Sequential::layer_configs()` (Keras' `{"class_name": ..., "config": ...}`).
struct LayerConfig {
  std::string class_name;
  Config config;
};

/// Keras `Sequential`, default name "sequential": `model(x, training)` calls each layer on the
/// previous one's output, passing `training` on (to BatchNormalization, Dropout, ...). As a
/// `Layer` it nests in other Sequentials; its weights are its layers' weights.
///
/// - `add(layer)` / `add<L>(options...)` append a layer (shared: the same layer object may also
///   be called outside the model). `pop()` removes the last.
/// - `build(input_shape)` (Keras `model.build`) runs one forward pass on zeros of that shape,
///   batch size included (any, e.g. 1), in inference mode and unrecorded, so that every layer
///   creates its weights; calling the model on data does the same.
/// - `summary()` gives Keras' table (Layer (type) | Output Shape | Param #, with `None` for the
///   batch, then total / trainable / non-trainable counts); it needs a built model, with every
///   layer called since it was added (an Error naming the model otherwise).
/// - `variables()`, `trainable_variables()`, `non_trainable_variables()`, `get_weights()`,
///   `set_weights()`, `losses()`, `count_params()` cover all layers, in layer order (each
///   variable once). A non-trainable model (`set_trainable(false)`) freezes all its layers.
///
/// Errors: a null layer, the model itself, or a layer already in the model in `add`; calling a
/// model with no layers; and those of the layers (e.g. a merge layer needs several inputs).
///
/// Example:
/// ```
/// namespace L = tapeflow::layers;
/// L::Sequential model;
/// model.add<L::Dense>(L::DenseOptions(16).activation("relu"));
/// model.add<L::Dropout>(L::DropoutOptions(0.5f));
/// model.add<L::Dense>(L::DenseOptions(1));
/// tapeflow::Variable y = model(x, /*training=*/true);   // x (batch, 8) -> y (batch, 1)
/// std::cout << model.summary();
/// ```
class Sequential : public LayerWith<SequentialOptions> {
 public:
  explicit Sequential(const SequentialOptions& options = {});
  explicit Sequential(std::vector<std::shared_ptr<Layer>> layers,
                      const SequentialOptions& options = {});
  std::string class_name() const override { return "Sequential"; }

  // ---- layers ----------------------------------------------------------------------------
  void add(std::shared_ptr<Layer> layer);
  /// Constructs `L(args...)`, adds it and returns it. Example: `model.add<Dense>(DenseOptions(4))`.
  template <class L, class... Args>
  std::shared_ptr<L> add(Args&&... args) {
    auto layer = std::make_shared<L>(std::forward<Args>(args)...);
    add(std::static_pointer_cast<Layer>(layer));
    return layer;
  }
  /// Removes and returns the last layer (an Error when there is none).
  std::shared_ptr<Layer> pop();
  const std::vector<std::shared_ptr<Layer>>& layers() const { return layers_; }
  /// By name (an Error listing the names if absent) or by index (an Error if out of range).
  std::shared_ptr<Layer> get_layer(const std::string& name) const;
  std::shared_ptr<Layer> get_layer(std::size_t index) const;

  /// Keras `model.build(input_shape)`: see the class comment.
  void build(const Shape& input_shape) override;

  // ---- weights and losses (all layers) ---------------------------------------------------
  std::vector<Variable> variables() const override;
  std::vector<Variable> trainable_variables() const override;
  std::vector<Variable> non_trainable_variables() const override;
  std::vector<Tensor> get_weights() const override;
  void set_weights(const std::vector<Tensor>& values) override;
  /// An Error naming the model unless it is built and each layer has been called.
  std::size_t count_params() const override;
  std::vector<Variable> losses() const override;
  /// Also sets every layer's trainable flag (Keras `model.trainable = False`).
  void set_trainable(bool trainable) override;

  // ---- description -----------------------------------------------------------------------
  /// Keras' summary table, as text (see the class comment).
  [[nodiscard]] std::string summary() const;
  void summary(std::ostream& os) const;
  /// Each layer's class name and config, in order.
  std::vector<LayerConfig> layer_configs() const;
  /// Base keys plus `layers`: `[Dense(name=dense, units=4, ...), ...]` (each `config_repr`).
  Config get_config() const override;
  /// PyTorch style, one layer per line, nested models indented:
  /// ```
  /// Sequential(
  ///   (0): Dense(units=4, activation=relu)
  ///   (1): Dropout(rate=0.5)
  /// )
  /// ```
  void pretty_print(std::ostream& os) const override;
  using Layer::pretty_print;

 protected:
  Variable call(const Variable& x, bool training) override;

 private:
  void check_summarizable(const char* what) const;
  std::vector<std::shared_ptr<Layer>> layers_;
  // Each layer's output shape at the latest call of the model (for summary).
  std::vector<Shape> output_shapes_;
};

}  // namespace tapeflow::layers
