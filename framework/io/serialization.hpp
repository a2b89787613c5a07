#pragma once
/// Saving and loading models (architecture + weights) and training checkpoints (model +
/// optimizer state + random state) with Boost.Serialization binary, text or XML archives.
///
/// File layout: one header line `tapeflow-model <format version> <archive> <payload bytes>
/// <fnv1a-64 hex>\n`, then the Boost archive. The header (magic, then version) is checked before
/// anything else is read, and the payload's size and checksum before it is parsed, so a
/// truncated, corrupted, foreign or newer file is a clear `tapeflow::Error`. Every length field
/// in the payload is bounded by the payload size (no huge allocation from a corrupt length).
/// Writes are atomic: a temporary file in the same folder, flushed and fsynced, then renamed.
///
/// Example:
/// ```
/// namespace L = tapeflow::layers;
/// L::Sequential model;
/// model.add<L::Dense>(L::DenseOptions(4).activation("relu"));
/// model.build({1, 8});
/// tapeflow::serialization::save(model, "model.xml");                 // XML by extension
/// std::shared_ptr<L::Layer> copy = tapeflow::serialization::load("model.xml");
/// ```
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tapeflow/layers/layer.hpp"
#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::serialization {

/// The file format version this build writes and the newest it reads.
inline constexpr int kFormatVersion = 1;
/// The first bytes of every file.
inline constexpr const char* kMagic = "tapeflow-model ";

/// Archive kind; `automatic` picks from the extension: ".xml" -> xml, ".txt" -> text,
/// anything else -> binary.
enum class Archive { automatic, binary, text, xml };

/// `Archive` for `path` (never `automatic`).
Archive archive_for_path(const std::string& path);

/// Saves `model` (any layer; Sequential recursively): class names, configs, build shapes and
/// weights. A layer whose initializer/regularizer/constraint is a custom callable cannot be
/// rebuilt: an Error naming the layer and the argument, and nothing is written.
void save(const layers::Layer& model, const std::string& path, Archive archive = Archive::automatic);

/// Rebuilds a model saved by `save` (or the model of a checkpoint) with no code describing it.
std::shared_ptr<layers::Layer> load(const std::string& path);

/// Loads the weights of a file into an already-built `model`: the architecture must match
/// (class names, weight count, weight names and shapes), otherwise an Error naming the layer.
void load_weights(layers::Layer& model, const std::string& path);

/// Checkpoint: model + optimizer state (slots, iterations, schedule) + random state (the global
/// seed, the op-seed counter and each layer's own stream, e.g. Dropout's masks), so training
/// resumed from it is bit-identical to training that never stopped.
void save_checkpoint(const layers::Layer& model, const optim::Optimizer& optimizer,
                     const std::string& path, Archive archive = Archive::automatic);
/// Loads the weights into `model` (as `load_weights`), the optimizer state into `optimizer`
/// and restores the random state (files of format version 0 restore the global seed only).
void load_checkpoint(layers::Layer& model, optim::Optimizer& optimizer, const std::string& path);

/// What a file holds, for tools (`inspect_model`): the rebuilt model and the checkpoint parts.
struct FileInfo {
  int format_version = 0;
  Archive archive = Archive::binary;
  std::shared_ptr<layers::Layer> model;
  bool has_optimizer = false;
  std::string optimizer_class;
  std::optional<std::uint64_t> random_seed;
  bool has_random_state = false;
};
FileInfo inspect(const std::string& path);

namespace detail {
/// Test hook: the next writes fail (Error) after `bytes` bytes of the temporary file are
/// written; `std::nullopt` disables it.
void set_write_failure_after(std::optional<std::size_t> bytes);
/// Largest single tensor (bytes) a model rebuild may allocate while loading (default 2 GiB); a
/// corrupt configuration that needs more is an Error. The fuzzer lowers it.
void set_rebuild_tensor_limit(std::size_t bytes);
/// Parses a whole file image (header + payload) and rebuilds the model; used by `load` and by
/// the fuzzer. `verify_checksum=false` lets a fuzzer reach the payload parser.
FileInfo parse(const std::string& bytes, bool verify_checksum = true);
}  // namespace detail

}  // namespace tapeflow::serialization
