#pragma once
/// Keras' functional models: `Model(inputs, outputs)` over symbolic tensors
/// (layers/symbolic_tensor.hpp). The model orders the nodes that lead from its inputs to its
/// outputs and runs them eagerly; the tape records the layers' ops like any call, so the
/// backward needs nothing of the model. `Sequential` (layers/sequential.hpp) is a model whose
/// graph is a chain.
#include <cstddef>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tapeflow/layers/input_layer.hpp"
#include "tapeflow/layers/layer.hpp"
#include "tapeflow/layers/symbolic_tensor.hpp"

// The training half of a model (compile / fit / evaluate / predict) is defined in
// optim/training/, above the optimizers it drives, as Keras' Trainer sits above its optimizers;
// this header only names its types.
namespace tapeflow::optim {
class Optimizer;
}
namespace tapeflow::data {
class Dataset;
}
namespace tapeflow::training {
class OptimizerArg;
class Losses;
class MetricArg;
class FitOptions;
class EvaluateOptions;
class PredictOptions;
class History;
class Logs;
namespace detail {
class Compiled;
class BatchSource;
}  // namespace detail
}  // namespace tapeflow::training

namespace tapeflow::layers {

/// Options of a model (`Model`, `Sequential`): only the common ones (`name`, `trainable`,
/// `activity_regularizer`). Example: `ModelOptions().name("unet3d")`
struct ModelOptions : LayerOptionsBase<ModelOptions> {};

/// Keras' functional `Model` (class name "Functional", as Keras writes it), default name
/// "functional". Built when constructed: every layer was built by its symbolic call.
///
/// - Called eagerly like a layer: `model(x, training)` for one input and one output,
///   `model({a, b}, training)` for a list (one `Variable` per output). `training` reaches every
///   layer. Each input must have the rank and sizes of its `Input` (and its batch size when
///   the `Input` fixes one): a ShapeError naming the model and the input otherwise.
/// - A model is a layer: called on symbolic tensors it becomes a node of another model (models
///   nest), and its weights are its layers' weights (each once, however often a layer is
///   called: a layer called twice shares its weights).
/// - `layers()` (the inputs' `InputLayer`s first, then each layer in the order it first runs),
///   `get_layer(name)`, `summary()` (Keras' table with the "Connected to" column),
///   `get_config()` / `from_config()` (each layer's class and config, and the nodes that
///   connect them) and `serialization::save` / `load` (the same, plus the weights).
///
/// Errors (ValueError naming the model): an input that is not an `Input(...)` or is given
/// twice; an output that depends on an `Input` the model is not given; an input no output uses;
/// two layers with one name; the wrong number of inputs in a call.
///
/// Example:
/// ```
/// namespace L = tapeflow::layers;
/// auto inputs = tapeflow::Input({32, 32, 32, 1});
/// auto c1 = L::Conv3D(L::Conv3DOptions(16, 3).padding("same").activation("relu"))(inputs);
/// auto p1 = L::MaxPooling3D(L::MaxPooling3DOptions(2))(c1);
/// auto u1 = L::Conv3DTranspose(L::Conv3DTransposeOptions(16, 2).strides(2))(p1);
/// auto m1 = L::Concatenate()({u1, c1});
/// auto outputs = L::Conv3D(L::Conv3DOptions(1, 1).activation("sigmoid"))(m1);
/// tapeflow::Model model(inputs, outputs, "unet3d");
/// tapeflow::Variable y = model(x);
/// std::cout << model.summary();
/// ```
class Model : public LayerWith<ModelOptions> {
 public:
  Model(SymbolicTensors inputs, SymbolicTensors outputs, const std::string& name = "");
  Model(SymbolicTensors inputs, SymbolicTensors outputs, const ModelOptions& options);
  std::string class_name() const override { return "Functional"; }

  // ---- eager calls -----------------------------------------------------------------------
  using Layer::operator();
  /// One `Variable` per input, in the order of `inputs()`; one result per output. Keras' masks
  /// flow along the way (layers/masking.hpp): a layer's `compute_mask` (Masking, an Embedding
  /// with `mask_zero`) makes one, and the next layer of one input gets it (`masked_call`) and
  /// passes it on where it supports masking. Layers of several inputs or outputs, and a nested
  /// model, take none; the model's outputs carry none (a loss is not weighted by a mask).
  std::vector<Variable> operator()(const std::vector<Variable>& inputs, bool training = false);
  std::vector<Variable> call_on_list(const std::vector<Variable>& inputs, bool training) override;

