#include "tapeflow/framework/runtime/communicator.hpp"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "tapeflow/framework/core/errors.hpp"

#ifdef TAPEFLOW_HAVE_MPI
#include <mpi.h>
#endif

namespace tapeflow::distributed {

namespace {

struct ProcessGroup {
  bool initialized = false;
  bool joined_mpi = false;  // this process is one rank of an MPI job
  bool owns_mpi = false;    // tapeflow called MPI_Init, so it finalizes
  int rank = 0;
  int size = 1;
  int local_size = 1;
#ifdef TAPEFLOW_HAVE_MPI
  // Two duplicates of MPI_COMM_WORLD: the blocking collectives on one, the nonblocking sum
  // reduces on the other, so that the two kinds may be in flight at once in any interleaving
  // (MPI orders collectives per communicator only).
  MPI_Comm blocking = MPI_COMM_NULL;
  MPI_Comm nonblocking = MPI_COMM_NULL;
#endif
};

ProcessGroup& group() {
  static ProcessGroup g;
  return g;
}

// Set by the launchers this process may run under: Open MPI's mpirun, MPICH's Hydra and Slurm
// (PMI), PMIx-based launchers.
bool started_by_mpi_launcher() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(var)) return true;
  return false;
}

#ifdef TAPEFLOW_HAVE_MPI
void finalize_at_exit() {
  auto& g = group();
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  if (g.blocking != MPI_COMM_NULL) MPI_Comm_free(&g.blocking);
  if (g.nonblocking != MPI_COMM_NULL) MPI_Comm_free(&g.nonblocking);
  if (g.owns_mpi) MPI_Finalize();
}

MPI_Op mpi_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum:
      return MPI_SUM;
    case ReduceOp::min:
      return MPI_MIN;
    case ReduceOp::max:
      return MPI_MAX;
  }
  return MPI_SUM;
}

template <class T>
MPI_Datatype mpi_type();
template <>
MPI_Datatype mpi_type<float>() {
  return MPI_FLOAT;
}
template <>
MPI_Datatype mpi_type<double>() {
  return MPI_DOUBLE;
}
template <>
MPI_Datatype mpi_type<std::int64_t>() {
  return MPI_INT64_T;
}
template <>
MPI_Datatype mpi_type<char>() {
  return MPI_CHAR;
}

// Calls `f(offset, count)` over [0, n) in chunks: MPI counts are int.
template <class F>
void for_each_chunk(std::size_t n, F&& f) {
  constexpr std::size_t kMaxChunk = static_cast<std::size_t>(INT_MAX);
  for (std::size_t at = 0; at < n; at += kMaxChunk)
    f(at, static_cast<int>(std::min(kMaxChunk, n - at)));
}

template <class T>
void all_reduce_impl(T* data, std::size_t n, ReduceOp op) {
  auto& g = group();
  if (!g.joined_mpi) return;
  for_each_chunk(n, [&](std::size_t at, int count) {
    MPI_Allreduce(MPI_IN_PLACE, data + at, count, mpi_type<T>(), mpi_op(op), g.blocking);
  });
}

template <class T>
void broadcast_impl(T* data, std::size_t n, int root) {
  auto& g = group();
  if (!g.joined_mpi) return;
  for_each_chunk(n, [&](std::size_t at, int count) {
    MPI_Bcast(data + at, count, mpi_type<T>(), root, g.blocking);
  });
}
#else
template <class T>
void all_reduce_impl(T*, std::size_t, ReduceOp) {}
template <class T>
void broadcast_impl(T*, std::size_t, int) {}
#endif

void check_root(int root) {
  if (root < 0 || root >= group().size)
    fail("distributed.broadcast: root", "must be a rank in [0, " + std::to_string(group().size) +
                                            "), got " + std::to_string(root));
}

}  // namespace

void init() {
  auto& g = group();
  if (g.initialized) return;
#ifdef TAPEFLOW_HAVE_MPI
  int already = 0;
  MPI_Initialized(&already);
  if (already || started_by_mpi_launcher()) {
    if (!already) {
      int provided = 0;
      MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
      g.owns_mpi = true;
    }
    MPI_Comm_dup(MPI_COMM_WORLD, &g.blocking);
    MPI_Comm_dup(MPI_COMM_WORLD, &g.nonblocking);
    MPI_Comm_rank(g.blocking, &g.rank);
    MPI_Comm_size(g.blocking, &g.size);
    MPI_Comm node;
    MPI_Comm_split_type(g.blocking, MPI_COMM_TYPE_SHARED, g.rank, MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &g.local_size);
    MPI_Comm_free(&node);
    g.joined_mpi = true;
    std::atexit(finalize_at_exit);
  }
#else
  (void)started_by_mpi_launcher;
#endif
  g.initialized = true;
}

