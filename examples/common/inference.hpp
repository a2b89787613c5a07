#pragma once
/// Inference over a data set too large for one call.
///
/// Example:
/// ```
/// tapeflow::Tensor y = examples::predict_in_batches(model, x, 8);   // x: (N, ...), y: (N, ...)
/// ```
#include <cstddef>
#include <tapeflow.hpp>

namespace examples {

/// Runs `model` in inference mode (`training=false`) on `x` (batch axis first), `batch` samples
/// per call so that only one batch's activations are held at a time, and joins the outputs
/// along the batch axis.
tapeflow::Tensor predict_in_batches(tapeflow::layers::Layer& model, const tapeflow::Tensor& x,
                                    std::size_t batch);

}  // namespace examples
