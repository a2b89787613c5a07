#include "tapeflow/layers/conv_transpose.hpp"

#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

// The layer logic lives in ConvBase (layers/conv.cpp, which also instantiates it for these
// options); the templates are instantiated once here so that users of the header do not compile
// them again.
template class ConvNDTranspose<1>;
template class ConvNDTranspose<2>;
template class ConvNDTranspose<3>;

TAPEFLOW_REGISTER_LAYER(Conv1DTranspose)
TAPEFLOW_REGISTER_LAYER(Conv2DTranspose)
TAPEFLOW_REGISTER_LAYER(Conv3DTranspose)

}  // namespace tapeflow::layers
