#include "tapeflow/optim/training/callback.hpp"

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/layers/model.hpp"

namespace tapeflow::training {

Callback::~Callback() = default;

void Callback::on_train_begin(Logs&) {}
void Callback::on_train_end(Logs&) {}
void Callback::on_epoch_begin(int, Logs&) {}
void Callback::on_epoch_end(int, Logs&) {}
void Callback::on_train_batch_begin(std::int64_t batch, Logs& logs) { on_batch_begin(batch, logs); }
void Callback::on_train_batch_end(std::int64_t batch, Logs& logs) { on_batch_end(batch, logs); }
void Callback::on_batch_begin(std::int64_t, Logs&) {}
void Callback::on_batch_end(std::int64_t, Logs&) {}
void Callback::on_test_begin(Logs&) {}
void Callback::on_test_end(Logs&) {}
void Callback::on_test_batch_begin(std::int64_t, Logs&) {}
void Callback::on_test_batch_end(std::int64_t, Logs&) {}
void Callback::on_predict_begin(Logs&) {}
void Callback::on_predict_end(Logs&) {}
void Callback::on_predict_batch_begin(std::int64_t, Logs&) {}
void Callback::on_predict_batch_end(std::int64_t, Logs&) {}

layers::Model& Callback::model(const std::string& where) const {
  if (!model_) fail(where, "the callback is not attached to a model (use it in fit)");
  return *model_;
}

optim::Optimizer& Callback::optimizer(const std::string& where) const {
  return model(where).compiled_optimizer(where);
}

namespace detail {

CallbackList::CallbackList(Callbacks callbacks, layers::Model& model, const RunParams& params,
                           FitPosition* position)
    : callbacks_(std::move(callbacks)) {
  for (const auto& c : callbacks_) {
    if (!c) fail("fit: callbacks", "a callback is null");
    c->set_model(&model);
    c->set_params(params);
    c->set_position(position);
  }
}

namespace {
// Calls one hook on every callback, in order.
template <class Hook, class... Args>
void call_each(const Callbacks& callbacks, Hook hook, Args&&... args) {
  for (const auto& c : callbacks) ((*c).*hook)(args...);
}
}  // namespace

void CallbackList::train_begin(Logs& l) { call_each(callbacks_, &Callback::on_train_begin, l); }
void CallbackList::train_end(Logs& l) { call_each(callbacks_, &Callback::on_train_end, l); }
void CallbackList::epoch_begin(int i, Logs& l) {
  call_each(callbacks_, &Callback::on_epoch_begin, i, l);
}
void CallbackList::epoch_end(int i, Logs& l) {
  call_each(callbacks_, &Callback::on_epoch_end, i, l);
}
void CallbackList::train_batch_begin(std::int64_t i, Logs& l) {
  call_each(callbacks_, &Callback::on_train_batch_begin, i, l);
}
void CallbackList::train_batch_end(std::int64_t i, Logs& l) {
  call_each(callbacks_, &Callback::on_train_batch_end, i, l);
}
void CallbackList::test_begin(Logs& l) { call_each(callbacks_, &Callback::on_test_begin, l); }
void CallbackList::test_end(Logs& l) { call_each(callbacks_, &Callback::on_test_end, l); }
void CallbackList::test_batch_begin(std::int64_t i, Logs& l) {
  call_each(callbacks_, &Callback::on_test_batch_begin, i, l);
}
void CallbackList::test_batch_end(std::int64_t i, Logs& l) {
  call_each(callbacks_, &Callback::on_test_batch_end, i, l);
}
void CallbackList::predict_begin(Logs& l) { call_each(callbacks_, &Callback::on_predict_begin, l); }
void CallbackList::predict_end(Logs& l) { call_each(callbacks_, &Callback::on_predict_end, l); }
void CallbackList::predict_batch_begin(std::int64_t i, Logs& l) {
  call_each(callbacks_, &Callback::on_predict_batch_begin, i, l);
}
void CallbackList::predict_batch_end(std::int64_t i, Logs& l) {
  call_each(callbacks_, &Callback::on_predict_batch_end, i, l);
}

}  // namespace detail

}  // namespace tapeflow::training
