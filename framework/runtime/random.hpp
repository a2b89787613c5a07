#pragma once
/// Reproducible randomness, TF1 style: a global seed (`set_random_seed`) and an optional
/// per-op seed.
///
/// - global seed and op seed set: the stream depends on both, the same every time.
/// - only the global seed set: each random op/initializer call draws the next op seed from a
///   counter that `set_random_seed` resets, so a program rerun after `set_random_seed(s)`
///   gives the same values, while two layers built in a row still differ.
/// - only the op seed set: the global seed defaults to 87654321 (TF's DEFAULT_GRAPH_SEED).
/// - neither: nondeterministic.
///
/// The generators are our own (mt19937_64, Box-Muller), so the values do not depend on the
/// standard library.
///
/// Example:
/// ```
/// tapeflow::set_random_seed(42);
/// tapeflow::Tensor a = tapeflow::random::normal({3, 3});
/// tapeflow::set_random_seed(42);
/// tapeflow::Tensor b = tapeflow::random::normal({3, 3});   // a == b
/// ```
#include <cstdint>
#include <optional>
#include <random>
#include <string>

#include "tapeflow/framework/core/tensor.hpp"

namespace tapeflow {

/// An optional op-level seed.
using Seed = std::optional<std::uint64_t>;

/// Sets the global (graph-level) seed and restarts the op-seed counter.
void set_random_seed(std::uint64_t seed);
/// Back to nondeterministic (no global seed).
void clear_random_seed();
/// The global seed, if set.
std::optional<std::uint64_t> get_random_seed();

/// Everything that decides the next op seeds: the global seed and the op-seed counter. A
/// checkpoint stores it so that the random ops after a resume draw what they would have drawn.
/// Example: `auto s = tapeflow::get_random_state(); ...; tapeflow::set_random_state(s);`
struct RandomState {
  std::optional<std::uint64_t> global_seed;
  std::uint64_t op_counter = 0;
};
RandomState get_random_state();
void set_random_state(const RandomState& state);

/// A stream of random numbers seeded from (global seed, op seed) by the rules above.
///
/// Example: `tapeflow::RandomGenerator g(7); float u = g.uniform(-1.f, 1.f);`
class RandomGenerator {
 public:
  /// A generator with this exact stream seed (no global seed involved).
  explicit RandomGenerator(std::uint64_t stream_seed);
  /// The generator for one random op with op seed `op_seed` under the current global seed.
  static RandomGenerator for_op(const Seed& op_seed);

  std::uint64_t next_u64();
  /// Uniform in [0, 1) with 53 random bits.
  double uniform01();
  /// Uniform in [lo, hi).
  float uniform(float lo, float hi);
  /// Normal(mean, stddev).
  float normal(float mean, float stddev);
  /// Normal(mean, stddev) redrawn until within 2 standard deviations of the mean (TF).
  float truncated_normal(float mean, float stddev);

  /// The full stream position as text (engine state and the cached second Box-Muller value),
  /// so that `set_state` continues the stream exactly where `state` was taken.
  std::string state() const;
  /// Restores a `state()`; an Error when the text is not one.
  void set_state(const std::string& state);

 private:
  std::mt19937_64 engine_;
  std::optional<double> spare_normal_;
};

namespace random {
/// Tensors of random values (TF `tf.random.*`), drawn with `RandomGenerator::for_op(seed)`.
/// Example: `Tensor t = tapeflow::random::uniform({2, 3}, -1.f, 1.f, /*seed=*/5);`
Tensor uniform(const Shape& shape, float minval = 0.f, float maxval = 1.f, const Seed& seed = {});
Tensor normal(const Shape& shape, float mean = 0.f, float stddev = 1.f, const Seed& seed = {});
Tensor truncated_normal(const Shape& shape, float mean = 0.f, float stddev = 1.f,
                        const Seed& seed = {});
}  // namespace random

}  // namespace tapeflow
