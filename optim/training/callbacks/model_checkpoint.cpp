#include "tapeflow/optim/training/callbacks/model_checkpoint.hpp"

#include <cstdio>
#include <filesystem>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/layers/model.hpp"
#include "tapeflow/layers/saving.hpp"
#include "tapeflow/optim/checkpoint.hpp"
#include "tapeflow/optim/training/detail/path_template.hpp"

namespace tapeflow::training {

namespace {
constexpr const char* kModelCheckpoint = "ModelCheckpoint";
}

ModelCheckpoint::ModelCheckpoint(ModelCheckpointOptions options)
    : options_(std::move(options)),
      monitor_(kModelCheckpoint, options_.monitor(), options_.mode()),
      best_(options_.initial_value_threshold().value_or(monitor_.worst())) {
  if (options_.filepath().empty())
    fail(std::string(kModelCheckpoint) + ": filepath", "an empty path");
  if (options_.save_freq() < 0)
    fail(std::string(kModelCheckpoint) + ": save_freq",
         "must be 0 (every epoch) or a number of batches, got " +
             std::to_string(options_.save_freq()));
}

void ModelCheckpoint::on_train_begin(Logs&) {
  best_ = options_.initial_value_threshold().value_or(monitor_.worst());
  batches_since_save_ = 0;
}

void ModelCheckpoint::on_epoch_begin(int epoch, Logs&) { epoch_ = epoch; }

void ModelCheckpoint::on_train_batch_end(std::int64_t batch, Logs& logs) {
  if (options_.save_freq() == 0) return;
  if (++batches_since_save_ < options_.save_freq()) return;
  batches_since_save_ = 0;
  save(epoch_, batch, logs);
}

void ModelCheckpoint::on_epoch_end(int epoch, Logs& logs) {
  if (options_.save_freq() == 0) save(epoch, std::nullopt, logs);
}

void ModelCheckpoint::save(int epoch, std::optional<std::int64_t> batch, const Logs& logs) {
  // The other ranks of a distributed fit hold the same model: they follow the choice (and
  // `last_saved`) without writing or printing.
  const bool chief = params().chief;
  std::vector<std::pair<std::string, long long>> integers{{"epoch", epoch + 1}};
  if (batch) integers.emplace_back("batch", *batch + 1);
  const std::string path = detail::format_path(options_.filepath(), integers, logs,
                                               std::string(kModelCheckpoint) + ": filepath");
  if (options_.save_best_only()) {
    const double current = monitor_.value(logs);
    if (!monitor_.improved(current, best_)) {
      if (chief && options_.verbose() > 0)
        std::printf("\nEpoch %d: %s did not improve from %.5f\n", epoch + 1,
                    options_.monitor().c_str(), best_);
      return;
    }
    if (chief && options_.verbose() > 0)
      std::printf("\nEpoch %d: %s improved from %.5f to %.5f, saving model to %s\n", epoch + 1,
                  options_.monitor().c_str(), best_, current, path.c_str());
    best_ = current;
  } else if (chief && options_.verbose() > 0) {
    std::printf("\nEpoch %d: saving model to %s\n", epoch + 1, path.c_str());
  }
  if (!chief) {
    last_saved_ = path;  // the file rank 0 writes
    return;
  }
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec)
    fail_file(kModelCheckpoint,
              "cannot create the folder '" + parent.string() + "': " + ec.message());
  layers::Model& m = model(kModelCheckpoint);
  if (options_.save_weights_only())
    serialization::save(m, path);
  else
    serialization::save_checkpoint(m, optimizer(kModelCheckpoint), path);
  last_saved_ = path;
}

}  // namespace tapeflow::training
