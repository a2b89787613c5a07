#include "cli.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace examples {

Options::Options(std::string program, std::string description)
    : program_(std::move(program)), description_(std::move(description)) {}

void Options::add(const std::string& name, int& value, int min, int max, const std::string& help) {
  Opt o{name, help, "int"};
  o.i = &value;
  o.min = min;
  o.max = max;
  opts_.push_back(o);
}

void Options::add(const std::string& name, double& value, double min, double max,
                  const std::string& help) {
  Opt o{name, help, "number"};
  o.d = &value;
  o.min = min;
  o.max = max;
  opts_.push_back(o);
}

void Options::add(const std::string& name, std::string& value, const std::string& help) {
  Opt o{name, help, "text"};
  o.s = &value;
  opts_.push_back(o);
}

void Options::add_flag(const std::string& name, bool& value, const std::string& help) {
  Opt o{name, help, "flag"};
  o.b = &value;
  opts_.push_back(o);
}

void Options::print_usage(std::FILE* out) const {
  std::fprintf(out, "usage: %s [options]\n%s\n\noptions:\n", program_.c_str(),
               description_.c_str());
  for (const Opt& o : opts_) {
    std::string lhs = "--" + o.name + (o.b ? "" : " <" + o.kind + ">");
    std::string def;
    if (o.i)
      def = " (default " + std::to_string(*o.i) + ", " + std::to_string(int(o.min)) + ".." +
            std::to_string(int(o.max)) + ")";
    if (o.d) {
      char buf[96];
      std::snprintf(buf, sizeof buf, " (default %g, %g..%g)", *o.d, o.min, o.max);
      def = buf;
    }
    if (o.s) def = " (default \"" + *o.s + "\")";
    std::fprintf(out, "  %-22s %s%s\n", lhs.c_str(), o.help.c_str(), def.c_str());
  }
  std::fprintf(out, "  %-22s %s\n", "--help", "print this help and exit");
}

int Options::error(const std::string& what) const {
  std::fprintf(stderr, "%s: %s (see %s --help)\n", program_.c_str(), what.c_str(),
               program_.c_str());
  return 2;
}

int Options::parse(int argc, char** argv) {
  for (int a = 1; a < argc; ++a) {
    std::string arg = argv[a];
    if (arg == "--help" || arg == "-h") {
      print_usage(stdout);
      return 0;
    }
    if (arg.rfind("--", 0) != 0) return error("unexpected argument '" + arg + "'");
    std::string name = arg.substr(2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const Opt* opt = nullptr;
    for (const Opt& o : opts_)
      if (o.name == name) opt = &o;
    if (!opt) return error("unknown option '--" + name + "'");
    if (opt->b) {
      if (has_value) return error("option --" + name + " takes no value");
      *opt->b = true;
      continue;
    }
    if (!has_value) {
      if (a + 1 >= argc) return error("option --" + name + " needs a value");
      value = argv[++a];
    }
    if (opt->s) {
      if (value.empty()) return error("option --" + name + " needs a non-empty value");
      *opt->s = value;
      continue;
    }
    errno = 0;
    char* end = nullptr;
    double v = opt->i ? static_cast<double>(std::strtol(value.c_str(), &end, 10))
                      : std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(v))
      return error("option --" + name + " expects " + (opt->i ? "an integer" : "a number") +
                   ", got '" + value + "'");
    if (v < opt->min || v > opt->max) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "option --%s must be in [%g, %g], got %s", name.c_str(),
                    opt->min, opt->max, value.c_str());
      return error(buf);
    }
    if (opt->i)
      *opt->i = static_cast<int>(v);
    else
      *opt->d = v;
  }
  return -1;
}

}  // namespace examples
