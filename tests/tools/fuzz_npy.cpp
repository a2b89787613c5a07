// libFuzzer target for the NumPy readers: writes arbitrary bytes to a file and reads it with
// read_npy and read_npz (both read paths, as they only take files). Any tapeflow::Error is an
// expected rejection; a crash, hang, leak, huge allocation or sanitizer report is a bug. Built
// with -DTAPEFLOW_FUZZ=ON (clang), see tests/extra.cmake; seeds: tests/data/numpy.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/io/npy.hpp"
#include "tapeflow/framework/io/npz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = "/tmp/fuzz_npy_" + std::to_string(::getpid()) + ".bin";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    tapeflow::serialization::read_npy(path);
  } catch (const tapeflow::Error&) {
  }
  // Deflate may legitimately expand an input a thousandfold; 64 MiB keeps every input cheap (the
  // test suite covers the default bound).
  try {
    tapeflow::serialization::read_npz(path, std::uint64_t(64) << 20);
  } catch (const tapeflow::Error&) {
  }
  return 0;
}
