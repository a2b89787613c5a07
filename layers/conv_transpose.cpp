#include "tapeflow/layers/conv_transpose.hpp"

namespace tapeflow::layers {

// The layer logic lives in ConvBase<N> (layers/conv.cpp); the templates are instantiated once
// here so that users of the header do not compile them again. Rank 3 is there for a
// Conv3DTranspose built on the same template.
template class ConvNDTranspose<1>;
template class ConvNDTranspose<2>;
template class ConvNDTranspose<3>;

}  // namespace tapeflow::layers
