#pragma once
/// Line plots for the examples (loss and metric curves), drawn with Cairo: a title, labelled
/// axes with ticks and a grid, one colored line per named series and a legend (in the corner of
/// the plot area where it hides the least of the lines).
///
/// Example:
/// ```
/// examples::LinePlot plot("training", "epoch", "loss");
/// plot.add_series("loss", {1, 2, 3}, {0.9, 0.5, 0.4});
/// plot.add_series("val_loss", {1, 2, 3}, {1.0, 0.7, 0.6});
/// plot.save_png("loss.png");   // throws std::runtime_error naming the path if it cannot write
/// ```
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "image.hpp"

namespace tapeflow::training {
class History;
}

namespace examples {

class LinePlot {
 public:
  LinePlot(std::string title, std::string x_label, std::string y_label);
  /// A curve named `name` in the legend through the points (x[i], y[i]); throws
  /// std::invalid_argument if the lengths differ. A non-finite y leaves a gap.
  LinePlot& add_series(std::string name, std::vector<double> x, std::vector<double> y);
  /// The same with x = 1, 2, ..., y.size() (steps or epochs counted from 1).
  LinePlot& add_series(std::string name, std::vector<double> y);
  std::size_t series_count() const { return series_.size(); }
  /// The plot as a picture.
  Canvas render(int width = 800, int height = 450) const;
  /// render(width, height).save_png(path): the file appears complete or not at all; throws
  /// std::runtime_error naming `path` on failure.
  void save_png(const std::string& path, int width = 800, int height = 450) const;

 private:
  struct Series {
    std::string name;
    std::vector<double> x, y;
  };
  std::string title_, x_label_, y_label_;
  std::vector<Series> series_;
};

/// A plot of what `fit` logged against the epoch (counted from 1, as the progress bar counts):
/// one series per `{log name, legend name}` of `series`, in that order. Throws tapeflow's
/// ValueError listing the logged names for a name the history lacks.
/// Example: `history_plot(h, "training", "loss", {{"loss", "training"}, {"val_loss",
/// "held-out"}}).save_png("loss.png");`
LinePlot history_plot(const tapeflow::training::History& history, std::string title,
                      std::string y_label,
                      const std::vector<std::pair<std::string, std::string>>& series);

/// The mean of the last `window` values at each point (of fewer at the start); `window` >= 1.
std::vector<double> moving_average(const std::vector<double>& values, std::size_t window);

}  // namespace examples
