#pragma once
/// The process group of data-parallel training (`tapeflow::distributed`): which process this is
/// and the collectives between the processes, over MPI (Open MPI's C API underneath; the only
/// file that includes `mpi.h` is communicator.cpp).
///
/// A program started by an MPI launcher (`mpirun -np 4 ./train`, or Slurm's `srun`) joins the
/// job at `init`; started plainly, or from a tapeflow built without MPI, it is rank 0 of a group
/// of 1 and every collective returns its input: the same program runs either way.
///
/// Every rank must call the collectives in the same order with the same sizes (MPI's rule).
/// MPI collectives have no timeout: a rank that stops calling them leaves the others waiting, so
/// the training loop agrees on step counts first (optim/distributed) and a rank that fails calls
/// `abort_job`, which ends every rank. Collectives run on the thread that calls them, one at a
/// time (MPI_THREAD_SERIALIZED): call them from one thread, as `fit` does.
///
/// Example:
/// ```
/// tapeflow::distributed::init();
/// std::vector<float> g = local_gradient();
/// tapeflow::distributed::all_reduce(g.data(), g.size());   // the sum over the ranks
/// if (tapeflow::distributed::is_chief()) save_checkpoint();
/// ```
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace tapeflow::distributed {

/// Joins the job when an MPI launcher started this process (it sets OMPI_COMM_WORLD_SIZE,
/// PMI_SIZE or PMIX_RANK), else makes this the only rank. Idempotent; call it before the other
/// functions (they act as a group of 1 until then). MPI is finalized at exit.
void init();
/// True after `init`.
bool initialized();
/// This process's rank, 0 to size() - 1.
int rank();
/// The number of processes.
int size();
/// The number of ranks on this machine (this one included): share its cores among them, e.g.
/// `set_num_threads(std::max(1u, std::thread::hardware_concurrency() / local_size()))`.
int local_size();
/// True for rank 0, the rank that writes checkpoints and logs.
bool is_chief();
/// True when this tapeflow was built with MPI (`TAPEFLOW_WITH_MPI`).
bool built_with_mpi();

/// Prints "tapeflow distributed: rank R: <message>" on stderr and ends every rank of the job
/// with `status` (MPI_Abort; a single process exits). For an error one rank cannot recover from
/// while the others may be inside a collective waiting for it.
[[noreturn]] void abort_job(const std::string& message, int status = 1);

enum class ReduceOp { sum, min, max };

/// Element-wise reduction over the ranks, in place: afterwards every rank holds the result.
void all_reduce(float* data, std::size_t n, ReduceOp op = ReduceOp::sum);
void all_reduce(double* data, std::size_t n, ReduceOp op = ReduceOp::sum);
void all_reduce(std::int64_t* data, std::size_t n, ReduceOp op = ReduceOp::sum);
/// `root`'s values copied to every rank.
void broadcast(float* data, std::size_t n, int root = 0);
void broadcast(std::int64_t* data, std::size_t n, int root = 0);
/// `root`'s bytes (any length) copied to every rank; the others' strings are resized.
void broadcast(std::string& bytes, int root = 0);
/// Returns when every rank has called it.
void barrier();

/// A sum all-reduce in flight (MPI_Iallreduce), on a channel of its own so that it may overlap
/// blocking collectives: the buffer must stay alive and untouched until `wait` returns. Several
/// may be in flight; every rank starts them in the same order.
class PendingReduce {
 public:
  PendingReduce();
  PendingReduce(PendingReduce&& other) noexcept;
  PendingReduce& operator=(PendingReduce&& other) noexcept;
  PendingReduce(const PendingReduce&) = delete;
  PendingReduce& operator=(const PendingReduce&) = delete;
  /// Waits for it (a reduce never waited for is waited for here).
  ~PendingReduce();

  /// Lets MPI progress it; true once it is complete.
  bool test();
  /// Returns when the result is in the buffer.
  void wait();
  /// True while it has not been waited for.
  bool active() const { return active_; }

 private:
  friend PendingReduce start_all_reduce(float* data, std::size_t n);
  // MPI requests, one per chunk of at most INT_MAX elements (MPI counts are int), kept opaque
  // here: MPI_Request is an implementation's type.
  struct Requests;
  std::unique_ptr<Requests> requests_;
  bool active_ = false;
};

/// Starts the sum all-reduce of `data[0, n)` in place.
PendingReduce start_all_reduce(float* data, std::size_t n);

}  // namespace tapeflow::distributed
