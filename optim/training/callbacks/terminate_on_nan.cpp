#include "tapeflow/optim/training/callbacks/terminate_on_nan.hpp"

#include <cmath>
#include <cstdio>

#include "tapeflow/layers/model.hpp"

namespace tapeflow::training {

void TerminateOnNaN::on_batch_end(std::int64_t batch, Logs& logs) {
  auto loss = logs.get("loss");
  if (!loss || std::isfinite(*loss)) return;
  std::printf("Batch %lld: Invalid loss, terminating training\n", static_cast<long long>(batch));
  stopped_batch_ = batch;
  model("TerminateOnNaN").stop_training = true;
}

}  // namespace tapeflow::training
