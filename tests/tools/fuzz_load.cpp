// libFuzzer target for the model loader: parses arbitrary bytes as a model file, with and
// without the checksum check (without it, the fuzzer reaches the Boost payload parser and the
// model rebuild). Any tapeflow::Error is an expected rejection; a crash, hang, leak or sanitizer
// report is a bug. Built with -DTAPEFLOW_FUZZ=ON (clang), see tests/extra.cmake.
#include <cstddef>
#include <cstdint>
#include <string>

#include "framework/serialization.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  for (bool verify : {true, false}) {
    try {
      tapeflow::serialization::detail::parse(bytes, verify);
    } catch (const tapeflow::Error&) {
    }
  }
  return 0;
}
