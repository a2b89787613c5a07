#pragma once
/// Saving and loading models: the architecture (class names, configs, build shapes) and the
/// weights, in one file that rebuilds the model with no code describing it (Keras
/// `model.save` / `load_model` / `load_weights`). Training checkpoints, which add the optimizer
/// and random state to the same file format, are in optim/checkpoint.hpp.
///
/// A path ending in `.json` is the TensorFlow.js Layers format instead (`model.json` +
/// `weights.bin`, readable by TF.js and Keras' converter: layers/tfjs_format.hpp); every other
/// path is tapeflow's own file. A file is a header line (framework/io/file_header.hpp) and a Boost
/// binary, text or XML archive of the model's records (framework/io/detail/bounded_archive.hpp
/// bounds every length field by the payload size). Writes are atomic
/// (framework/io/atomic_file.hpp).
///
/// Errors: every problem with the file (missing, unreadable, empty, truncated, corrupted,
/// foreign, newer, or a model it describes that cannot be rebuilt) is a `FileError`; a model
/// whose architecture does not fit the file's weights in `load_weights` is a `ShapeError`; a
/// model that cannot be saved (a custom callable initializer, say) is a `ValueError`.
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
#include <memory>
#include <optional>
#include <string>

#include "tapeflow/framework/io/archive_kind.hpp"
#include "tapeflow/framework/io/file_header.hpp"
#include "tapeflow/framework/runtime/random.hpp"
#include "tapeflow/layers/layer.hpp"

namespace tapeflow::serialization {

/// Saves `model` (any layer; Sequential recursively): class names, configs, build shapes and
/// weights. A layer whose initializer/regularizer/constraint is a custom callable cannot be
/// rebuilt: a `ValueError` naming the layer and the argument, and nothing is written.
/// Example: `save(model, "model.bin");`, or `save(model, "model.dat", Archive::text);`
void save(const layers::Layer& model, const std::string& path,
          Archive archive = Archive::automatic);

/// Rebuilds a model saved by `save` (or the model of a checkpoint) with no code describing it.
/// Example: `std::shared_ptr<layers::Layer> model = load("model.bin");`
std::shared_ptr<layers::Layer> load(const std::string& path);

/// Loads the weights of a file into `model` (built like the file's model first if it is not
/// built yet): the architecture must match (layer classes and count, weight count, weight names
/// and shapes), otherwise a `ShapeError` naming the layer.
/// Example: `load_weights(model, "model.bin");`
void load_weights(layers::Layer& model, const std::string& path);

/// What a file holds, for tools (`inspect_model`): the rebuilt model and the checkpoint parts.
/// Example: `if (inspect(path).has_optimizer) std::cout << "a checkpoint\n";`
struct FileInfo {
  int format_version = 0;
  Archive archive = Archive::binary;
  std::shared_ptr<layers::Layer> model;
  bool has_optimizer = false;
  std::string optimizer_class;
  std::optional<std::uint64_t> random_seed;
  bool has_random_state = false;
};
/// Reads and describes the file at `path` (model or checkpoint).
/// Example: `FileInfo info = inspect("ckpt.bin"); std::cout << info.model->count_params();`
FileInfo inspect(const std::string& path);

namespace detail {

/// Largest single tensor (bytes) a model rebuild may allocate while loading (default 2 GiB); a
/// corrupt configuration that needs more is a `FileError`. The fuzzer lowers it.
/// Example: `detail::set_rebuild_tensor_limit(std::size_t(4) << 20);`
void set_rebuild_tensor_limit(std::size_t bytes);

/// Parses a whole file image (header + payload) and rebuilds the model; used by `load` and by
/// the fuzzer. `verify_checksum=false` lets a fuzzer reach the payload parser.
/// Example: `FileInfo info = detail::parse(bytes, /*verify_checksum=*/false);`
FileInfo parse(const std::string& bytes, bool verify_checksum = true);

// ---- for optim/checkpoint.cpp: the file beyond the model ---------------------------------

/// What a checkpoint stores besides the model; a model file has none of it (all false/empty).
/// Example: `TrainingState t; t.has_random_state = true; t.random = get_random_state();`
struct TrainingState {
  bool has_optimizer = false;
  std::string optimizer_class;  ///< `Optimizer::name()`
  std::string optimizer_state;  ///< a Boost binary archive of `Optimizer::save_state`
  /// The global random state; true also means each layer's own random stream (e.g. Dropout's
  /// masks) is in the file. Files of format version 0 hold the global seed only.
  bool has_random_state = false;
  RandomState random;
};

/// Writes `model` and `training` to `path` atomically; when `training.has_random_state`, with
/// each layer's random stream. `op` starts the messages of file errors ("<op>: '<path>': ...").
/// Example: `write_model_file(model, state, "ckpt.bin", Archive::binary, "save_checkpoint");`
void write_model_file(const layers::Layer& model, const TrainingState& training,
                      const std::string& path, Archive archive, const std::string& op);

struct LayerRecord;  // the file's record of one layer (saving.cpp)

/// A model file read and checked (header, checksum, payload) but not yet turned into a model:
/// what `load`, `load_weights`, `inspect` and the checkpoint loader share.
/// Example:
/// ```
/// ModelFile file = ModelFile::read("ckpt.bin", "load_checkpoint");
/// if (file.training_state().has_optimizer) file.load_weights_into(model);
/// ```
class ModelFile {
 public:
  /// Reads and checks `path`: any problem is a `FileError("<op>: '<path>': ...")`.
  static ModelFile read(const std::string& path, const std::string& op);
  /// The same for a file image in memory; errors start with `where`.
  static ModelFile parse(const std::string& image, bool verify_checksum, const std::string& where);

  int format_version() const { return format_version_; }
  Archive archive() const { return archive_; }
  const TrainingState& training_state() const { return training_; }

  /// A new model as the file describes it, built and with its weights. Any failure is a
  /// `FileError`: the file alone describes the model, so one that cannot be rebuilt is corrupt
  /// (or needs a layer class this build does not know).
  std::shared_ptr<layers::Layer> rebuild() const;
  /// `load_weights` into `model`: builds it like the file's model if it is not built, then
  /// checks the architecture (`ShapeError` if it differs) and assigns the weights.
  void load_weights_into(layers::Layer& model) const;
  /// Gives each layer of `model` its random stream from the file (empty: it starts afresh). A
  /// malformed stream is a `FileError`. Call after `load_weights_into`.
  void restore_random_streams(layers::Layer& model) const;

 private:
  ModelFile() = default;
  std::string where_;  // "<op>: '<path>'", the start of every error message
  int format_version_ = 0;
  Archive archive_ = Archive::binary;
  TrainingState training_;
  std::shared_ptr<const LayerRecord> model_;
};

}  // namespace detail

}  // namespace tapeflow::serialization
