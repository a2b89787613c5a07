#pragma once
/// tapeflow's one threading runtime: a small pool of blocking (never spinning) threads that runs
/// the conv kernels' loops and splits every GEMM, each part running the BLAS backend on one
/// thread. The BLAS libraries' own thread pools are set to one thread, so no two runtimes ever
/// compete for the cores.
///
/// The thread count defaults to the `TAPEFLOW_NUM_THREADS` environment variable, else the
/// number of cores. A `parallel_for` called from inside another runs inline.
///
/// Example:
/// ```
/// tapeflow::set_num_threads(2);
/// tapeflow::parallel_for(n, 1024, [&](std::size_t begin, std::size_t end) {
///   for (std::size_t i = begin; i < end; ++i) out[i] = 2 * in[i];
/// });
/// ```
#include <cstddef>
#include <functional>

namespace tapeflow {

/// Sets the number of threads (>= 1; an Error otherwise) of tapeflow's kernels and GEMMs.
void set_num_threads(int n);
int get_num_threads();

/// Splits `[0, n)` into at most `get_num_threads()` contiguous chunks of at least `grain`
/// items (fewer chunks when `n` is small) and runs `f(begin, end)` on each, the calling thread
/// taking the first; returns when all are done. An exception thrown by a chunk is rethrown.
void parallel_for(std::size_t n, std::size_t grain,
                  const std::function<void(std::size_t, std::size_t)>& f);

/// Runs `f(i)` for `i` in `[0, parts)`, each on its own thread where there are enough, and
/// returns when all are done (for work that is already split, such as the parts of a GEMM).
void parallel_parts(std::size_t parts, const std::function<void(std::size_t)>& f);

}  // namespace tapeflow
