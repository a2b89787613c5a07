#include "tapeflow/layers/detail/random_layer.hpp"

namespace tapeflow::layers::detail {

RandomLayer::RandomLayer(const std::string& default_name, const LayerOptions& common,
                         const Seed& seed)
    : Layer(default_name, common), seed_(seed) {}

RandomGenerator& RandomLayer::stream() {
  if (!rng_) rng_.emplace(RandomGenerator::for_op(seed_));
  return *rng_;
}

void RandomLayer::check_rate(float rate) const {
  if (!(rate >= 0.f && rate < 1.f))
    fail(name(), "rate must be in [0, 1), got " + config_float(rate));
}

std::string RandomLayer::random_state() const { return rng_ ? rng_->state() : std::string(); }

void RandomLayer::set_random_state(const std::string& state) {
  if (state.empty()) {
    rng_.reset();
    return;
  }
  RandomGenerator g(0);
  try {
    g.set_state(state);
  } catch (const Error& e) {
    e.rethrow_in(name() + ": set_random_state");
  }
  rng_ = std::move(g);
}

}  // namespace tapeflow::layers::detail
