#include "harness.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "tapeflow/framework/runtime/gemm.hpp"

namespace tapeflow::bench {

namespace {

[[noreturn]] void usage(const std::string& program, const std::vector<std::string>& extra_flags,
                        const std::string& why) {
  std::string flags;
  for (const auto& f : extra_flags) flags += " [" + f + "]";
  std::fprintf(stderr,
               "error: %s\nusage: %s [--reps N>=7] [--warmup N] [--threads N]"
               " [--backend openblas|onednn|all] [--workload NAME] [--tapeflow-only]%s\n",
               why.c_str(), program.c_str(), flags.c_str());
  std::exit(2);
}

}  // namespace

bool Args::has(const std::string& flag) const {
  return std::find(flags.begin(), flags.end(), flag) != flags.end();
}

Args parse_args(int argc, char** argv, const std::string& program,
                const std::vector<std::string>& extra_flags) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(program, extra_flags, k + " needs a value");
      return argv[++i];
    };
    auto number = [&](int lo) {
      std::string v = value();
      char* end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end || n < lo || n > 1000)
        usage(program, extra_flags,
              k + " expects an integer >= " + std::to_string(lo) + ", got '" + v + "'");
      return int(n);
    };
    if (k == "--reps")
      a.reps = number(7);
    else if (k == "--warmup")
      a.warmup = number(0);
    else if (k == "--threads")
      a.threads = number(1);
    else if (k == "--backend")
      a.backend = value();
    else if (k == "--workload")
      a.workload = value();
    else if (k == "--tapeflow-only")
      a.torch = false;
    else if (std::find(extra_flags.begin(), extra_flags.end(), k) != extra_flags.end())
      a.flags.push_back(k);
    else
      usage(program, extra_flags, "unknown argument '" + k + "'");
  }
  if (a.backend != "all" && a.backend != "openblas" && a.backend != "onednn")
    usage(program, extra_flags,
          "--backend expects openblas, onednn or all, got '" + a.backend + "'");
  return a;
}

std::vector<std::string> backends_to_run(const Args& args, const std::string& program) {
  std::vector<std::string> backends;
  for (std::string b : {"openblas", "onednn"}) {
    if (args.backend != "all" && args.backend != b) continue;
    const gemm::Backend be = b == "openblas" ? gemm::Backend::openblas : gemm::Backend::onednn;
    if (!gemm::available(be)) {
      if (args.backend == b) usage(program, {}, "backend '" + b + "' was not compiled in");
      std::printf("(backend %s not compiled in: skipped)\n", b.c_str());
      continue;
    }
    backends.push_back(b);
  }
  return backends;
}

double now_ms() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::vector<double> alternate(const std::vector<std::function<void()>>& fns, int warmup, int reps) {
  std::vector<std::vector<double>> t(fns.size());
  std::vector<double> estimate(fns.size(), 0.0);
  for (int r = 0; r < std::max(1, warmup); ++r)
    for (std::size_t i = 0; i < fns.size(); ++i) {
      double t0 = now_ms();
      fns[i]();
      estimate[i] = now_ms() - t0;
    }
  for (int r = 0; r < reps; ++r)
    for (std::size_t i = 0; i < fns.size(); ++i) {
      const int burst = std::clamp(int(40.0 / std::max(estimate[i], 1e-3)), 1, 8);
      if (estimate[i] < 50.0) fns[i]();
      for (int b = 0; b < burst; ++b) {
        double t0 = now_ms();
        fns[i]();
        t[i].push_back(now_ms() - t0);
      }
    }
  std::vector<double> out;
  for (auto& v : t) out.push_back(median(v));
  return out;
}

double sgemm_gflops(int warmup, int reps) {
  const std::size_t n = 2048;
  std::vector<float> a(n * n, 0.5f), b(n * n, 0.25f), c(n * n);
  double ms = alternate({[&] {
                          gemm::sgemm(false, false, n, n, n, 1.f, a.data(), n, b.data(), n, 0.f,
                                      c.data(), n);
                        }},
                        warmup, reps)[0];
  return 2.0 * n * n * n / (ms * 1e6);
}

std::string mib(std::size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", double(bytes) / (1 << 20));
  return buf;
}

long peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

void restart_with_short_spin_waits(char** argv) {
  // Set only what the environment leaves unset; once both are set the restarted program goes on.
  const bool blas = !std::getenv("OPENBLAS_THREAD_TIMEOUT"), omp = !std::getenv("GOMP_SPINCOUNT");
  if (!blas && !omp) return;
  if (blas) setenv("OPENBLAS_THREAD_TIMEOUT", "20", 1);
  if (omp) setenv("GOMP_SPINCOUNT", "1000", 1);
  execv("/proc/self/exe", argv);
  std::fprintf(stderr,
               "warning: could not restart with OPENBLAS_THREAD_TIMEOUT=20 GOMP_SPINCOUNT=1000\n");
}

std::string default_backend_line() {
  __builtin_cpu_init();
  const auto yes_no = [](bool b) { return std::string(b ? "yes" : "no"); };
  return "default GEMM backend on this processor: " + gemm::backend_name(gemm::default_backend()) +
         " (AVX2: " + yes_no(gemm::has_avx2()) +
         ", AVX-512F: " + yes_no(__builtin_cpu_supports("avx512f")) + ")";
}

}  // namespace tapeflow::bench
