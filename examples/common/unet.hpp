#pragma once
/// The 3-D U-Net of the segmentation example, as a functional `Model`: two levels down
/// (Conv3D + BatchNormalization + ReLU blocks, MaxPooling3D halving the resolution), two up
/// (Conv3DTranspose with strides 2 doubling it, Concatenate with the block of the same
/// resolution: the skip connections that keep a shape's boundary sharp), and a 1x1x1 Conv3D
/// with a sigmoid: the probability that a voxel belongs to the shape. bench/unet_bench times the
/// same model against libtorch.
///
/// Example:
/// ```
/// std::shared_ptr<tapeflow::Model> model = examples::build_unet({32, 32, 32, 1}, 16);
/// // levels of 16, 32 and 64 channels; each side of the volume a multiple of 4
/// ```
#include <memory>
#include <tapeflow.hpp>

namespace examples {

/// The U-Net for volumes of `volume_shape` (depth, height, width, channels; each side a
/// multiple of 4), `channels` filters at the top level, doubling at each level down.
std::shared_ptr<tapeflow::Model> build_unet(const tapeflow::Shape& volume_shape, long channels);

}  // namespace examples
