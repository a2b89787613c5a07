#include "tapeflow/optim/training/detail/monitor.hpp"

#include <limits>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/core/strings.hpp"

namespace tapeflow::training::detail {

namespace {
bool grows_when_better(const std::string& monitor) {
  const std::string m = tapeflow::detail::to_lower(monitor);
  for (const char* word : {"acc", "auc", "precision", "recall", "iou", "dice"})
    if (m.find(word) != std::string::npos) return true;
  return false;
}
}  // namespace

Monitor::Monitor(std::string callback, std::string monitor, const std::string& mode)
    : callback_(std::move(callback)), monitor_(std::move(monitor)) {
  if (monitor_.empty()) fail(callback_ + ": monitor", "an empty name");
  if (mode == "min")
    maximize_ = false;
  else if (mode == "max")
    maximize_ = true;
  else if (mode == "auto")
    maximize_ = grows_when_better(monitor_);
  else
    fail(callback_ + ": mode", "must be 'auto', 'min' or 'max', got '" + mode + "'");
}

double Monitor::value(const Logs& logs) const { return logs.at(monitor_, callback_ + ": monitor"); }

bool Monitor::improved(double current, double reference, double min_delta) const {
  return maximize_ ? current - min_delta > reference : current + min_delta < reference;
}

double Monitor::worst() const {
  return maximize_ ? -std::numeric_limits<double>::infinity()
                   : std::numeric_limits<double>::infinity();
}

}  // namespace tapeflow::training::detail
