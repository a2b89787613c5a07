// The GEMM dispatch: every transpose combination against a naive product, products split over
// threads by rows and by columns, each backend compiled in, and backend selection errors.
#include <cmath>
#include <random>
#include <vector>

#include "tapeflow/framework/runtime/gemm.hpp"
#include "tapeflow/framework/runtime/parallel.hpp"
#include "test_util.hpp"

using namespace tapeflow;

namespace {
std::vector<float> rand_vec(std::size_t n, unsigned seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

// C = alpha op(A) op(B) + beta C with A stored (m x k or k x m), B (k x n or n x k), row-major.
void naive(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, float alpha,
           const std::vector<float>& a, const std::vector<float>& b, float beta,
           std::vector<double>& c) {
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double s = 0;
      for (std::size_t p = 0; p < k; ++p)
        s += double(ta ? a[p * m + i] : a[i * k + p]) * double(tb ? b[j * k + p] : b[p * n + j]);
      c[i * n + j] = alpha * s + beta * c[i * n + j];
    }
}

struct Restore {
  gemm::Backend backend = gemm::backend();
  int threads = get_num_threads();
  ~Restore() {
    gemm::set_backend(backend);
    set_num_threads(threads);
  }
};
}  // namespace

TEST_CASE("sgemm matches a naive product: transposes, thread splits, backends") {
  Restore restore;
  struct Size {
    std::size_t m, n, k;
  };
  // Small (one call), tall (split by rows), short and wide (split by columns), ragged blocks.
  const std::vector<Size> sizes = {{3, 5, 7}, {200, 70, 300}, {20, 400, 300}, {97, 33, 1000}};
  for (auto be : {gemm::Backend::openblas, gemm::Backend::onednn}) {
    if (!gemm::available(be)) continue;
    gemm::set_backend(be);
    CHECK(gemm::backend() == be);
    for (int threads : {1, 2, 3}) {
      set_num_threads(threads);
      for (const auto& s : sizes)
        for (bool ta : {false, true})
          for (bool tb : {false, true}) {
            CAPTURE(gemm::backend_name(be));
            CAPTURE(threads);
            CAPTURE(s.m);
            CAPTURE(s.n);
            CAPTURE(ta);
            CAPTURE(tb);
            auto a = rand_vec(s.m * s.k, 1), b = rand_vec(s.k * s.n, 2);
            auto c0 = rand_vec(s.m * s.n, 3);
            std::vector<float> c = c0;
            std::vector<double> expect(c0.begin(), c0.end());
            naive(ta, tb, s.m, s.n, s.k, 0.5f, a, b, 2.f, expect);
            gemm::sgemm(ta, tb, s.m, s.n, s.k, 0.5f, a.data(), ta ? s.m : s.k, b.data(),
                        tb ? s.k : s.n, 2.f, c.data(), s.n);
            double worst = 0;
            for (std::size_t i = 0; i < c.size(); ++i)
              worst = std::max(worst, std::abs(c[i] - expect[i]));
            CHECK(worst < 1e-3 * std::sqrt(double(s.k)));
          }
    }
  }
}

TEST_CASE("sgemm: beta = 0 ignores what C held (NaN included), m or n = 0 is a no-op") {
  std::vector<float> a(4, 1.f), b(4, 1.f), c(4, std::nanf(""));
  gemm::sgemm(false, false, 2, 2, 2, 1.f, a.data(), 2, b.data(), 2, 0.f, c.data(), 2);
  CHECK(c == std::vector<float>(4, 2.f));
  gemm::sgemm(false, false, 0, 2, 2, 1.f, a.data(), 2, b.data(), 2, 0.f, nullptr, 2);
}

TEST_CASE("the default backend follows the processor: oneDNN with AVX2, OpenBLAS without") {
  CHECK(gemm::preferred_backend(true, true) == gemm::Backend::onednn);
  CHECK(gemm::preferred_backend(false, true) == gemm::Backend::openblas);
  CHECK(gemm::preferred_backend(true, false) == gemm::Backend::openblas);
  CHECK(gemm::preferred_backend(false, false) == gemm::Backend::openblas);
  const gemm::Backend chosen =
      gemm::preferred_backend(gemm::has_avx2(), gemm::available(gemm::Backend::onednn));
  CHECK(gemm::default_backend() == chosen);
  CHECK(gemm::available(chosen));
  // The program started on it: every test that sets another backend restores this one.
  CHECK(gemm::backend() == chosen);
  MESSAGE("this processor: AVX2 " << std::string(gemm::has_avx2() ? "yes" : "no")
                                  << ", default backend " << gemm::backend_name(chosen));
}

TEST_CASE("backend selection by enum and by name, unknown or missing backends are errors") {
  Restore restore;
  CHECK(gemm::available(gemm::Backend::openblas));
  CHECK(gemm::set_backend("openblas") == gemm::Backend::openblas);
  CHECK(gemm::backend_name(gemm::Backend::onednn) == "onednn");
  TF_CHECK_ERROR(gemm::set_backend("mkl"), "gemm.set_backend", "'mkl'", "openblas", "onednn");
  if (gemm::available(gemm::Backend::onednn)) {
    CHECK(gemm::set_backend("onednn") == gemm::Backend::onednn);
  } else {
    TF_CHECK_ERROR(gemm::set_backend(gemm::Backend::onednn), "gemm.set_backend",
                   "'onednn' was not compiled in");
  }
}
