#include "tapeflow/optim/training/callbacks/csv_logger.hpp"

#include <algorithm>
#include <filesystem>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/io/bounded_read.hpp"
#include "tapeflow/optim/training/detail/csv_table.hpp"

namespace tapeflow::training {

namespace {
// A training log is small; anything bigger is not one.
constexpr std::size_t kMaxAppendBytes = std::size_t(64) << 20;
}  // namespace

CSVLogger::CSVLogger(std::string filename, char separator, bool append)
    : filename_(std::move(filename)), separator_(separator), append_(append) {
  if (filename_.empty()) fail("CSVLogger: filename", "an empty path");
}

CSVLogger::~CSVLogger() = default;

void CSVLogger::on_train_begin(Logs&) {
  before_.clear();
  keys_.clear();
  table_.reset();
  std::error_code ec;
  if (append_ && std::filesystem::exists(filename_, ec)) {
    before_ = serialization::read_file_bounded(filename_, kMaxAppendBytes,
                                               "CSVLogger: '" + filename_ + "'");
    if (!before_.empty() && before_.back() != '\n') before_ += '\n';
  }
}

void CSVLogger::on_epoch_end(int epoch, Logs& logs) {
  if (!params().chief) return;  // a distributed fit's logs are the same on every rank
  if (!table_) {
    for (const auto& [name, value] : logs.items()) keys_.push_back(name);
    std::sort(keys_.begin(), keys_.end());
    std::vector<std::string> header{"epoch"};
    header.insert(header.end(), keys_.begin(), keys_.end());
    table_ = std::make_unique<detail::CsvTable>(header);
  }
  detail::CsvTable::Row row{static_cast<double>(epoch)};
  for (const auto& k : keys_) row.push_back(logs.get(k));
  table_->add_row(std::move(row));
  table_->write(filename_, separator_, "CSVLogger", before_, /*with_header=*/before_.empty());
}

}  // namespace tapeflow::training
