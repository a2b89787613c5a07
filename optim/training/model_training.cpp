// The training half of layers::Model (declared in layers/model.hpp): compile, fit, evaluate,
// predict, train_on_batch and test_on_batch, with Keras' semantics.
#include <algorithm>
#include <cmath>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/core/profile.hpp"
#include "tapeflow/framework/core/tape.hpp"
#include "tapeflow/framework/runtime/communicator.hpp"
#include "tapeflow/framework/runtime/random.hpp"
#include "tapeflow/layers/model.hpp"
#include "tapeflow/optim/distributed/distributed_tape.hpp"
#include "tapeflow/optim/optimizer.hpp"
#include "tapeflow/optim/optimizers.hpp"
#include "tapeflow/optim/training/detail/batch_source.hpp"
#include "tapeflow/optim/training/detail/compiled.hpp"
#include "tapeflow/optim/training/detail/distributed_fit.hpp"
#include "tapeflow/optim/training/history.hpp"
#include "tapeflow/optim/training/progbar.hpp"
#include "tapeflow/optim/training/run_options.hpp"
#include "tapeflow/optim/training/samples.hpp"

namespace tapeflow::layers {

namespace T = training;
using T::detail::Samples;

namespace {

std::vector<Variable> as_constants(const std::vector<Tensor>& tensors) {
  std::vector<Variable> out;
  out.reserve(tensors.size());
  for (const auto& t : tensors) out.emplace_back(t);
  return out;
}

std::vector<Tensor> values_of(const std::vector<Variable>& vars) {
  std::vector<Tensor> out;
  out.reserve(vars.size());
  for (const auto& v : vars) out.push_back(v.value());
  return out;
}

std::int64_t batches_for(std::size_t samples, std::int64_t batch_size) {
  return (static_cast<std::int64_t>(samples) + batch_size - 1) / batch_size;
}

void check_batch_size(const std::string& where, std::int64_t batch_size) {
  if (batch_size < 1)
    fail(where + ": batch_size", "must be at least 1, got " + std::to_string(batch_size));
}

void check_verbose(const std::string& where, int verbose) {
  if (verbose < 0 || verbose > 2)
    fail(where + ": verbose", "must be 0, 1 or 2, got " + std::to_string(verbose));
}

// The callbacks of a run: the progress bar first when verbose, the user's, then `extra`
// (fit's History).
T::Callbacks with_defaults(int verbose, const T::Callbacks& user,
                           const std::shared_ptr<T::Callback>& extra = nullptr) {
  T::Callbacks all;
  if (verbose > 0) all.push_back(std::make_shared<T::ProgbarLogger>());
  all.insert(all.end(), user.begin(), user.end());
  if (extra) all.push_back(extra);
  return all;
}

}  // namespace

// ---- compile ------------------------------------------------------------------------------

void Model::compile(const T::OptimizerArg& optimizer, const T::Losses& loss) {
  compile(optimizer, loss, {}, {});
}

void Model::compile(const T::OptimizerArg& optimizer, const T::Losses& loss,
                    const std::vector<T::MetricArg>& metrics) {
  compile(optimizer, loss, metrics, {});
}

void Model::compile(const T::OptimizerArg& optimizer, const T::Losses& loss,
                    const std::vector<T::MetricArg>& metrics,
                    const std::vector<float>& loss_weights) {
  std::vector<std::string> output_names;
  for (const auto& o : outputs_) output_names.push_back(o.layer_name());
  if (output_names.empty()) output_names.push_back(name());  // a Sequential not built yet
  try {
    compiled_ = std::make_shared<T::detail::Compiled>(optimizer.resolve(), loss.list(), metrics,
                                                      loss_weights, std::move(output_names));
  } catch (const Error& e) {
    e.rethrow_in(name());
  }
}

optim::Optimizer& Model::compiled_optimizer(const std::string& where) const {
  if (!compiled_)
    fail(where, "the model '" + name() +
                    "' is not compiled; call compile(optimizer, loss) before fit, evaluate or "
                    "train_on_batch");
  return compiled_->optimizer();
}

// ---- the steps ------------------------------------------------------------------------------

namespace {

// A distributed step's reduction: the reducer and this rank's share of the global loss.
struct StepReduction {
  distributed::GradientReducer& reducer;
  float share;
};

// One training step (see Model::fit): returns nothing, updates the compiled state's running
// means and metrics. Distributed (`reduction` set), the gradients are summed over the ranks,
// each weighted by its share, their all-reduces overlapping the backward pass.
void train_step(Model& model, T::detail::Compiled& compiled, const Samples& batch,
                const std::optional<StepReduction>& reduction = std::nullopt) {
  std::vector<Variable> per_output;
  std::vector<Variable> y_pred;
  Variable total;
  {
    std::optional<GradientTape> local;
    std::optional<distributed::DistributedGradientTape> across_ranks;
    if (reduction)
      across_ranks.emplace(reduction->reducer, reduction->share);
    else
      local.emplace();
    y_pred = model.call_on_list(as_constants(batch.x), /*training=*/true);
    {
      profile::Scope profiled([] { return "loss"; });
      total = compiled.total_loss(as_constants(batch.y), y_pred, model.losses(), &per_output);
    }
    auto vars = model.trainable_variables();
    auto grads = reduction ? across_ranks->gradient(total, vars) : local->gradient(total, vars);
    compiled.optimizer().apply_gradients(grads, vars);
  }
  profile::Scope profiled([] { return "metrics"; });
  compiled.update(total, per_output, batch.y, values_of(y_pred), batch.size());
}

void test_step(Model& model, T::detail::Compiled& compiled, const Samples& batch) {
  StopRecording no_tape;
  std::vector<Variable> per_output;
  auto y_pred = model.call_on_list(as_constants(batch.x), /*training=*/false);
  Variable total = compiled.total_loss(as_constants(batch.y), y_pred, model.losses(), &per_output);
  compiled.update(total, per_output, batch.y, values_of(y_pred), batch.size());
}

// The evaluation loop shared by evaluate and fit's validation: resets the metrics, runs every
// batch of `source` in order with the test hooks, returns the logs.
// `across_ranks`: a distributed fit's validation, whose logs are averaged over the ranks.
T::Logs run_evaluation(Model& model, T::detail::Compiled& compiled, T::detail::BatchSource& source,
                       T::detail::CallbackList& callbacks, bool across_ranks = false) {
  compiled.reset();
  source.seek(0, 0, 0);
  T::Logs logs;
  callbacks.test_begin(logs);
  for (std::int64_t b = 0; b < source.steps(); ++b) {
    T::Logs batch_logs;
    callbacks.test_batch_begin(b, batch_logs);
    test_step(model, compiled, source.next());
    batch_logs = compiled.results();
    callbacks.test_batch_end(b, batch_logs);
  }
  logs = compiled.results();
  if (across_ranks) T::detail::average_logs(logs, compiled.samples());
  callbacks.test_end(logs);
  return logs;
}

// Fit's validation split: the last `split` of the samples (before shuffling), Keras' rule
// `split_at = floor(n * (1 - split))`.
std::pair<Samples, Samples> split_validation(const Samples& all, double split) {
  const std::size_t n = all.size();
  const auto split_at = static_cast<std::size_t>(std::floor(double(n) * (1.0 - split)));
  if (split_at == 0 || split_at == n)
    fail("fit: validation_split", "the data has " + std::to_string(n) +
                                      " samples, too few to split into a training and a "
                                      "validation set with validation_split=" +
                                      std::to_string(split));
  return {all.slice(0, split_at), all.slice(split_at, n)};
}

void check_fit_options(const T::FitOptions& options, const std::string& where) {
  check_batch_size(where, options.batch_size());
  check_verbose(where, options.verbose());
  if (options.initial_epoch() < 0)
    fail(where + ": initial_epoch", "must be >= 0, got " + std::to_string(options.initial_epoch()));
  if (options.epochs() < options.initial_epoch())
    fail(where + ": epochs", "epochs (" + std::to_string(options.epochs()) +
                                 ") is the last epoch's number and may not be below "
                                 "initial_epoch (" +
                                 std::to_string(options.initial_epoch()) + ")");
  if (!(options.validation_split() >= 0.0 && options.validation_split() < 1.0))
    fail(where + ": validation_split",
         "must be in [0, 1), got " + std::to_string(options.validation_split()));
  if (options.steps_per_epoch() && *options.steps_per_epoch() < 1)
    fail(where + ": steps_per_epoch",
         "must be at least 1, got " + std::to_string(*options.steps_per_epoch()));
  if (options.validation_batch_size())
    check_batch_size(where + ": validation", *options.validation_batch_size());
  if (options.distributed()) {
    const int ranks = distributed::size();
    for (auto [name, batch] :
         {std::pair<const char*, std::int64_t>{"batch_size", options.batch_size()},
          {"validation_batch_size", options.validation_batch_size().value_or(ranks)}})
      if (batch < ranks)
        fail(where + ": " + name,
             "a distributed fit splits each batch over the ranks (the global batch, as Keras): it "
             "must be at least the number of ranks, " +
                 std::to_string(ranks) + ", got " + std::to_string(batch));
  }
}

// Tensors cut into batches; distributed, into global batches of which this rank takes its rows.
std::unique_ptr<T::detail::BatchSource> tensor_source(Samples data, std::int64_t batch_size,
                                                      bool shuffle,
                                                      std::optional<std::int64_t> steps_per_epoch,
                                                      bool across_ranks) {
  if (!across_ranks)
    return T::detail::tensor_batches(std::move(data), batch_size, shuffle, steps_per_epoch);
  const int ranks = distributed::size();
  return std::make_unique<T::detail::RankRows>(
      T::detail::tensor_batches(std::move(data), batch_size, shuffle, steps_per_epoch,
                                static_cast<std::size_t>(ranks)),
      distributed::rank(), ranks);
}

// fit's validation data as batches, if any.
std::unique_ptr<T::detail::BatchSource> validation_batches(const T::FitOptions& options,
                                                           std::optional<Samples> split_off) {
  const std::int64_t batch = options.validation_batch_size().value_or(options.batch_size());
  if (options.validation_data()) {
    Samples v{options.validation_data()->x, options.validation_data()->y};
    v.check("fit: validation_data");
    if (v.y.empty()) fail("fit: validation_data", "no target tensors given");
    return tensor_source(std::move(v), batch, false, std::nullopt, options.distributed());
  }
  if (split_off)
    return tensor_source(std::move(*split_off), batch, false, std::nullopt, options.distributed());
  return nullptr;
}

}  // namespace

// ---- fit ------------------------------------------------------------------------------------

T::History Model::fit(const Tensor& x, const Tensor& y) { return fit(x, y, T::FitOptions()); }

T::History Model::fit(const Tensor& x, const Tensor& y, const T::FitOptions& options) {
  return fit(std::vector<Tensor>{x}, std::vector<Tensor>{y}, options);
}

T::History Model::fit(const std::vector<Tensor>& x, const std::vector<Tensor>& y,
                      const T::FitOptions& options) {
  const std::string where = "fit";
  compiled_optimizer(where);
  check_fit_options(options, where);
  Samples all{x, y};
  all.check(where);
  if (y.empty()) fail(where + ": y", "no target tensors given");
  std::optional<Samples> held_out;
  if (!options.validation_data() && options.validation_split() > 0.0) {
    auto [train, validation] = split_validation(all, options.validation_split());
    all = std::move(train);
    held_out = std::move(validation);
  }
  auto train = tensor_source(std::move(all), options.batch_size(), options.shuffle(),
                             options.steps_per_epoch(), options.distributed());
  return run_fit(*train, validation_batches(options, std::move(held_out)).get(), options);
}

T::History Model::fit(const data::Dataset& dataset, const T::FitOptions& options) {
  const std::string where = "fit";
  compiled_optimizer(where);
  check_fit_options(options, where);
  if (options.validation_split() > 0.0)
    fail(where + ": validation_split",
         "splits tensors only; with a dataset give validation_data (or split the dataset with "
         "take / skip)");
  // Distributed, each rank trains on its shard of the elements (each element one rank's batch).
  const data::Dataset local =
      options.distributed() ? dataset.shard(distributed::size(), distributed::rank()) : dataset;
  auto train = T::detail::dataset_batches(local, std::max<std::size_t>(inputs_.size(), 1),
                                          compiled_->outputs(), options.steps_per_epoch(), where);
  return run_fit(*train, validation_batches(options, std::nullopt).get(), options);
}

T::History Model::run_fit(T::detail::BatchSource& train, T::detail::BatchSource* validation,
                          const T::FitOptions& options) {
  T::detail::Compiled& compiled = *compiled_;
  const bool across_ranks = options.distributed();
  const bool chief = !across_ranks || distributed::is_chief();
  const std::int64_t steps = across_ranks ? T::detail::agree_steps(train.steps()) : train.steps();
  T::FitPosition position;
  position.epoch = options.initial_epoch();
  position.shuffle_seed =
      options.seed() ? *options.seed() : RandomGenerator::for_op(Seed()).next_u64();
  auto history = std::make_shared<T::History>();
  // The progress bar on the chief only: the other ranks' would print the same over it.
  const int verbose = chief ? options.verbose() : 0;
  T::RunParams params{verbose, options.epochs(), steps, chief};
  T::detail::CallbackList callbacks(with_defaults(verbose, options.callbacks(), history), *this,
                                    params, &position);

  stop_training = false;
  T::Logs logs;
  // A rank that fails while the others wait in a collective for it would leave them waiting
  // forever (MPI has no timeout): it ends the job instead, with its error.
  try {
    callbacks.train_begin(logs);  // BackupAndRestore may move the position here
    std::optional<distributed::GradientReducer> reducer;
    if (across_ranks) {
      if (!built()) {
        // An unbuilt Sequential makes its weights at its first call: before they can be
        // broadcast, build it on a batch (in inference mode: nothing learns from it).
        train.seek(position.epoch, position.batch, position.shuffle_seed);
        StopRecording no_tape;
        call_on_list(as_constants(train.next().x), /*training=*/false);
      }
      T::detail::broadcast_start(*this, compiled.optimizer(), position);
      reducer.emplace();
    }
    for (int epoch = position.epoch; epoch < options.epochs() && !stop_training; ++epoch) {
      compiled.reset();
      const std::int64_t first_batch = epoch == position.epoch ? position.batch : 0;
      position = {epoch, first_batch, position.shuffle_seed};
      T::Logs epoch_logs;
      callbacks.epoch_begin(epoch, epoch_logs);
      train.seek(epoch, first_batch, position.shuffle_seed);
      for (std::int64_t b = first_batch; b < steps; ++b) {
        T::Logs batch_logs;
        callbacks.train_batch_begin(b, batch_logs);
        Samples batch = train.next();
        std::optional<StepReduction> reduction;
        if (reducer) {
          const float share = static_cast<float>(batch.size()) /
                              static_cast<float>(T::detail::total_rows(batch.size()));
          reduction.emplace(StepReduction{*reducer, share});
        }
        train_step(*this, compiled, batch, reduction);
        batch_logs = compiled.results();
        position.batch = b + 1;
        callbacks.train_batch_end(b, batch_logs);
        if (across_ranks) stop_training = T::detail::agree_stop(stop_training);
        if (stop_training) break;
      }
      epoch_logs = compiled.results();
      if (across_ranks) T::detail::average_logs(epoch_logs, compiled.samples());
      // As Keras, the validation runs even when a callback stopped training mid-epoch.
      if (validation) {
        T::Logs val = run_evaluation(*this, compiled, *validation, callbacks, across_ranks);
        epoch_logs.update(val.prefixed("val_"));
      }
      position = {epoch + 1, 0, position.shuffle_seed};
      callbacks.epoch_end(epoch, epoch_logs);
      if (across_ranks) stop_training = T::detail::agree_stop(stop_training);
    }
    callbacks.train_end(logs);
  } catch (const std::exception& e) {
    if (across_ranks && distributed::size() > 1)
      distributed::abort_job(std::string("fit failed: ") + e.what());
    throw;
  }
  return *history;
}

// ---- evaluate, predict, single batches -------------------------------------------------------

T::Logs Model::evaluate(const Tensor& x, const Tensor& y) {
  return evaluate(x, y, T::EvaluateOptions());
}

T::Logs Model::evaluate(const Tensor& x, const Tensor& y, const T::EvaluateOptions& options) {
  return evaluate(std::vector<Tensor>{x}, std::vector<Tensor>{y}, options);
}

namespace {
void check_evaluate_options(const T::EvaluateOptions& options, const std::string& where) {
  check_batch_size(where, options.batch_size());
  check_verbose(where, options.verbose());
  if (options.steps() && *options.steps() < 1)
    fail(where + ": steps", "must be at least 1, got " + std::to_string(*options.steps()));
}
}  // namespace

T::Logs Model::evaluate(const std::vector<Tensor>& x, const std::vector<Tensor>& y,
                        const T::EvaluateOptions& options) {
  const std::string where = "evaluate";
  compiled_optimizer(where);
  check_evaluate_options(options, where);
  Samples data{x, y};
  data.check(where);
  if (y.empty()) fail(where + ": y", "no target tensors given");
  std::optional<std::int64_t> steps;
  if (options.steps())
    steps = std::min(batches_for(data.size(), options.batch_size()), *options.steps());
  auto source = T::detail::tensor_batches(std::move(data), options.batch_size(), false, steps);
  return run_evaluate(*source, options);
}

T::Logs Model::evaluate(const data::Dataset& dataset, const T::EvaluateOptions& options) {
  const std::string where = "evaluate";
  compiled_optimizer(where);
  check_evaluate_options(options, where);
  auto source = T::detail::dataset_batches(dataset, std::max<std::size_t>(inputs_.size(), 1),
                                           compiled_->outputs(), options.steps(), where);
  return run_evaluate(*source, options);
}

T::Logs Model::run_evaluate(T::detail::BatchSource& source, const T::EvaluateOptions& options) {
  T::detail::CallbackList callbacks(with_defaults(options.verbose(), options.callbacks()), *this,
                                    T::RunParams{options.verbose(), 1, source.steps()}, nullptr);
  return run_evaluation(*this, *compiled_, source, callbacks);
}

Tensor Model::predict(const Tensor& x) { return predict(x, T::PredictOptions()); }

Tensor Model::predict(const Tensor& x, const T::PredictOptions& options) {
  auto out = predict(std::vector<Tensor>{x}, options);
  if (out.size() != 1)
    fail("predict", "the model has " + std::to_string(out.size()) +
                        " outputs; call predict(std::vector<Tensor>{x}, options) to get them all");
  return std::move(out[0]);
}

std::vector<Tensor> Model::predict(const std::vector<Tensor>& x, const T::PredictOptions& options) {
  const std::string where = "predict";
  check_batch_size(where, options.batch_size());
  check_verbose(where, options.verbose());
  Samples data{x, {}};
  data.check(where);
  auto source =
      T::detail::tensor_batches(std::move(data), options.batch_size(), false, std::nullopt);
  return run_predict(*source, options);
}

std::vector<Tensor> Model::predict(const data::Dataset& dataset, const T::PredictOptions& options) {
  const std::string where = "predict";
  check_verbose(where, options.verbose());
  auto source = T::detail::dataset_batches(dataset, std::max<std::size_t>(inputs_.size(), 1), 0,
                                           std::nullopt, where);
  return run_predict(*source, options);
}

std::vector<Tensor> Model::run_predict(T::detail::BatchSource& source,
                                       const T::PredictOptions& options) {
  const std::string where = "predict";
  const std::int64_t steps = source.steps();
  T::detail::CallbackList callbacks(with_defaults(options.verbose(), options.callbacks()), *this,
                                    T::RunParams{options.verbose(), 1, steps}, nullptr);
  T::Logs logs;
  callbacks.predict_begin(logs);
  source.seek(0, 0, 0);
  // Each output's batches, joined along axis 0 at the end.
  std::vector<std::vector<Tensor>> parts;
  for (std::int64_t b = 0; b < steps; ++b) {
    T::Logs batch_logs;
    callbacks.predict_batch_begin(b, batch_logs);
    Samples batch = source.next();
    std::vector<Variable> y;
    {
      StopRecording no_tape;
      y = call_on_list(as_constants(batch.x), /*training=*/false);
    }
    if (parts.empty()) parts.resize(y.size());
    for (std::size_t o = 0; o < y.size(); ++o) {
      const Tensor& v = y[o].value();
      if (v.dimension() == 0 || v.shape()[0] != batch.size())
        fail_shape(where, "output " + std::to_string(o) + " of batch " + std::to_string(b) +
                              " has shape " + shape_str(v.shape()) + " for " +
                              std::to_string(batch.size()) + " samples");
      if (!parts[o].empty() &&
          !std::equal(v.shape().begin() + 1, v.shape().end(), parts[o][0].shape().begin() + 1,
                      parts[o][0].shape().end()))
        fail_shape(where, "output " + std::to_string(o) + " of batch " + std::to_string(b) +
                              " has shape " + shape_str(v.shape()) + ", unlike the first batch's " +
                              shape_str(parts[o][0].shape()));
      parts[o].push_back(v);
    }
    callbacks.predict_batch_end(b, batch_logs);
  }
  callbacks.predict_end(logs);
  std::vector<Tensor> result;
  for (const auto& p : parts) {
    std::size_t rows = 0;
    for (const auto& t : p) rows += t.shape()[0];
    Shape shape = shape_of(p[0]);
    shape[0] = rows;
    Tensor out = Tensor::from_shape(shape);
    std::size_t offset = 0;
    for (const auto& t : p) {
      std::copy(t.data(), t.data() + t.size(), out.data() + offset);
      offset += t.size();
    }
    result.push_back(std::move(out));
  }
  return result;
}

T::Logs Model::train_on_batch(const Tensor& x, const Tensor& y) {
  return train_on_batch(std::vector<Tensor>{x}, std::vector<Tensor>{y});
}

T::Logs Model::train_on_batch(const std::vector<Tensor>& x, const std::vector<Tensor>& y) {
  compiled_optimizer("train_on_batch");
  Samples batch{x, y};
  batch.check("train_on_batch");
  compiled_->reset();
  train_step(*this, *compiled_, batch);
  return compiled_->results();
}

T::Logs Model::test_on_batch(const Tensor& x, const Tensor& y) {
  return test_on_batch(std::vector<Tensor>{x}, std::vector<Tensor>{y});
}

T::Logs Model::test_on_batch(const std::vector<Tensor>& x, const std::vector<Tensor>& y) {
  compiled_optimizer("test_on_batch");
  Samples batch{x, y};
  batch.check("test_on_batch");
  compiled_->reset();
  test_step(*this, *compiled_, batch);
  return compiled_->results();
}

}  // namespace tapeflow::layers
