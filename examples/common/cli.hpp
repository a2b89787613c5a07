#pragma once
/// Command-line options for the example programs (the progress bar: progress.hpp).
///
/// Example:
/// ```
/// examples::Options opts("voxel_autoencoder", "Trains a 3-D convolutional autoencoder.");
/// int steps = 300;
/// opts.add("steps", steps, 1, 1000000, "training steps");
/// if (int rc = opts.parse(argc, argv); rc >= 0) return rc;   // --help: 0, bad input: 2
/// ```
#include <cstdio>
#include <string>
#include <vector>

namespace examples {

/// `--name value` / `--name=value` options, each bound to a variable holding its default, with
/// a range for numbers; `--help` prints the usage. Unknown options, missing or malformed values
/// and values out of range are errors: a message naming the option and the value on stderr,
/// then exit status 2.
class Options {
 public:
  Options(std::string program, std::string description);
  void add(const std::string& name, int& value, int min, int max, const std::string& help);
  void add(const std::string& name, double& value, double min, double max, const std::string& help);
  void add(const std::string& name, std::string& value, const std::string& help);
  /// A switch without a value (`--resume`).
  void add_flag(const std::string& name, bool& value, const std::string& help);
  /// -1 when the program should go on; otherwise the exit status to return (0 after --help).
  int parse(int argc, char** argv);
  void print_usage(std::FILE* out) const;

 private:
  struct Opt {
    std::string name, help, kind;
    int* i = nullptr;
    double* d = nullptr;
    std::string* s = nullptr;
    bool* b = nullptr;
    double min = 0, max = 0;
  };
  int error(const std::string& what) const;
  std::string program_, description_;
  std::vector<Opt> opts_;
};

}  // namespace examples
