#pragma once
/// Winograd's minimal filtering F(2x2x2, 3x3x3) (Lavin & Gray, "Fast Algorithms for
/// Convolutional Neural Networks", 2016) for the 3x3x3 unit-stride convolutions of a 3-D U-Net
/// and their input gradients. The direct kernel (direct_conv.hpp) runs near the processor's
/// multiply-add peak there; this one needs 64 multiplies per 2x2x2 output tile and channel pair
/// instead of 8 * 27 = 216:
///
/// - The kernel is transformed once per call, U = G g G^T along each axis (64 values per input
///   and output channel).
/// - The output is cut into 2x2x2 tiles; for a block of tiles, each tile's 4x4x4 input patch is
///   transformed, V = B^T d B (zeros outside the image: the padding), vectorized over input
///   channels.
/// - For each of the 64 transformed positions, M = V U: a (tiles x Ci) by (Ci x Co) product in
///   the same 6 x 16 register tile as the direct kernel.
/// - Each tile's output is A^T M A (plus the bias), written where it lies inside the grid.
/// Blocks are split over threads; each holds its V and M (sized to stay in the L2 cache).
/// Rounding differs from the direct sum (transforms add and subtract inputs first): the results
/// agree with it to about 1e-6 relative.
#include "tapeflow/framework/kernels/conv_kernels.hpp"

namespace tapeflow::kernels {

/// True when `g` is a 3-D convolution with a 3x3x3 kernel, unit strides and dilation, one group,
/// input channels a multiple of 8 and output channels a multiple of 16, on a processor with AVX2
/// + FMA, and the Winograd kernel is enabled.
bool winograd_conv_applies(const ConvGeometry& g);

/// `grid = conv(image, kernel) (+ bias)`, as `conv_forward`; requires `winograd_conv_applies(g)`.
void winograd_conv_forward(const ConvGeometry& g, const float* image, const float* kernel,
                           float* grid, const float* bias);

/// Turns the Winograd kernel off (the direct kernel then runs) or back on (the default), for
/// tests that compare them and benchmarks that time them. Example: `set_winograd_conv(false);`
void set_winograd_conv(bool enabled);
bool winograd_conv_enabled();

}  // namespace tapeflow::kernels
