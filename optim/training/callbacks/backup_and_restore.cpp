#include "tapeflow/optim/training/callbacks/backup_and_restore.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/io/atomic_file.hpp"
#include "tapeflow/framework/io/bounded_read.hpp"
#include "tapeflow/layers/model.hpp"
#include "tapeflow/optim/checkpoint.hpp"

namespace tapeflow::training {

namespace fs = std::filesystem;

namespace {
constexpr const char* kBackupAndRestore = "BackupAndRestore";
// The state file is a few numbers and a name.
constexpr std::size_t kMaxStateBytes = 64 * 1024;
// Two checkpoint files in turn: the one the state file names stays intact while the next is
// written.
const char* const kSlots[2] = {"checkpoint-0.tfw", "checkpoint-1.tfw"};
}  // namespace

BackupAndRestore::BackupAndRestore(std::string backup_dir, std::int64_t save_freq,
                                   bool delete_checkpoint)
    : backup_dir_(std::move(backup_dir)),
      save_freq_(save_freq),
      delete_checkpoint_(delete_checkpoint) {
  if (backup_dir_.empty()) fail(std::string(kBackupAndRestore) + ": backup_dir", "an empty path");
  if (save_freq_ < 0)
    fail(std::string(kBackupAndRestore) + ": save_freq",
         "must be 0 (every epoch) or a number of batches, got " + std::to_string(save_freq_));
}

std::string BackupAndRestore::state_path() const {
  return (fs::path(backup_dir_) / "state.json").string();
}

void BackupAndRestore::on_train_begin(Logs&) {
  resumed_.reset();
  batches_since_backup_ = 0;
  FitPosition* pos = position();
  if (!pos) fail(kBackupAndRestore, "is a callback of fit");
  std::error_code ec;
  if (!fs::exists(state_path(), ec)) return;
  const std::string where = std::string(kBackupAndRestore) + ": '" + state_path() + "'";
  const std::string text = serialization::read_file_bounded(state_path(), kMaxStateBytes, where);
  FitPosition restored;
  std::string checkpoint;
  try {
    const auto j = nlohmann::json::parse(text);
    checkpoint = j.at("checkpoint").get<std::string>();
    restored.epoch = j.at("epoch").get<int>();
    restored.batch = j.at("batch").get<std::int64_t>();
    restored.shuffle_seed = j.at("shuffle_seed").get<std::uint64_t>();
  } catch (const nlohmann::json::exception& e) {
    fail_file(where, std::string("not a backup state file: ") + e.what());
  }
  if (checkpoint != kSlots[0] && checkpoint != kSlots[1])
    fail_file(where, "names the checkpoint '" + checkpoint + "', which is not one of its own");
  if (restored.epoch < 0 || restored.batch < 0) fail_file(where, "holds a negative epoch or batch");
  serialization::load_checkpoint(model(kBackupAndRestore), optimizer(kBackupAndRestore),
                                 (fs::path(backup_dir_) / checkpoint).string());
  next_slot_ = checkpoint == kSlots[0] ? 1 : 0;
  *pos = restored;
  resumed_ = restored;
}

void BackupAndRestore::backup() {
  // Every rank of a distributed fit restores from the backup; rank 0 alone writes it.
  if (!params().chief) return;
  FitPosition* pos = position();
  std::error_code ec;
  fs::create_directories(backup_dir_, ec);
  if (ec)
    fail_file(kBackupAndRestore, "cannot create the folder '" + backup_dir_ + "': " + ec.message());
  const char* slot = kSlots[next_slot_];
  serialization::save_checkpoint(model(kBackupAndRestore), optimizer(kBackupAndRestore),
                                 (fs::path(backup_dir_) / slot).string());
  nlohmann::json j{{"checkpoint", slot},
                   {"epoch", pos->epoch},
                   {"batch", pos->batch},
                   {"shuffle_seed", pos->shuffle_seed}};
  serialization::write_file_atomically(state_path(), j.dump() + "\n",
                                       std::string(kBackupAndRestore) + ": '" + state_path() + "'");
  next_slot_ = 1 - next_slot_;
}

void BackupAndRestore::on_train_batch_end(std::int64_t, Logs&) {
  if (save_freq_ == 0) return;
  if (++batches_since_backup_ < save_freq_) return;
  batches_since_backup_ = 0;
  backup();
}

void BackupAndRestore::on_epoch_end(int, Logs&) {
  if (save_freq_ == 0) backup();
}

void BackupAndRestore::on_train_end(Logs&) {
  if (!delete_checkpoint_ || !params().chief) return;
  std::error_code ec;
  fs::remove(state_path(), ec);
  for (const char* slot : kSlots) fs::remove(fs::path(backup_dir_) / slot, ec);
  fs::remove(backup_dir_, ec);  // only if now empty
}

}  // namespace tapeflow::training
