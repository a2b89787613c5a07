#include "tapeflow/framework/runtime/gemm.hpp"

#include <cblas.h>

#include <atomic>

#ifdef TAPEFLOW_HAVE_ONEDNN
#include <dnnl.h>
#include <omp.h>
#endif

#include "tapeflow/framework/core/tensor.hpp"
#include "tapeflow/framework/runtime/parallel.hpp"

namespace tapeflow::gemm {

bool available(Backend b) {
#ifdef TAPEFLOW_HAVE_ONEDNN
  if (b == Backend::onednn) return true;
#endif
  return b == Backend::openblas;
}

bool has_avx2() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();  // this may run before the runtime's own constructors (a static below)
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

Backend preferred_backend(bool avx2, bool onednn_available) {
  return avx2 && onednn_available ? Backend::onednn : Backend::openblas;
}

Backend default_backend() { return preferred_backend(has_avx2(), available(Backend::onednn)); }

namespace {
std::atomic<Backend> current{default_backend()};
}

std::string backend_name(Backend b) { return b == Backend::openblas ? "openblas" : "onednn"; }

void set_backend(Backend b) {
  if (!available(b))
    fail("gemm.set_backend", "backend '" + backend_name(b) +
                                 "' was not compiled in (configure with -DTAPEFLOW_WITH_ONEDNN=ON "
                                 "and libdnnl-dev installed)");
  current = b;
}

Backend set_backend(const std::string& name) {
  for (Backend b : {Backend::openblas, Backend::onednn})
    if (backend_name(b) == name) {
      set_backend(b);
      return b;
    }
  fail("gemm.set_backend", "unknown backend '" + name + "' (expected 'openblas' or 'onednn')");
}

Backend backend() { return current.load(); }

namespace {

// The backends run single-threaded: tapeflow's pool splits the product (one runtime, no
// competing spinning thread pools).
struct SingleThreadedBlas {
  SingleThreadedBlas() { openblas_set_num_threads(1); }
};

void sgemm_one_thread(Backend be, bool trans_a, bool trans_b, std::size_t m, std::size_t n,
                      std::size_t k, float alpha, const float* a, std::size_t lda, const float* b,
                      std::size_t ldb, float beta, float* c, std::size_t ldc) {
  static SingleThreadedBlas once;
  (void)once;
#ifdef TAPEFLOW_HAVE_ONEDNN
  if (be == Backend::onednn) {
    // oneDNN threads with OpenMP, whose thread count is a per-thread setting: one thread here,
    // the caller's setting restored (a program's own OpenMP code keeps its threads).
    const int omp_threads = omp_get_max_threads();
    if (omp_threads != 1) omp_set_num_threads(1);
    dnnl_status_t st = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', dnnl_dim_t(m),
                                  dnnl_dim_t(n), dnnl_dim_t(k), alpha, a, dnnl_dim_t(lda), b,
                                  dnnl_dim_t(ldb), beta, c, dnnl_dim_t(ldc));
    if (omp_threads != 1) omp_set_num_threads(omp_threads);
    if (st != dnnl_success)
      fail("gemm.sgemm", "oneDNN's dnnl_sgemm failed with status " + std::to_string(int(st)) +
                             " for m=" + std::to_string(m) + " n=" + std::to_string(n) +
                             " k=" + std::to_string(k));
    return;
  }
#else
  (void)be;
#endif
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, static_cast<blasint>(m), static_cast<blasint>(n),
              static_cast<blasint>(k), alpha, a, static_cast<blasint>(lda), b,
              static_cast<blasint>(ldb), beta, c, static_cast<blasint>(ldc));
}

}  // namespace

void sgemm_serial(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k,
                  float alpha, const float* a, std::size_t lda, const float* b, std::size_t ldb,
                  float beta, float* c, std::size_t ldc) {
  if (m == 0 || n == 0) return;
  sgemm_one_thread(current.load(std::memory_order_relaxed), trans_a, trans_b, m, n, k, alpha, a,
                   lda, b, ldb, beta, c, ldc);
}

void sgemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha,
           const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta, float* c,
           std::size_t ldc) {
  if (m == 0 || n == 0) return;
  const Backend be = current.load(std::memory_order_relaxed);
  const std::size_t threads = std::size_t(get_num_threads());
  // Split C into row blocks (or column blocks when it is short and wide), each a multiple of
  // 32 (the micro-kernels' unroll), one per thread; small products run whole.
  constexpr std::size_t kBlock = 32;
  const double flops = 2.0 * double(m) * double(n) * double(k);
  if (threads <= 1 || flops < 4e6) {
    sgemm_one_thread(be, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  const bool by_rows = m >= threads * kBlock || m >= n;
  const std::size_t len = by_rows ? m : n;
  std::size_t blocks = (len + kBlock - 1) / kBlock;
  std::size_t parts = std::min(threads, blocks);
  parallel_parts(parts, [&](std::size_t i) {
    const std::size_t lo = std::min(len, blocks * i / parts * kBlock);
    const std::size_t hi = std::min(len, blocks * (i + 1) / parts * kBlock);
    if (lo >= hi) return;
    if (by_rows) {
      const float* ap = trans_a ? a + lo : a + lo * lda;
      sgemm_one_thread(be, trans_a, trans_b, hi - lo, n, k, alpha, ap, lda, b, ldb, beta,
                       c + lo * ldc, ldc);
    } else {
      const float* bp = trans_b ? b + lo * ldb : b + lo;
      sgemm_one_thread(be, trans_a, trans_b, m, hi - lo, k, alpha, a, lda, bp, ldb, beta, c + lo,
                       ldc);
    }
  });
}

}  // namespace tapeflow::gemm