bool initialized() { return group().initialized; }
int rank() { return group().rank; }
int size() { return group().size; }
int local_size() { return group().local_size; }
bool is_chief() { return group().rank == 0; }

bool built_with_mpi() {
#ifdef TAPEFLOW_HAVE_MPI
  return true;
#else
  return false;
#endif
}

void abort_job(const std::string& message, int status) {
  std::fprintf(stderr, "tapeflow distributed: rank %d: %s\n", group().rank, message.c_str());
  std::fflush(stderr);
#ifdef TAPEFLOW_HAVE_MPI
  if (group().joined_mpi) MPI_Abort(MPI_COMM_WORLD, status);
#endif
  std::exit(status);
}

void all_reduce(float* data, std::size_t n, ReduceOp op) { all_reduce_impl(data, n, op); }
void all_reduce(double* data, std::size_t n, ReduceOp op) { all_reduce_impl(data, n, op); }
void all_reduce(std::int64_t* data, std::size_t n, ReduceOp op) { all_reduce_impl(data, n, op); }

void broadcast(float* data, std::size_t n, int root) {
  check_root(root);
  broadcast_impl(data, n, root);
}
void broadcast(std::int64_t* data, std::size_t n, int root) {
  check_root(root);
  broadcast_impl(data, n, root);
}
void broadcast(std::string& bytes, int root) {
  check_root(root);
  std::int64_t length = static_cast<std::int64_t>(bytes.size());
  broadcast_impl(&length, 1, root);
  bytes.resize(static_cast<std::size_t>(length));
  broadcast_impl(bytes.data(), bytes.size(), root);
}

void barrier() {
#ifdef TAPEFLOW_HAVE_MPI
  if (group().joined_mpi) MPI_Barrier(group().blocking);
#endif
}

// ---- nonblocking sum reduces -------------------------------------------------------------------

struct PendingReduce::Requests {
#ifdef TAPEFLOW_HAVE_MPI
  std::vector<MPI_Request> requests;
#endif
};

PendingReduce::PendingReduce() = default;

PendingReduce::PendingReduce(PendingReduce&& other) noexcept
    : requests_(std::move(other.requests_)), active_(other.active_) {
  other.active_ = false;
}

PendingReduce& PendingReduce::operator=(PendingReduce&& other) noexcept {
  if (this != &other) {
    wait();
    requests_ = std::move(other.requests_);
    active_ = other.active_;
    other.active_ = false;
  }
  return *this;
}

PendingReduce::~PendingReduce() { wait(); }

bool PendingReduce::test() {
  if (!active_) return true;
#ifdef TAPEFLOW_HAVE_MPI
  int done = 0;
  MPI_Testall(static_cast<int>(requests_->requests.size()), requests_->requests.data(), &done,
              MPI_STATUSES_IGNORE);
  if (!done) return false;
#endif
  active_ = false;
  return true;
}

void PendingReduce::wait() {
  if (!active_) return;
#ifdef TAPEFLOW_HAVE_MPI
  MPI_Waitall(static_cast<int>(requests_->requests.size()), requests_->requests.data(),
              MPI_STATUSES_IGNORE);
#endif
  active_ = false;
}

PendingReduce start_all_reduce(float* data, std::size_t n) {
  PendingReduce pending;
#ifdef TAPEFLOW_HAVE_MPI
  auto& g = group();
  if (!g.joined_mpi) return pending;
  pending.requests_ = std::make_unique<PendingReduce::Requests>();
  for_each_chunk(n, [&](std::size_t at, int count) {
    MPI_Request request;
    MPI_Iallreduce(MPI_IN_PLACE, data + at, count, MPI_FLOAT, MPI_SUM, g.nonblocking, &request);
    pending.requests_->requests.push_back(request);
  });
  pending.active_ = !pending.requests_->requests.empty();
#else
  (void)data;
  (void)n;
#endif
  return pending;
}

}  // namespace tapeflow::distributed
