#include "framework/gemm.hpp"

#include <cblas.h>

#include "framework/tensor.hpp"

namespace tapeflow::gemm {

namespace {
Backend current = Backend::openblas;
}

bool available(Backend b) { return b == Backend::openblas; }

std::string backend_name(Backend b) { return b == Backend::openblas ? "openblas" : "onednn"; }

void set_backend(Backend b) {
  if (!available(b))
    fail("gemm.set_backend", "backend '" + backend_name(b) + "' was not compiled in");
  current = b;
}

Backend backend() { return current; }

void sgemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha,
           const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta, float* c,
           std::size_t ldc) {
  if (m == 0 || n == 0) return;
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), alpha, a,
              static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, c,
              static_cast<blasint>(ldc));
}

}  // namespace tapeflow::gemm