  // ---- structure -------------------------------------------------------------------------
  const SymbolicTensors& inputs() const { return inputs_; }
  const SymbolicTensors& outputs() const { return outputs_; }
  /// Each layer once (see the class comment for the order).
  virtual std::vector<std::shared_ptr<Layer>> layers() const;
  /// By name (an Error listing the names if absent) or by index in `layers()`.
  std::shared_ptr<Layer> get_layer(const std::string& name) const;
  std::shared_ptr<Layer> get_layer(std::size_t index) const;

  // ---- training (Keras' Model.compile / fit / evaluate / predict) -------------------------
  // Defined in optim/training/model_training.cpp; the argument types are in
  // optim/training/compile_args.hpp and run_options.hpp.
  /// Sets the optimizer, the loss (one, or one per output), the metrics and the loss weights
  /// (see compile_args.hpp). Compiling again replaces them (the optimizer's state goes with
  /// the old optimizer unless the same object is given). Errors: an unknown optimizer, loss or
  /// metric name; a loss list or loss weights not one per output.
  void compile(const training::OptimizerArg& optimizer, const training::Losses& loss);
  void compile(const training::OptimizerArg& optimizer, const training::Losses& loss,
               const std::vector<training::MetricArg>& metrics);
  void compile(const training::OptimizerArg& optimizer, const training::Losses& loss,
               const std::vector<training::MetricArg>& metrics,
               const std::vector<float>& loss_weights);
  bool is_compiled() const { return compiled_ != nullptr; }
  /// The compiled optimizer. Errors: the model is not compiled (a ValueError naming `where`).
  optim::Optimizer& compiled_optimizer(const std::string& where = "model") const;

  /// Trains for `epochs` over the samples (one tensor per input and output, samples on axis
  /// 0), running the callbacks; returns the per-epoch logs. One step: under a GradientTape,
  /// the model called with `training=true` on the batch, the total loss (each output's loss
  /// times its weight, summed, then plus each of `losses()` in order: the regularization
  /// penalties), its gradients applied to `trainable_variables()` by the optimizer; the
  /// metrics see the batch's predictions. Logs: "loss" (the mean over the epoch's samples),
  /// one per metric, "val_..." for validation. Errors (ValueError / ShapeError naming fit and
  /// the argument): not compiled, x and y of different sample counts, a validation_split
  /// outside [0, 1) or one leaving no training or no validation sample, batch_size < 1,
  /// epochs < initial_epoch.
  /// Example: `auto h = model.fit(x, y, FitOptions().epochs(10).validation_split(0.2));`
  training::History fit(const Tensor& x, const Tensor& y);
  training::History fit(const Tensor& x, const Tensor& y, const training::FitOptions& options);
  training::History fit(const std::vector<Tensor>& x, const std::vector<Tensor>& y,
                        const training::FitOptions& options);
  /// The same over a dataset whose elements are batches `{inputs..., targets...}` (one pass
  /// per epoch, `Dataset::iterate(epoch)`; with `steps_per_epoch`, needed for an infinite one,
  /// a stream of passes). `validation_split` is for tensors only (an Error); `shuffle` and
  /// `batch_size` are the dataset's own business.
  training::History fit(const data::Dataset& dataset, const training::FitOptions& options);
  /// The loss and metrics over the samples, in inference mode, nothing recorded.
  /// Example: `double acc = model.evaluate(x, y).at("accuracy");`
  training::Logs evaluate(const Tensor& x, const Tensor& y);
  training::Logs evaluate(const Tensor& x, const Tensor& y,
                          const training::EvaluateOptions& options);
  training::Logs evaluate(const std::vector<Tensor>& x, const std::vector<Tensor>& y,
                          const training::EvaluateOptions& options);
  training::Logs evaluate(const data::Dataset& dataset, const training::EvaluateOptions& options);
  /// The model's outputs for every sample, computed in batches in inference mode with nothing
  /// recorded (any number of samples; the last batch may be smaller). Needs no compile.
  /// Example: `Tensor y = model.predict(x, PredictOptions().batch_size(8).verbose(0));`
  Tensor predict(const Tensor& x);
  Tensor predict(const Tensor& x, const training::PredictOptions& options);
  std::vector<Tensor> predict(const std::vector<Tensor>& x,
                              const training::PredictOptions& options);
  /// Over a dataset of batches (the first components are the inputs; the rest is ignored).
  std::vector<Tensor> predict(const data::Dataset& dataset,
                              const training::PredictOptions& options);
  /// One training step on one batch; the metrics are reset first, so the logs are this
  /// batch's (Keras' default `reset_metrics=True`).
  training::Logs train_on_batch(const Tensor& x, const Tensor& y);
  training::Logs train_on_batch(const std::vector<Tensor>& x, const std::vector<Tensor>& y);
  /// The loss and metrics of one batch, in inference mode.
  training::Logs test_on_batch(const Tensor& x, const Tensor& y);
  training::Logs test_on_batch(const std::vector<Tensor>& x, const std::vector<Tensor>& y);
  /// Set to true (by a callback such as EarlyStopping, or by the user) to end `fit` after the
  /// current batch; `fit` sets it to false when it starts.
  bool stop_training = false;

