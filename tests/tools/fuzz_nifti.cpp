// libFuzzer target for the NIfTI reader (framework/io/nifti.hpp): arbitrary bytes as a `.nii`,
// the same bytes gzipped as a `.nii.gz` (so that mutations reach the header and voxel checks
// behind a valid gzip stream, while raw bytes starting with the gzip magic reach the inflater),
// and as the header and image of a `.hdr`/`.img` pair. Any tapeflow::Error is an expected
// rejection; a crash, hang, leak, huge allocation or sanitizer report is a bug. Built with
// -DTAPEFLOW_FUZZ=ON (clang), see tests/extra.cmake; seeds: tests/data/nifti.
#include <unistd.h>
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/io/nifti.hpp"

namespace {

std::string scratch(const char* ext) {
  return (std::filesystem::temp_directory_path() /
          ("fuzz_nifti_" + std::to_string(::getpid()) + ext))
      .string();
}

void put(const std::string& path, const std::uint8_t* data, std::size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
}

void put_gzip(const std::string& path, const std::uint8_t* data, std::size_t size) {
  gzFile f = gzopen(path.c_str(), "wb1");
  if (!f) std::abort();
  if (size && gzwrite(f, data, static_cast<unsigned>(size)) <= 0) std::abort();
  gzclose(f);
}

void read_all_ways(const std::string& path) {
  namespace S = tapeflow::serialization;
  // Far below the default: the fuzzer's inputs are small, and a gzip stream can hold a thousand
  // times its size; the bound itself is what is being tested.
  const auto options = S::NiftiReadOptions().max_bytes(std::size_t(64) << 20);
  try {
    S::read_nifti(path, options);
  } catch (const tapeflow::Error&) {
  }
  try {
    S::read_nifti_header(path);
  } catch (const tapeflow::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string nii = scratch(".nii"), gz = scratch(".nii.gz"), hdr = scratch(".hdr"),
                           img = scratch(".img");
  put(nii, data, size);
  read_all_ways(nii);
  put_gzip(gz, data, size);
  read_all_ways(gz);
  // A pair: the bytes as the header, and again as the image file beside it.
  put(hdr, data, size);
  put(img, data, size);
  read_all_ways(hdr);
  return 0;
}
