#pragma once
/// Keras `TimeDistributed`: applies one layer to every time step of a sequence.
#include <memory>
#include <optional>
#include <string>

#include "tapeflow/layers/layer.hpp"
#include "tapeflow/layers/layer_spec.hpp"

namespace tapeflow::layers {

/// Options of `TimeDistributed`: only the common ones (the wrapped layer is the constructor's
/// first argument). Example: `TimeDistributedOptions().name("per_frame")`
struct TimeDistributedOptions : LayerOptionsBase<TimeDistributedOptions> {};

/// Keras `TimeDistributed`, default name "time_distributed": for an input
/// `(batch, time, ...)`, the wrapped layer applied to each of the `time` slices `(batch, ...)`
/// with the same weights, the outputs stacked back along axis 1: `(batch, time, ...out)`. Runs
/// as one call of the wrapped layer on `(batch * time, ...)`. The wrapped layer is a sublayer
/// (its weights are this layer's, named `time_distributed/<layer>/...`); a mask of
/// `(batch, time)` passes through. Config: the common keys and `layer`, the wrapped layer's
/// class name and config (a `LayerSpec`, `Dense(units=2, ...)`; Keras JSON nests it as Keras
/// does); saving and Keras JSON rebuild it. Errors: a null
/// layer, an input of rank below 3, an input whose time axis or sizes change after the first
/// call, a wrapped layer that changes the batch size.
///
/// Example:
/// ```
/// auto frame_conv = std::make_shared<tapeflow::layers::Conv2D>(
///     tapeflow::layers::Conv2DOptions(8, 3));
/// tapeflow::layers::TimeDistributed per_frame(frame_conv);
/// tapeflow::Variable y = per_frame(video);   // (2, 10, 32, 32, 3) -> (2, 10, 30, 30, 8)
/// ```
class TimeDistributed : public LayerWith<TimeDistributedOptions> {
 public:
  explicit TimeDistributed(std::shared_ptr<Layer> layer,
                           const TimeDistributedOptions& options = {});
  std::string class_name() const override { return "TimeDistributed"; }
  /// The wrapped layer.
  const std::shared_ptr<Layer>& layer() const { return layer_; }
  Config get_config() const override;
  bool supports_masking() const override { return true; }

 protected:
  void build(const Shape& input_shape) override;
  Variable call(const Variable& x, bool training) override;
  /// The wrapped layer's printed form: "TimeDistributed(Dense(units=2))".
  std::string extra_repr() const override { return layer_->pretty_print(); }

 private:
  std::shared_ptr<Layer> layer_;
};

}  // namespace tapeflow::layers
