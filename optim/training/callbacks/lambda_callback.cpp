#include "tapeflow/optim/training/callbacks/lambda_callback.hpp"

namespace tapeflow::training {

void LambdaCallback::on_train_begin(Logs& l) {
  if (hooks_.on_train_begin) hooks_.on_train_begin(l);
}
void LambdaCallback::on_train_end(Logs& l) {
  if (hooks_.on_train_end) hooks_.on_train_end(l);
}
void LambdaCallback::on_epoch_begin(int e, Logs& l) {
  if (hooks_.on_epoch_begin) hooks_.on_epoch_begin(e, l);
}
void LambdaCallback::on_epoch_end(int e, Logs& l) {
  if (hooks_.on_epoch_end) hooks_.on_epoch_end(e, l);
}
void LambdaCallback::on_train_batch_begin(std::int64_t b, Logs& l) {
  if (hooks_.on_train_batch_begin) hooks_.on_train_batch_begin(b, l);
}
void LambdaCallback::on_train_batch_end(std::int64_t b, Logs& l) {
  if (hooks_.on_train_batch_end) hooks_.on_train_batch_end(b, l);
}

}  // namespace tapeflow::training
