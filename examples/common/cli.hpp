#pragma once
/// Command-line options for the example programs, a thin layer over CLI11.
///
/// Example:
/// ```
/// examples::Options opts("voxel_autoencoder", "Trains a 3-D convolutional autoencoder.");
/// int steps = 300;
/// opts.add("steps", steps, 1, 1000000, "training steps");
/// if (int rc = opts.parse(argc, argv); rc >= 0) return rc;   // --help: 0, bad input: 2
/// ```
#include <memory>
#include <string>

namespace CLI {
class App;
}

namespace examples {

/// `--name value` / `--name=value` options, each bound to a variable holding its default, with
/// a range for numbers; `--help` (`-h`) prints the usage. Unknown options, missing or malformed
/// values and values out of range are errors: a message naming the option on stderr (`prog:
/// --size: must be in [8, 64], got 4 (see prog --help)`), then exit status 2.
class Options {
 public:
  Options(std::string program, std::string description);
  ~Options();
  Options(const Options&) = delete;
  Options& operator=(const Options&) = delete;
  void add(const std::string& name, int& value, int min, int max, const std::string& help);
  void add(const std::string& name, double& value, double min, double max, const std::string& help);
  /// A text value; an empty one is an error.
  void add(const std::string& name, std::string& value, const std::string& help);
  /// A switch without a value (`--resume`).
  void add_flag(const std::string& name, bool& value, const std::string& help);
  /// -1 when the program should go on; otherwise the exit status to return (0 after --help).
  int parse(int argc, char** argv);
  /// The CLI11 application, for anything more (include <CLI/CLI.hpp> to use it).
  CLI::App& app() { return *app_; }

 private:
  std::unique_ptr<CLI::App> app_;
};

/// Creates the folder an `--out` option names (and its parents); false, after printing
/// `<program>: cannot create output folder '<dir>': <reason>` on stderr, when that fails.
/// Example: `if (!examples::create_output_folder("unet3d_segmentation", c.out)) return 1;`
bool create_output_folder(const char* program, const std::string& dir);

}  // namespace examples
