#pragma once
/// NumPy's `.npz` files, read and written: a zip archive of `.npy` files, one per named array,
/// as `np.savez` (stored) and `np.savez_compressed` (deflate) write them and `np.load` reads them.
/// The member "x.npy" is the array named "x", as in NumPy; each member is read as framework/io/
/// npy.hpp describes.
///
/// Reading is bounded: at most `kNpzMaxMembers` members, each stored or deflated, each no larger
/// than deflate could make of its compressed bytes (a claim beyond that is a lie, not a zip bomb
/// to unpack), all of them together no more than `max_bytes` uncompressed, and each member's npy
/// header checked against the member's size before its data is allocated. Every CRC is checked.
/// A truncated, corrupt or foreign archive or member is a `FileError` naming the file (and the
/// member). Writing is atomic (framework/io/atomic_file.hpp).
///
/// Example:
/// ```
/// namespace S = tapeflow::serialization;
/// S::write_npz("data.npz", {{"x", x_tensor}, {"labels", xt::xarray<std::uint8_t>{0, 1}}},
///              S::NpzCompression::deflate);
/// std::map<std::string, S::NpyArray> d = S::read_npz("data.npz");
/// tapeflow::Tensor x = d.at("x").to_tensor();
/// ```
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "tapeflow/framework/io/npy.hpp"

namespace tapeflow::serialization {

/// How `write_npz` stores the members: `stored` as `np.savez`, `deflate` as
/// `np.savez_compressed`.
enum class NpzCompression { stored, deflate };

/// The most members `read_npz` accepts.
inline constexpr std::size_t kNpzMaxMembers = 65536;
/// `read_npz`'s default bound on the uncompressed size of all members together: 16 GiB.
inline constexpr std::uint64_t kNpzDefaultMaxBytes = std::uint64_t(16) << 30;

/// The arrays of the `.npz` file `path`, by name ("x.npy" gives "x"; a member named otherwise
/// keeps its name). Throws `FileError("read_npz: '<path>': ...")` when the file is missing or not
/// a zip archive, when a member is not an npy file (or any `read_npy` problem, after
/// "member '<name>': "), fails its CRC, uses another compression, or when the bounds above are
/// exceeded (`max_bytes` limits the uncompressed bytes of all members together).
/// Example: `for (const auto& [name, array] : read_npz("d.npz")) std::cout << name << '\n';`
std::map<std::string, NpyArray> read_npz(const std::string& path,
                                         std::uint64_t max_bytes = kNpzDefaultMaxBytes);

/// Writes `arrays` to `path` as an `.npz` file, member "<name>.npy" for each, that `np.load`
/// reads back. Atomic; a failure is a `FileError("write_npz: '<path>': ...")` and leaves the
/// previous file; a name holding a NUL character is a `ValueError`.
/// Example: `write_npz("d.npz", {{"x", x}, {"y", y}});`
void write_npz(const std::string& path, const std::map<std::string, NpyArray>& arrays,
               NpzCompression compression = NpzCompression::stored);

}  // namespace tapeflow::serialization
