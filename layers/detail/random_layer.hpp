#pragma once
/// The random stream of a layer that draws values in training (dropout and noise layers).
#include <optional>
#include <string>

#include "tapeflow/framework/runtime/random.hpp"
#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers::detail {

/// A layer with one random stream of its own, started at the first `stream()` call from
/// `(global seed, seed)` (TF1 rules, framework/runtime/random.hpp): successive training calls
/// draw new values, a rerun after `set_random_seed` repeats them, and the stream's position is
/// the layer's random state (saved in checkpoints). The stream starts at the first draw, not at
/// construction, so that a `set_random_seed` between building a model and training it still
/// decides the values.
class RandomLayer : public Layer {
 public:
  /// Passes a mask on (Keras' dropout and noise layers): the shape is kept.
  bool supports_masking() const override { return true; }
  /// The stream's position (empty before the first draw).
  std::string random_state() const override;
  void set_random_state(const std::string& state) override;

 protected:
  RandomLayer(const std::string& default_name, const LayerOptions& common, const Seed& seed);
  /// The layer's stream, started on first use.
  RandomGenerator& stream();
  /// An Error naming the layer unless `rate` (a dropout probability) is in [0, 1).
  void check_rate(float rate) const;

 private:
  Seed seed_;
  std::optional<RandomGenerator> rng_;
};

}  // namespace tapeflow::layers::detail
