#pragma once
/// The single dispatch point of every matrix product in tapeflow (matmul, convolutions).
#include <cstddef>
#include <string>

namespace tapeflow::gemm {

/// GEMM backends. OpenBLAS is always there; others when compiled in.
enum class Backend { openblas, onednn };

/// The backend a program starts with, chosen by the processor it runs on (no user action):
/// `preferred_backend(has_avx2(), available(Backend::onednn))`.
Backend default_backend();
/// oneDNN's sgemm where the processor has AVX2 and oneDNN is compiled in, OpenBLAS otherwise.
/// Why, measured on 2 cores (bench/README.md): with AVX-512, oneDNN's sgemm runs at 362 GFLOP/s
/// against OpenBLAS's 199 (Debian's OpenBLAS 0.3.21 runs its AVX2 kernels there). With AVX2 only
/// the large square product is a tie (173 against 180 GFLOP/s; 171 against 156 on a second
/// machine), but the convolutions' skinny products, most of a 3-D network's work, run faster on
/// oneDNN: 16 of 18 conv3d_bench and conv3d_transpose_bench timings, by up to 2.2x (a U-Net
/// training step 162 ms against 172). Below AVX2 oneDNN's kernels are untested here.
Backend preferred_backend(bool has_avx2, bool onednn_available);
/// Whether the processor has AVX2 (and FMA, which every AVX2 processor has).
bool has_avx2();

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