  // ---- description -----------------------------------------------------------------------
  /// Keras 2's summary table, as text: Layer (type) | Output Shape | Param # | Connected to (each
  /// input as `layer[node][tensor]`), then total / trainable / non-trainable counts.
  [[nodiscard]] std::string summary() const;
  virtual void summary(std::ostream& os) const;
  /// The common keys plus `layers` (a JSON list of `{"class_name", "config"}` in `layers()`
  /// order), `input_layers` and `output_layers` (JSON lists of `[layer, node, tensor]`) and
  /// `nodes` (a JSON list, in running order, of `[layer, [[layer, node, tensor], ...]]`: each
  /// call of a layer and the tensors it takes). Node indices count a layer's calls in this
  /// model.
  Config get_config() const override;
  /// A new model from `get_config()`: its layers are created from their configs (unbuilt, new
  /// weights) and called as the nodes say. An Error naming the key for a malformed config, an
  /// unknown class, two layers with one name or a node that names no layer.
  static std::shared_ptr<Model> from_config(const Config& config);
  /// The same, with the layers given (each with the name the config calls it by); what loading
  /// a saved model uses, so that the layers keep the weights the file gives them.
  static std::shared_ptr<Model> from_layers(
      const Config& config,
      const std::vector<std::pair<std::string, std::shared_ptr<Layer>>>& layers);
  /// One layer per line, nested models indented: `Functional(\n  (conv3d): Conv3D(...)\n)`.
  void pretty_print(std::ostream& os) const override;
  using Layer::pretty_print;

 protected:
  /// For `Sequential`: a model with no graph yet (`set_graph` gives it one).
  Model(const std::string& default_name, const ModelOptions& options);
  /// Validates and orders the graph from `inputs` to `outputs` (see the class comment).
  void set_graph(SymbolicTensors inputs, SymbolicTensors outputs);
  void clear_graph();
  bool has_graph() const { return !inputs_.empty(); }
  /// Runs the graph on `inputs`; `check_shapes=false` leaves the checks to the layers (a
  /// Sequential takes other shapes than the one it was built with, as Keras').
  std::vector<Variable> run(const std::vector<Variable>& inputs, bool training,
                            bool check_shapes) const;
  Variable call(const Variable& x, bool training) override;
  /// The label of layer `index` in `pretty_print` (its name; Sequential: its index).
  virtual std::string print_label(std::size_t index, const Layer& layer) const;
  /// The output shape of a layer as the summary prints it: `(None, 4)`, `[(None, 4), (None, 2)]`
  /// for several outputs, `multiple` for a layer whose calls differ.
  std::string summary_output_shape(const Layer& layer) const;
  /// `summary` without the "Connected to" column and the input rows, for `Sequential`.
  void summary_table(std::ostream& os, bool connections) const;

 private:
  // One node the model runs: the slots (positions in the run's value list) of its inputs and
  // its outputs.
  struct Step {
    std::shared_ptr<const detail::Node> node;
    std::vector<std::size_t> in_slots;
    std::size_t first_out_slot = 0;
    std::size_t node_index = 0;  // the how-many-th call of this layer in the model
  };
  std::size_t slot_of(const SymbolicTensor& t) const;
  std::size_t node_index_of(const detail::Node* node) const;
  std::string tensor_key(const SymbolicTensor& t) const;  // "conv3d[0][0]"

  SymbolicTensors inputs_, outputs_;
  std::vector<Step> steps_;
  std::vector<detail::LayerRef> layers_;
  std::map<std::pair<const detail::Node*, std::size_t>, std::size_t> slots_;
  std::vector<std::size_t> input_slots_, output_slots_;
  std::vector<std::size_t> last_use_;  // per slot: the last step that reads it
  std::size_t slot_count_ = 0;

  // The loops of fit, evaluate and predict over any batch source (optim/training).
  training::History run_fit(training::detail::BatchSource& train,
                            training::detail::BatchSource* validation,
                            const training::FitOptions& options);
  training::Logs run_evaluate(training::detail::BatchSource& source,
                              const training::EvaluateOptions& options);
  std::vector<Tensor> run_predict(training::detail::BatchSource& source,
                                  const training::PredictOptions& options);
  std::shared_ptr<training::detail::Compiled> compiled_;
};

}  // namespace tapeflow::layers

namespace tapeflow {
using layers::Model;
}  // namespace tapeflow
