#pragma once
/// Keras' `CSVLogger`: one CSV row per epoch, `epoch` (from 0) then every log sorted by name
/// (the names of the first epoch; a name missing later is written "NA"), numbers as the
/// shortest text that reads back to them. The whole file is rewritten atomically after each
/// epoch, so a run killed at any moment leaves a complete file (Keras appends a line).
/// `append`: keep an existing file's rows (and its header) and add to them.
///
/// Example:
/// ```
/// auto log = std::make_shared<tf::training::CSVLogger>("training.csv");
/// model.fit(x, y, FitOptions().epochs(5).callbacks({log}));
/// // epoch,loss,val_loss
/// // 0,0.6931,0.6925 ...
/// ```
#include <memory>
#include <string>
#include <vector>

#include "tapeflow/optim/training/callback.hpp"

namespace tapeflow::training {

namespace detail {
class CsvTable;
}

class CSVLogger : public Callback {
 public:
  /// Errors: an empty filename.
  explicit CSVLogger(std::string filename, char separator = ',', bool append = false);
  ~CSVLogger() override;
  void on_train_begin(Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;

 private:
  std::string filename_;
  char separator_;
  bool append_;
  std::string before_;  // an appended-to file's content
  std::vector<std::string> keys_;
  std::unique_ptr<detail::CsvTable> table_;
};

}  // namespace tapeflow::training
