#pragma once
/// Training checkpoints: a model file (layers/saving.hpp) that also holds the optimizer state
/// (slots, iterations, schedule) and the random state (the global seed, the op-seed counter and
/// each layer's own stream, e.g. Dropout's masks), so that training resumed from it is
/// bit-identical to training that never stopped. `load` and `inspect` read a checkpoint's model.
///
/// Errors: a file problem is a `FileError`, a model that does not fit the file's weights a
/// `ShapeError`, a file without optimizer state or with another optimizer's a `ValueError`.
///
/// Example:
/// ```
/// namespace S = tapeflow::serialization;
/// S::save_checkpoint(model, optimizer, "ckpt.bin");
/// ...  // later, perhaps in another process, with the same model and optimizer built anew:
/// S::load_checkpoint(model, optimizer, "ckpt.bin");
/// ```
#include <string>

#include "tapeflow/framework/io/archive_kind.hpp"
#include "tapeflow/layers/layer.hpp"
#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::serialization {

/// Saves `model` (as `save`), `optimizer`'s state and the random state to `path`, atomically.
/// Example: `save_checkpoint(model, adam, "ckpt.xml");   // XML by extension`
void save_checkpoint(const layers::Layer& model, const optim::Optimizer& optimizer,
                     const std::string& path, Archive archive = Archive::automatic);

/// Loads the weights into `model` (as `load_weights`), the optimizer state into `optimizer`
/// (which must be of the saved class) and restores the random state (files of format version 0
/// restore the global seed only).
/// Example: `load_checkpoint(model, adam, "ckpt.xml");`
void load_checkpoint(layers::Layer& model, optim::Optimizer& optimizer, const std::string& path);

}  // namespace tapeflow::serialization
