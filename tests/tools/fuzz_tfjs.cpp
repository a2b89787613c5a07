// libFuzzer target for the TF.js Layers reader (layers/tfjs_format.hpp): the input is a
// model.json and one weight shard, split at the first NUL byte (no NUL: all of it is the JSON, the
// shard is empty), read with detail::parse_tfjs. Any tapeflow::Error is an expected rejection; a
// crash, hang, leak, huge allocation or sanitizer report is a bug. Built with -DTAPEFLOW_FUZZ=ON
// (clang), see tests/extra.cmake; seeds: the model.json files of tests/data/tfjs_models (with a
// NUL and their weights.bin appended, or not).
#include <cstddef>
#include <cstdint>
#include <string>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/layers/tfjs_format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::size_t cut = input.find('\0');
  const std::string json = input.substr(0, cut);
  const std::string shard = cut == std::string::npos ? std::string() : input.substr(cut + 1);
  try {
    tapeflow::serialization::detail::parse_tfjs(
        json,
        [&](const std::string&, std::size_t max_bytes) {
          if (shard.size() > max_bytes) tapeflow::fail_file("fuzz", "shard larger than allowed");
          return shard;
        },
        "fuzz");
  } catch (const tapeflow::Error&) {
  }
  return 0;
}
