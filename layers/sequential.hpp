#pragma once
/// Keras `Sequential`: a stack of layers called in order, itself a `Layer`.
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tapeflow/layers/model.hpp"

namespace tapeflow::layers {

/// Options of `Sequential`: those of a model (`name`, `trainable`, `activity_regularizer`).
/// Example: `SequentialOptions().name("encoder")`
using SequentialOptions = ModelOptions;

/// One entry of `Sequential::layer_configs()` (Keras' `{"class_name": ..., "config": ...}`).
struct LayerConfig {
  std::string class_name;
  Config config;
};

/// Keras `Sequential`, default name "sequential": `model(x, training)` calls each layer on the
/// previous one's output, passing `training` on (to BatchNormalization, Dropout, ...). It is a
/// functional `Model` whose graph is a chain, made from the first input's shape (at the first
/// call or `build`) and again after `add` or `pop`; later inputs may have other shapes, which
/// the layers check. As a `Layer` it nests in other models; its weights are its layers' weights.
///
/// - `add(layer)` / `add<L>(options...)` append a layer (shared: the same layer object may also
///   be called outside the model). `pop()` removes the last.
/// - `build(input_shape)` (Keras `model.build`) makes the chain from an input of that shape,
///   batch size included (any, e.g. 1): each layer is built on zeros, in inference mode and
///   unrecorded, so that every layer creates its weights; calling the model on data does the
///   same.
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
class Sequential : public Model {
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
  /// The layers added, in order (no `InputLayer`, as Keras' `Sequential.layers`).
  std::vector<std::shared_ptr<Layer>> layers() const override { return layers_; }
  using Model::get_layer;

  /// Keras `model.build(input_shape)`: see the class comment.
  void build(const Shape& input_shape) override;

  /// An Error naming the model unless it is built and each layer has been called.
  std::size_t count_params() const override;

  // ---- description -----------------------------------------------------------------------
  /// Keras' summary table of a Sequential (no "Connected to" column, no input row); see the
  /// class comment.
  void summary(std::ostream& os) const override;
  using Model::summary;
  /// Each layer's class name and config, in order.
  std::vector<LayerConfig> layer_configs() const;
  /// Base keys plus `layers`: a JSON list of `{"class_name", "config"}`, as Keras' config.
  Config get_config() const override;
  /// A new (unbuilt) Sequential from `get_config()`; a config without `layers` gives an empty
  /// one (the layers of a saved file are records of their own, layers/saving.cpp).
  static std::shared_ptr<Sequential> from_config(const Config& config);
  /// PyTorch style, one layer per line, nested models indented:
  /// ```
  /// Sequential(
  ///   (0): Dense(units=4, activation=relu)
  ///   (1): Dropout(rate=0.5)
  /// )
  /// ```
  using Model::pretty_print;

 protected:
  Variable call(const Variable& x, bool training) override;
  std::string print_label(std::size_t index, const Layer& layer) const override;

 private:
  void check_summarizable(const char* what) const;
  // The chain graph from an input of `input_shape` (batch included) through every layer.
  void build_graph(const Shape& input_shape);
  void layers_changed();
  std::vector<std::shared_ptr<Layer>> layers_;
};

}  // namespace tapeflow::layers
