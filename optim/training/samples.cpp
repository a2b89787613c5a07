#include "tapeflow/optim/training/samples.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/runtime/random.hpp"
#include "tapeflow/framework/runtime/seed_mix.hpp"

namespace tapeflow::training {

std::vector<std::size_t> shuffled_order(std::size_t n, std::uint64_t seed, std::int64_t pass) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  RandomGenerator gen(mix_seed(seed ^ mix_seed(static_cast<std::uint64_t>(pass))));
  for (std::size_t i = n; i > 1; --i) {
    // An unbiased draw in [0, i): reject the top of the range that does not divide evenly.
    const std::uint64_t bound = i, limit = ~std::uint64_t{0} - (~std::uint64_t{0} % bound);
    std::uint64_t r;
    do r = gen.next_u64();
    while (r >= limit);
    std::swap(order[i - 1], order[static_cast<std::size_t>(r % bound)]);
  }
  return order;
}

namespace detail {

void Samples::check(const std::string& where) const {
  if (x.empty()) fail(where, "no input tensors given");
  auto check_one = [&](const Tensor& t, const std::string& what) {
    if (t.dimension() == 0)
      fail_shape(where, what + " is a scalar; it needs a sample axis (axis 0)");
  };
  for (std::size_t i = 0; i < x.size(); ++i) check_one(x[i], "x[" + std::to_string(i) + "]");
  for (std::size_t i = 0; i < y.size(); ++i) check_one(y[i], "y[" + std::to_string(i) + "]");
  const std::size_t n = x[0].shape()[0];
  auto same = [&](const Tensor& t, const std::string& what) {
    if (t.shape()[0] != n)
      fail_shape(where, what + " has " + std::to_string(t.shape()[0]) + " samples (shape " +
                            shape_str(t.shape()) + ") but x[0] has " + std::to_string(n) +
                            " (shape " + shape_str(x[0].shape()) +
                            "): every input and target needs the same number "
                            "of samples on axis 0");
  };
  for (std::size_t i = 1; i < x.size(); ++i) same(x[i], "x[" + std::to_string(i) + "]");
  for (std::size_t i = 0; i < y.size(); ++i) same(y[i], "y[" + std::to_string(i) + "]");
  if (n == 0) fail(where, "x has no samples");
}

Tensor take_rows(const Tensor& t, const std::size_t* idx, std::size_t count) {
  auto shape = t.shape();
  std::vector<std::size_t> out_shape(shape.begin(), shape.end());
  out_shape[0] = count;
  const std::size_t row = shape[0] ? t.size() / shape[0] : 0;
  Tensor out = Tensor::from_shape(out_shape);
  for (std::size_t i = 0; i < count; ++i)
    std::memcpy(out.data() + i * row, t.data() + idx[i] * row, row * sizeof(float));
  return out;
}

Samples Samples::take(const std::vector<std::size_t>& order, std::size_t begin,
                      std::size_t end) const {
  Samples out;
  for (const auto& t : x) out.x.push_back(take_rows(t, order.data() + begin, end - begin));
  for (const auto& t : y) out.y.push_back(take_rows(t, order.data() + begin, end - begin));
  return out;
}

Samples Samples::slice(std::size_t begin, std::size_t end) const {
  std::vector<std::size_t> order(end - begin);
  std::iota(order.begin(), order.end(), begin);
  return take(order, 0, order.size());
}

}  // namespace detail

}  // namespace tapeflow::training
