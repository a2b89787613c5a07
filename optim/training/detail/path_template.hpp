#pragma once
/// Keras' checkpoint path templates: Python's `str.format` fields, `{name}` or `{name:spec}`,
/// filled from the epoch (counted from 1, as Keras names files), the batch and the logs.
/// `spec` is `[0][width][.precision][type]` with type `d`, `f`, `e`, `g` or none (an integer
/// as is, a number as its shortest text); `{{` and `}}` are literal braces.
///
/// Example:
/// ```
/// Logs logs; logs.set("val_loss", 0.1234);
/// format_path("ckpt-{epoch:02d}-{val_loss:.2f}.tfw", {{"epoch", 3}}, logs, "ModelCheckpoint");
/// // "ckpt-03-0.12.tfw"
/// ```
#include <string>
#include <utility>
#include <vector>

#include "tapeflow/optim/training/logs.hpp"

namespace tapeflow::training::detail {

/// Errors (a ValueError starting with `where`): a field that names neither an integer nor a
/// log (listing what there is), an unclosed `{`, a lone `}`, a spec it cannot read.
std::string format_path(const std::string& path_template,
                        const std::vector<std::pair<std::string, long long>>& integers,
                        const Logs& logs, const std::string& where);

}  // namespace tapeflow::training::detail
