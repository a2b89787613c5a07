#include "cli.hpp"

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <system_error>

namespace examples {

namespace {

// A number in [min, max] (`integer`: a whole number). CLI11's own Range prints doubles with
// std::to_string ("0.000001") and does not say when a value is not a number at all.
CLI::Validator in_range(double min, double max, bool integer) {
  return CLI::Validator(
      [=](std::string& in) -> std::string {
        double v = 0;
        long long i = 0;
        bool ok = integer ? CLI::detail::lexical_cast(in, i) : CLI::detail::lexical_cast(in, v);
        if (integer) v = static_cast<double>(i);
        if (!ok || !std::isfinite(v))
          return std::string("expects ") + (integer ? "an integer" : "a number") + ", got '" + in +
                 "'";
        if (v < min || v > max) {
          char buf[128];
          std::snprintf(buf, sizeof buf, "must be in [%.10g, %.10g], got %s", min, max, in.c_str());
          return buf;
        }
        return {};
      },
      "");  // no description: the range goes in the help text
}

std::string with_range(const std::string& help, double min, double max) {
  char buf[96];
  std::snprintf(buf, sizeof buf, " [%.10g, %.10g]", min, max);
  return help + buf;
}

}  // namespace

Options::Options(std::string program, std::string description)
    : app_(std::make_unique<CLI::App>(std::move(description), std::move(program))) {
  app_->failure_message([](const CLI::App* app, const CLI::Error& e) {
    const std::string& name = app->get_name();
    return name + ": " + e.what() + " (see " + name + " --help)\n";
  });
  // An option given twice: the last one wins (CLI11's default is an error).
  app_->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app_->get_formatter()->column_width(28);
}

Options::~Options() = default;

void Options::add(const std::string& name, int& value, int min, int max, const std::string& help) {
  app_->add_option("--" + name, value, with_range(help, min, max))
      ->capture_default_str()
      ->check(in_range(min, max, true));
}

void Options::add(const std::string& name, double& value, double min, double max,
                  const std::string& help) {
  app_->add_option("--" + name, value, with_range(help, min, max))
      ->capture_default_str()
      ->check(in_range(min, max, false));
}

void Options::add(const std::string& name, std::string& value, const std::string& help) {
  app_->add_option("--" + name, value, help)
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& in) { return in.empty() ? std::string("needs a non-empty value") : ""; },
          ""));
}

void Options::add_flag(const std::string& name, bool& value, const std::string& help) {
  app_->add_flag("--" + name, value, help)->disable_flag_override();
}

int Options::parse(int argc, char** argv) {
  try {
    app_->parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app_->exit(e) == 0 ? 0 : 2;  // --help prints the usage (exit 0), errors the message
  }
  return -1;
}

bool create_output_folder(const char* program, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (!ec && std::filesystem::is_directory(dir)) return true;
  std::fprintf(stderr, "%s: cannot create output folder '%s': %s\n", program, dir.c_str(),
               ec.message().c_str());
  return false;
}

}  // namespace examples
