#pragma once
/// TF1's functional form `tf.layers.conv3d_transpose`. The layer `Conv3DTranspose` and its
/// options are the 3-D member of the transposed convolution family (layers/conv_transpose.hpp,
/// included here so that this header keeps giving both).
#include <memory>
#include <vector>

#include "tapeflow/layers/conv_transpose.hpp"

namespace tapeflow::layers {

/// TF1's functional form `tf.layers.conv3d_transpose(inputs, filters, kernel_size, ...)`: builds
/// a `Conv3DTranspose` from `options` with these `filters` and `kernel_size`, applies it to
/// `inputs` and returns the output. The layer is owned by its graph (the default graph at the
/// call), as a TF1 graph owns its layers: its variables and losses stay in the graph's
/// collections while the graph lives, and the layer is freed with the graph
/// (`reset_default_graph()` frees the default one's). Each call makes a new layer with new
/// variables (TF1 without `reuse`). Errors as the layer's.
///
/// Example:
/// ```
/// auto y = tapeflow::layers::conv3d_transpose(x, 8, {3, 3, 3},
///     tapeflow::layers::Conv3DTransposeOptions().strides(2).padding("same"));
/// ```
Variable conv3d_transpose(const Variable& inputs, long filters,
                          const std::vector<long>& kernel_size,
                          const Conv3DTransposeOptions& options = {});
Variable conv3d_transpose(const Variable& inputs, long filters, long kernel_size,
                          const Conv3DTransposeOptions& options = {});

/// The layers created by the functional forms whose graphs are alive (oldest first), for
/// inspection. A returned pointer keeps its layer alive, not the layer's graph: once the graph
/// is gone, use the layer's weights only (`get_weights()`), not its graph.
std::vector<std::shared_ptr<Layer>> functional_layers();

}  // namespace tapeflow::layers
