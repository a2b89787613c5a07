// conformance DIR...: runs every golden case found below the given folders and compares
// tapeflow with the reference arrays. One line per case, then "N passed, M failed"; the exit
// status is non-zero if any case failed or none was found.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "conformance/golden.hpp"
#include "conformance/zoo_cases.hpp"

int main(int argc, char** argv) {
  namespace golden = tapeflow::golden;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR...\n", argv[0]);
    std::printf("0 passed, 0 failed\n");
    return 2;
  }
  std::vector<std::string> roots(argv + 1, argv + argc);
  std::vector<std::filesystem::path> cases;
  try {
    cases = golden::find_cases(roots);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    std::printf("0 passed, 0 failed\n");
    return 2;
  }
  // The zoo's types first: they claim their cases by `layer=`, the defaults by other keys.
  auto types = golden::zoo_case_types();
  for (const auto& t : golden::default_case_types()) types.push_back(t);
  int passed = 0, failed = 0;
  for (const auto& dir : cases) {
    golden::CaseResult r;
    try {
      golden::Case c = golden::load_case(dir);
      const golden::CaseType* type = nullptr;
      for (const auto& t : types)
        if (t.accepts(c)) {
          type = &t;
          break;
        }
      if (!type) {
        r.passed = false;
        r.message = "no case type understands this config";
      } else {
        r = type->run(c);
      }
    } catch (const std::exception& e) {
      r.passed = false;
      r.message = std::string("error: ") + e.what();
    }
    (r.passed ? passed : failed) += 1;
    std::printf("%s %s max_error=%.3g%s%s\n", dir.string().c_str(), r.passed ? "PASS" : "FAIL",
                r.max_error, r.message.empty() ? "" : " ", r.message.c_str());
  }
  if (cases.empty()) std::fprintf(stderr, "no case folders (with config.txt) found\n");
  std::printf("%d passed, %d failed\n", passed, failed);
  return (failed > 0 || cases.empty()) ? 1 : 0;
}
