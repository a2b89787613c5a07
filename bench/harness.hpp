#pragma once
// What every comparison benchmark shares: the timing method (one process, calls alternating,
// medians), libtorch's BLAS threads, the backend's sgemm peak, memory figures. The method is
// bench/README.md's "Method".
#include <cblas.h>

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace tapeflow::bench {

/// The options every comparison benchmark takes: `--reps N` (timed rounds, at least 7),
/// `--warmup N`, `--threads N`, `--backend openblas|onednn|all`, `--workload NAME`,
/// `--tapeflow-only` (skip libtorch, for profiling), plus the program's own flags.
struct Args {
  int reps = 9;
  int warmup = 2;
  int threads = 2;
  std::string backend = "all";
  std::string workload;            // empty: every workload
  bool torch = true;               // false with --tapeflow-only
  std::vector<std::string> flags;  // the program's own flags given, e.g. "--no-generator"

  bool has(const std::string& flag) const;
};

/// Parses the command line; a bad argument prints the error and the usage, then exits with 2.
/// `extra_flags`: the program's own flags (no value), e.g. {"--no-generator"}.
Args parse_args(int argc, char** argv, const std::string& program,
                const std::vector<std::string>& extra_flags = {});

/// The GEMM backends `args.backend` names that are compiled in, "openblas" and/or "onednn"
/// (one that was named alone but is missing is a usage error; with "all" it is skipped, saying so).
std::vector<std::string> backends_to_run(const Args& args, const std::string& program);

double now_ms();
double median(std::vector<double> values);

/// Runs `fns` round-robin: warm-up rounds (one call each; the last one estimates the call's
/// time), then `reps` rounds in which each function runs a short burst of back-to-back calls,
/// every call timed: the steady state of a training loop. A call under 50 ms is preceded by one
/// untimed call, which absorbs the other framework's threads still spinning from its previous
/// burst (libtorch's and oneDNN's OpenMP threads busy-wait for a while after each op; see
/// `restart_with_short_spin_waits` for why that is not enough alone). There is no rest
/// between calls: on the VM this was measured on, a core left idle for 20 ms runs the next
/// few milliseconds about twice as slow, which would dominate the small workloads of both
/// frameworks. Returns the median ms of each function.
std::vector<double> alternate(const std::vector<std::function<void()>>& fns, int warmup, int reps);

/// libtorch and tapeflow share one OpenBLAS. tapeflow splits its GEMMs itself and runs OpenBLAS
/// single-threaded; `f` runs with OpenBLAS at `blas_threads` threads (libtorch is timed both with
/// OpenBLAS's own threads, its default in a program of its own, and single-threaded, faster for
/// its batched paths, which thread over the batch; the caller reports the faster).
template <class F>
std::function<void()> torch_side(F f, int blas_threads) {
  return [f, blas_threads] {
    openblas_set_num_threads(blas_threads);
    f();
    openblas_set_num_threads(1);
  };
}

/// The current GEMM backend's sgemm at 2048^3, GFLOP/s (timed as `alternate`).
double sgemm_gflops(int warmup, int reps);

/// Bytes as MiB with one decimal, "16.0".
std::string mib(std::size_t bytes);
/// The process's peak resident set so far, MiB.
long peak_rss_mib();

/// Idle worker threads that busy-wait take the cores from the next call of another framework in a
/// process that alternates frameworks. Restarts the program once with shorter waits (both
/// libraries read them when they are loaded; a side's own bursts of back-to-back calls keep its
/// threads hot), unless the environment already sets them:
/// - OpenBLAS's workers (used here by libtorch only) wait about 2^28 cycles (~0.1 s) after each
///   product by default: `OPENBLAS_THREAD_TIMEOUT=20`, 2^20 cycles.
/// - libgomp's workers (libtorch's and oneDNN's OpenMP threads, one pool shared by both) spin
///   300000 rounds of `pause` after each parallel region by default, longer than the untimed
///   call before each timed one absorbs: measured on this 2-vCPU VM, a 9 ms two-thread job
///   right after an OpenMP region took 18 ms (the spin lasted through all of it, already at
///   30000 rounds), and tapeflow's 0.9 ms k3s2 transposed convolution took 1.3-1.7 ms after
///   libtorch's and oneDNN's calls. `GOMP_SPINCOUNT=1000`: the job takes its 9.3 ms, k3s2 its
///   0.9 ms, and neither libtorch's nor oneDNN's own times change (k3s1, u16, k3s2, head).
/// Call first in main.
void restart_with_short_spin_waits(char** argv);

/// "default GEMM backend on this processor: onednn (AVX2: yes, AVX-512F: no)".
std::string default_backend_line();

}  // namespace tapeflow::bench
