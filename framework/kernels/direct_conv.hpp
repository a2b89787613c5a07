#pragma once
/// The direct (implicit-GEMM) convolution of unit-stride geometries: every U-Net `Conv3D`, its
/// input gradient and every unit-stride `Conv3DTranspose`. vol2col + GEMM writes a column buffer
/// of `taps * channels` floats per output position through memory and then runs a GEMM whose N
/// is the (small) number of output channels; here the output tile stays in registers while the
/// kernel walks the taps straight over a zero-padded copy of the input:
///
/// - The input is copied, one depth slab at a time, into a buffer padded on every side, so that
///   a tap of any output position is a fixed offset from that position. With unit strides the
///   positions of one output row are consecutive there, one row apart.
/// - Forward: a tile of up to 6 output positions x 16 output channels (12 AVX2 accumulators)
///   runs over every tap and input channel: per step, 2 loads of the packed kernel, 6 broadcasts
///   of the input and 12 fused multiply-adds. The bias is the accumulators' start.
/// - Kernel gradient: a tile of up to 6 kernel rows x 16 output channels runs over the positions
///   of a stretch of output rows; each thread sums its own rows into its own copy of the
///   gradient and the copies are added in thread order, so the result depends on the thread
///   count only, never on timing.
///
/// The caller (conv_kernels.cpp) falls back to vol2col + GEMM when `direct_conv_applies` is
/// false: strides, groups, 1x1 kernels that need no columns, a processor without AVX2, or a
/// single padded depth plane over the workspace limit.
#include "tapeflow/framework/kernels/conv_kernels.hpp"

namespace tapeflow::kernels {

/// True when `g` has unit strides, one group, needs columns (not a plain 1x1 product), the
/// processor has AVX2 + FMA, the direct kernels are enabled, and one padded input plane fits
/// `conv_workspace_limit()`.
bool direct_conv_applies(const ConvGeometry& g);

/// `grid = conv(image, kernel) (+ bias)`, as `conv_forward`; requires `direct_conv_applies(g)`.
void direct_conv_forward(const ConvGeometry& g, const float* image, const float* kernel,
                         float* grid, const float* bias);
/// `gkernel (+)= the kernel gradient of conv(image, .)` for output gradient `grid`, as
/// `conv_kernel_grad`; requires `direct_conv_applies(g)`.
void direct_conv_kernel_grad(const ConvGeometry& g, const float* image, const float* grid,
                             float* gkernel, bool accumulate);

/// Turns the direct kernels off (vol2col + GEMM everywhere) or back on (the default), for tests
/// that compare the two and benchmarks that time them. Example: `set_direct_conv(false);`
void set_direct_conv(bool enabled);
bool direct_conv_enabled();

}  // namespace tapeflow::kernels
