#include "tapeflow/framework/io/npz.hpp"

#include <sys/stat.h>
#include <zip.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/io/atomic_file.hpp"

namespace tapeflow::serialization {

namespace {

// Deflate cannot expand a compressed byte into more than about 1032 bytes (a 258-byte match
// costs at least two bits); a member claiming more is corrupt, and its claim must not size an
// allocation. The slack covers the stream's few bytes of framing.
constexpr std::uint64_t kDeflateMaxRatio = 1032;
constexpr std::uint64_t kDeflateSlack = 1024;

// An archive with no members: just the end-of-central-directory record, as np.savez writes it.
constexpr char kEmptyZip[22] = {'P', 'K', 5, 6};

std::string zip_error_text(int code) {
  zip_error_t error;
  zip_error_init_with_code(&error, code);
  std::string text = zip_error_strerror(&error);
  zip_error_fini(&error);
  return text;
}

// Owners that release libzip's handles however the function ends.
struct ZipArchive {
  zip_t* za;
  ~ZipArchive() {
    if (za) zip_discard(za);
  }
};
struct MemberFile {
  zip_file_t* file;
  ~MemberFile() {
    if (file) zip_fclose(file);
  }
};
struct SourceRef {
  zip_source_t* source;
  ~SourceRef() { zip_source_free(source); }
};

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The bytes of the in-memory archive `buffer` after zip_close.
std::string source_bytes(zip_source_t* buffer, const std::string& where) {
  const auto failed = [&] {
    fail_file(where, std::string("cannot read the archive back from memory: ") +
                         zip_error_strerror(zip_source_error(buffer)));
  };
  if (zip_source_open(buffer) != 0) failed();
  std::string bytes;
  if (zip_source_seek(buffer, 0, SEEK_END) != 0) failed();
  const zip_int64_t size = zip_source_tell(buffer);
  if (size < 0 || zip_source_seek(buffer, 0, SEEK_SET) != 0) failed();
  bytes.resize(static_cast<std::size_t>(size));
  if (zip_source_read(buffer, bytes.data(), bytes.size()) != size) failed();
  zip_source_close(buffer);
  return bytes;
}

}  // namespace

std::map<std::string, NpyArray> read_npz(const std::string& path, std::uint64_t max_bytes) {
  const std::string where = "read_npz: '" + path + "'";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    fail_file(where, std::string("cannot open: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) fail_file(where, "not a regular file");
  const auto file_size = static_cast<std::uint64_t>(st.st_size);

  int code = 0;
  // ZIP_CHECKCONS: each member's local header must agree with the central directory.
  ZipArchive archive{zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code)};
  if (!archive.za) fail_file(where, "not a readable zip archive: " + zip_error_text(code));
  const zip_int64_t count = zip_get_num_entries(archive.za, 0);
  if (count < 0) fail_file(where, std::string("cannot list members: ") + zip_strerror(archive.za));
  if (static_cast<std::uint64_t>(count) > kNpzMaxMembers)
    fail_file(where, std::to_string(count) + " members, more than the " +
                         std::to_string(kNpzMaxMembers) + " an npz file may have here");

  std::map<std::string, NpyArray> arrays;
  std::uint64_t total = 0;  // uncompressed bytes of the members so far
  for (zip_int64_t i = 0; i < count; ++i) {
    zip_stat_t s;
    zip_stat_init(&s);
    const auto index = static_cast<zip_uint64_t>(i);
    if (zip_stat_index(archive.za, index, 0, &s) != 0)
      fail_file(where, "member " + std::to_string(i) + ": " + zip_strerror(archive.za));
    const zip_uint64_t needed =
        ZIP_STAT_NAME | ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD;
    if ((s.valid & needed) != needed)
      fail_file(where, "member " + std::to_string(i) + ": incomplete directory entry");
    const std::string name = s.name;
    if (ends_with(name, "/") && s.size == 0) continue;  // a folder entry
    const std::string member = where + ": member '" + name + "'";
    if ((s.valid & ZIP_STAT_ENCRYPTION_METHOD) && s.encryption_method != ZIP_EM_NONE)
      fail_file(member, "encrypted members are not supported");
    if (s.comp_method != ZIP_CM_STORE && s.comp_method != ZIP_CM_DEFLATE)
      fail_file(member, "compression method " + std::to_string(s.comp_method) +
                            " is not supported (npz files are stored or deflated)");
    if (s.comp_size > file_size)
      fail_file(member, "its compressed size, " + std::to_string(s.comp_size) +
                            " bytes, is larger than the file (" + std::to_string(file_size) +
                            " bytes)");
    const std::uint64_t most = s.comp_method == ZIP_CM_STORE
                                   ? s.comp_size
                                   : s.comp_size * kDeflateMaxRatio + kDeflateSlack;
    if (s.size > most)
      fail_file(member, "its size, " + std::to_string(s.size) + " bytes, is more than " +
                            std::to_string(s.comp_size) + " compressed bytes can hold");
    if (s.size > max_bytes - total)
      fail_file(member, "the members' uncompressed sizes add up to more than the limit of " +
                            std::to_string(max_bytes) + " bytes");
    total += s.size;
    const std::string key = ends_with(name, ".npy") ? name.substr(0, name.size() - 4) : name;
    if (arrays.count(key)) fail_file(member, "a second array named '" + key + "'");

    MemberFile file{zip_fopen_index(archive.za, index, 0)};
    if (!file.file) fail_file(member, std::string("cannot open: ") + zip_strerror(archive.za));
    // Read to the end: libzip checks the CRC (and the size) when the data is exhausted.
    NpyArray array = detail::read_npy_stream(
        s.size,
        [&](char* p, std::size_t n) -> std::size_t {
          const zip_int64_t r = zip_fread(file.file, p, n);
          if (r < 0) fail_file(member, zip_file_strerror(file.file));
          return static_cast<std::size_t>(r);
        },
        member);
    arrays.emplace(key, std::move(array));
  }
  return arrays;
}

void write_npz(const std::string& path, const std::map<std::string, NpyArray>& arrays,
               NpzCompression compression) {
  const std::string where = "write_npz: '" + path + "'";
  for (const auto& entry : arrays)
    if (entry.first.find('\0') != std::string::npos)
      fail(where, "an array name holds a NUL character");
  // libzip writes nothing at all for an archive without members.
  if (arrays.empty()) {
    write_file_atomically(path, std::string(kEmptyZip, sizeof kEmptyZip), where);
    return;
  }

  // The archive is built in memory, then written atomically like every tapeflow file.
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* buffer = zip_source_buffer_create(nullptr, 0, 0, &error);
  if (!buffer) {
    const std::string text = zip_error_strerror(&error);
    zip_error_fini(&error);
    fail_file(where, "cannot create an archive in memory: " + text);
  }
  zip_t* za = zip_open_from_source(buffer, ZIP_TRUNCATE, &error);
  if (!za) {
    zip_source_free(buffer);
    const std::string text = zip_error_strerror(&error);
    zip_error_fini(&error);
    fail_file(where, "cannot create an archive in memory: " + text);
  }
  zip_error_fini(&error);
  zip_source_keep(buffer);  // the archive's reference goes with zip_close; this one stays
  SourceRef keep{buffer};
  ZipArchive archive{za};

  // libzip reads the member bytes only in zip_close: they must live until then, unmoved.
  std::vector<std::string> images;
  images.reserve(arrays.size());
  const zip_int32_t method = compression == NpzCompression::deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE;
  for (const auto& [name, array] : arrays) {
    images.push_back(npy_image(array));
    const std::string& image = images.back();
    zip_source_t* source = zip_source_buffer(za, image.data(), image.size(), 0);
    if (!source) fail_file(where, "member '" + name + ".npy': " + zip_strerror(za));
    const zip_int64_t index = zip_file_add(za, (name + ".npy").c_str(), source, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(source);
      fail_file(where, "member '" + name + ".npy': " + zip_strerror(za));
    }
    if (zip_set_file_compression(za, static_cast<zip_uint64_t>(index), method, 0) != 0)
      fail_file(where, "member '" + name + ".npy': " + zip_strerror(za));
  }
  if (zip_close(za) != 0)
    fail_file(where, std::string("cannot build the archive: ") + zip_strerror(za));
  archive.za = nullptr;
  write_file_atomically(path, source_bytes(buffer, where), where);
}

}  // namespace tapeflow::serialization
