// libFuzzer target for the model loader: parses arbitrary bytes as a model file, with and
// without the checksum check (without it, the fuzzer reaches the Boost payload parser and the
// model rebuild). Any tapeflow::Error is an expected rejection; a crash, hang, leak or sanitizer
// report is a bug. Built with -DTAPEFLOW_FUZZ=ON (clang), see tests/extra.cmake.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tapeflow/layers/saving.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A rebuild may allocate up to 2 GiB per tensor by default; under the sanitizers and coverage
  // a build pass over even 16M elements takes the fuzzer's whole time budget (found: a legal
  // Conv1DTranspose). Work is bounded by tensor size, so a small limit keeps every input fast;
  // the test suite covers the default.
  tapeflow::serialization::detail::set_rebuild_tensor_limit(std::size_t(4) << 20);
  std::string bytes(reinterpret_cast<const char*>(data), size);
  for (bool verify : {true, false}) {
    try {
      tapeflow::serialization::detail::parse(bytes, verify);
    } catch (const tapeflow::Error&) {
    }
  }
  return 0;
}
