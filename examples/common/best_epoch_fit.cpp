#include "best_epoch_fit.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>

namespace examples {

namespace TR = tapeflow::training;

BestEpochFit::BestEpochFit(std::string checkpoint, std::string csv_log, int patience,
                           std::optional<double> resumed_loss)
    : checkpoint_(std::move(checkpoint)),
      csv_log_(std::move(csv_log)),
      patience_(patience),
      resumed_loss_(resumed_loss),
      best_(std::make_shared<TR::ModelCheckpoint>(TR::ModelCheckpointOptions(checkpoint_)
                                                      .monitor("val_loss")
                                                      .save_best_only(true)
                                                      .initial_value_threshold(resumed_loss))),
      stop_(std::make_shared<TR::EarlyStopping>(
          TR::EarlyStoppingOptions().monitor("val_loss").patience(patience))),
      nan_(std::make_shared<TR::TerminateOnNaN>()) {}

std::optional<TR::History> BestEpochFit::fit(
    const std::string& program, const std::function<TR::History(const TR::Callbacks&)>& fit_call) {
  const auto start = std::chrono::steady_clock::now();
  TR::History history;
  try {
    history = fit_call({nan_, best_, stop_, std::make_shared<TR::CSVLogger>(csv_log_)});
  } catch (const std::exception&) {
    if (nan_->stopped_batch() < 0) throw;
  }
  seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (nan_->stopped_batch() >= 0 || (!saved() && !resumed_loss_)) {
    std::fprintf(stderr, "%s: the loss became NaN or infinite; try a smaller --lr\n",
                 program.c_str());
    return std::nullopt;
  }
  if (stop_->stopped_epoch() > 0)
    std::printf("stopped early: no lower val_loss in the last %d epochs\n", patience_);
  return history;
}

std::size_t BestEpochFit::best_epoch(const TR::History& history) {
  const std::vector<double>& val_loss = history.at("val_loss");
  return static_cast<std::size_t>(std::min_element(val_loss.begin(), val_loss.end()) -
                                  val_loss.begin());
}

}  // namespace examples
