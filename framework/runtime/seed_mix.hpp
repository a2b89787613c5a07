#pragma once
/// SplitMix64's finalizer: spreads nearby 64-bit values (a seed and a counter, a seed and a
/// pass) over the whole range before they seed a generator, so that seeds 1 and 2 give
/// unrelated streams. Written once here for the random streams, fit's shuffled orders and the
/// Dataset's shuffles.
///
/// Example: `tapeflow::RandomGenerator g(tapeflow::mix_seed(seed ^ tapeflow::mix_seed(pass)));`
#include <cstdint>

namespace tapeflow {

constexpr std::uint64_t mix_seed(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace tapeflow
