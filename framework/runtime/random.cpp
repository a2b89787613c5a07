#include "tapeflow/framework/runtime/random.hpp"

#include <atomic>
#include <cmath>
#include <cstring>
#include <mutex>
#include <sstream>

#include "tapeflow/framework/runtime/seed_mix.hpp"

namespace tapeflow {

namespace {
// TF's DEFAULT_GRAPH_SEED, used when only an op seed is given.
constexpr std::uint64_t kDefaultGlobalSeed = 87654321;

struct SeedState {
  std::mutex mu;
  std::optional<std::uint64_t> global;
  std::uint64_t counter = 0;
};
SeedState& seed_state() {
  static SeedState s;
  return s;
}

}  // namespace

void set_random_seed(std::uint64_t seed) {
  auto& s = seed_state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.global = seed;
  s.counter = 0;
}

void clear_random_seed() {
  auto& s = seed_state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.global.reset();
  s.counter = 0;
}

std::optional<std::uint64_t> get_random_seed() {
  auto& s = seed_state();
  std::lock_guard<std::mutex> lock(s.mu);
  return s.global;
}

RandomState get_random_state() {
  auto& s = seed_state();
  std::lock_guard<std::mutex> lock(s.mu);
  return {s.global, s.counter};
}

void set_random_state(const RandomState& state) {
  auto& s = seed_state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.global = state.global_seed;
  s.counter = state.op_counter;
}

RandomGenerator::RandomGenerator(std::uint64_t stream_seed) : engine_(mix_seed(stream_seed)) {}

RandomGenerator RandomGenerator::for_op(const Seed& op_seed) {
  auto& s = seed_state();
  std::uint64_t global, op;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (!s.global && !op_seed) {
      std::random_device rd;
      return RandomGenerator((std::uint64_t(rd()) << 32) ^ rd());
    }
    global = s.global.value_or(kDefaultGlobalSeed);
    // Counter-drawn op seeds live in a range apart from small user op seeds.
    op = op_seed ? *op_seed : (0x8000000000000000ull | s.counter++);
  }
  return RandomGenerator(mix_seed(global) ^ op);
}

std::uint64_t RandomGenerator::next_u64() { return engine_(); }

double RandomGenerator::uniform01() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

float RandomGenerator::uniform(float lo, float hi) {
  // float rounding of lo + u*(hi-lo) can reach hi; redraw so the interval stays half-open.
  for (;;) {
    float v = static_cast<float>(lo + uniform01() * (static_cast<double>(hi) - lo));
    if (v < hi || lo >= hi) return v;
  }
}

float RandomGenerator::normal(float mean, float stddev) {
  double z;
  if (spare_normal_) {
    z = *spare_normal_;
    spare_normal_.reset();
  } else {
    // Box-Muller; 1 - u keeps the log argument in (0, 1].
    double u1 = 1.0 - uniform01(), u2 = uniform01();
    double r = std::sqrt(-2.0 * std::log(u1));
    z = r * std::cos(2.0 * M_PI * u2);
    spare_normal_ = r * std::sin(2.0 * M_PI * u2);
  }
  return static_cast<float>(mean + stddev * z);
}

float RandomGenerator::truncated_normal(float mean, float stddev) {
  for (;;) {
    float z = normal(0.f, 1.f);
    if (std::fabs(z) <= 2.f) return mean + stddev * z;
  }
}

std::string RandomGenerator::state() const {
  // The standard fixes mt19937_64's text form (its 312 words and position), so this is portable.
  std::ostringstream os;
  os << engine_ << ' ' << (spare_normal_ ? 1 : 0) << ' ';
  std::uint64_t bits = 0;
  if (spare_normal_) std::memcpy(&bits, &*spare_normal_, sizeof bits);
  os << bits;
  return os.str();
}

void RandomGenerator::set_state(const std::string& state) {
  std::istringstream is(state);
  std::mt19937_64 engine;
  int has_spare = -1;
  std::uint64_t bits = 0;
  is >> engine >> has_spare >> bits;
  if (!is || (has_spare != 0 && has_spare != 1) || !(is >> std::ws).eof())
    fail("RandomGenerator::set_state",
         "the text is not a random generator state (expected the "
         "engine's words, a spare flag and a value)");
  engine_ = engine;
  if (has_spare) {
    double v;
    std::memcpy(&v, &bits, sizeof v);
    spare_normal_ = v;
  } else {
    spare_normal_.reset();
  }
}

namespace random {
namespace {
template <class F>
Tensor fill(const Shape& shape, F&& draw) {
  Tensor t = Tensor::from_shape(shape);
  for (auto& v : t) v = draw();
  return t;
}
}  // namespace

Tensor uniform(const Shape& shape, float minval, float maxval, const Seed& seed) {
  if (!(minval < maxval))
    fail("random::uniform", "minval " + std::to_string(minval) + " must be less than maxval " +
                                std::to_string(maxval));
  auto g = RandomGenerator::for_op(seed);
  return fill(shape, [&] { return g.uniform(minval, maxval); });
}

Tensor normal(const Shape& shape, float mean, float stddev, const Seed& seed) {
  if (!(stddev >= 0)) fail("random::normal", "stddev must be >= 0, got " + std::to_string(stddev));
  auto g = RandomGenerator::for_op(seed);
  return fill(shape, [&] { return g.normal(mean, stddev); });
}

Tensor truncated_normal(const Shape& shape, float mean, float stddev, const Seed& seed) {
  if (!(stddev >= 0))
    fail("random::truncated_normal", "stddev must be >= 0, got " + std::to_string(stddev));
  auto g = RandomGenerator::for_op(seed);
  return fill(shape, [&] { return g.truncated_normal(mean, stddev); });
}
}  // namespace random

}  // namespace tapeflow
