#pragma once
/// The single dispatch point of every matrix product in tapeflow (matmul, convolutions).
#include <cstddef>
#include <string>

namespace tapeflow::gemm {

/// GEMM backends. OpenBLAS is always there; others when compiled in.
enum class Backend { openblas, onednn };

/// Selects the backend for subsequent calls (an Error if it was not compiled in).
/// Example: `if (gemm::available(gemm::Backend::onednn)) gemm::set_backend(gemm::Backend::onednn);`
void set_backend(Backend backend);
/// The same by name, "openblas" or "onednn" (an Error naming the choices otherwise).
Backend set_backend(const std::string& name);
Backend backend();
bool available(Backend backend);
std::string backend_name(Backend backend);

/// Row-major `C = alpha * op(A) * op(B) + beta * C`, op(A) is m x k, op(B) is k x n.
/// Example: `sgemm(false, false, m, n, k, 1.f, a, k, b, n, 0.f, c, n);`
void sgemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha,
           const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta, float* c,
           std::size_t ldc);
/// The same on the calling thread only, for callers that split the work over threads
/// themselves (a product per thread on its own tile).
void sgemm_serial(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k,
                  float alpha, const float* a, std::size_t lda, const float* b, std::size_t ldb,
                  float beta, float* c, std::size_t ldc);

}  // namespace tapeflow::gemm
