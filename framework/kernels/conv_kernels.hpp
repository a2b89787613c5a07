#pragma once
/// Convolution kernels shared by every conv layer (1 to 3 spatial axes, forward and transposed):
/// `vol2col` / `col2vol` over channels_last data plus GEMMs through `gemm::sgemm`, except where
/// `direct_conv_applies` (unit strides on AVX2, direct_conv.hpp): there `conv_forward` and
/// `conv_kernel_grad` run the direct kernels, with no column buffer.
///
/// Everything is described from the point of view of the ordinary (strided) convolution: the
/// `image` is its input, the `grid` its output. A transposed convolution maps a grid back onto
/// an image (the adjoint), so one geometry serves both directions:
/// `grid[p] = sum_t image[p * stride + t * dilation - pad_before] . kernel[t]`.
///
/// No zeros are ever inserted. Work is done in slabs of grid positions so that the column buffer
/// stays under `conv_workspace_limit()` bytes whatever the batch and volume.
#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "tapeflow/framework/kernels/workspace.hpp"

namespace tapeflow::kernels {

/// Shape of one convolution, channels_last, batch included. The per-axis arrays are
/// right-aligned: a 2-D conv uses entries 1 and 2, a 1-D conv entry 2; the unused leading
/// entries are 1 (pad 0), so the kernels always run one 3-D loop. `pad_after` is implied: `(grid -
/// 1) * stride + dilated_kernel - pad_before - image`; it may be negative (trailing image positions
/// no tap reaches), which is how TF's `valid` transposed output with stride > kernel is expressed.
///
/// Example (a 2-D 3x3 "same" conv, 8x8 image, 16 -> 32 channels, batch 4):
/// ```
/// auto g = tapeflow::kernels::ConvGeometry::forward(2, 4, {8, 8}, 16, 32, {3, 3}, {1, 1},
///                                                   {1, 1}, {1, 1}, {1, 1});
/// ```
struct ConvGeometry {
  std::size_t rank = 0;  ///< spatial axes, 1 to 3
  std::size_t batch = 0;
  std::size_t image_channels = 0;  ///< conv input channels = conv-transpose output channels
  std::size_t grid_channels = 0;   ///< conv output channels = conv-transpose input channels
  std::array<std::size_t, 3> image{1, 1, 1};
  std::array<std::size_t, 3> grid{1, 1, 1};
  std::array<std::size_t, 3> kernel{1, 1, 1};
  std::array<std::size_t, 3> stride{1, 1, 1};
  std::array<std::size_t, 3> dilation{1, 1, 1};
  std::array<long, 3> pad_before{0, 0, 0};
  /// Grouped convolution (Keras `groups`): the image channels and the grid channels are each
  /// split into `groups` contiguous blocks, and grid block `i` sees image block `i` only. The
  /// kernel is then `(k..., image_channels / groups, grid_channels)`. 1: an ordinary
  /// convolution. Set it with `with_groups`.
  std::size_t groups = 1;

  /// Geometry of an ordinary convolution: the grid size follows from the padded image,
  /// `floor((image + before + after - dilated_kernel) / stride) + 1` (an Error naming `where`
  /// when that is < 1).
  static ConvGeometry forward(std::size_t rank, std::size_t batch,
                              const std::vector<std::size_t>& image, std::size_t image_channels,
                              std::size_t grid_channels, const std::vector<std::size_t>& kernel,
                              const std::vector<std::size_t>& stride,
                              const std::vector<std::size_t>& dilation,
                              const std::vector<long>& pad_before,
                              const std::vector<long>& pad_after,
                              const std::string& where = "conv");
  /// Geometry given both sizes and the leading padding (what a transposed convolution knows).
  static ConvGeometry explicit_sizes(
      std::size_t rank, std::size_t batch, const std::vector<std::size_t>& image,
      std::size_t image_channels, const std::vector<std::size_t>& grid, std::size_t grid_channels,
      const std::vector<std::size_t>& kernel, const std::vector<std::size_t>& stride,
      const std::vector<std::size_t>& dilation, const std::vector<long>& pad_before,
      const std::string& where = "conv_transpose");

  /// A copy with `groups` set: an Error naming `where` unless it is at least 1 and divides both
  /// channel counts.
  /// Example: `auto dw = ConvGeometry::forward(2, 1, {8, 8}, 16, 16, ...).with_groups(16);`
  ConvGeometry with_groups(std::size_t groups, const std::string& where = "conv") const;
  /// Image and grid channels of one group.
  std::size_t group_image_channels() const { return image_channels / groups; }
  std::size_t group_grid_channels() const { return grid_channels / groups; }

  std::size_t taps() const { return kernel[0] * kernel[1] * kernel[2]; }
  /// Columns of the column matrix: `taps * image_channels` (all groups together; one group's
  /// block has `taps * group_image_channels()`).
  std::size_t col_width() const { return taps() * image_channels; }
  std::size_t grid_positions() const { return batch * grid[0] * grid[1] * grid[2]; }
  std::size_t image_positions() const { return batch * image[0] * image[1] * image[2]; }
  std::size_t dilated_kernel(std::size_t axis) const {
    return dilation[axis] * (kernel[axis] - 1) + 1;
  }
  long pad_after(std::size_t axis) const;
  /// The kernel size as a flat matrix `[taps * group_image_channels(), grid_channels]`: TF's
  /// conv layout `(k..., in / groups, out)` and conv-transpose layout `(k..., filters, in)`
  /// alike.
  std::size_t kernel_size() const { return taps() * group_image_channels() * grid_channels; }
  /// True when the column matrix is the image itself (1x1 kernel, unit stride, no padding).
  bool identity_cols() const;
  /// Throws an Error naming `where` when a size is zero or the rank is not 1 to 3.
  void validate(const std::string& where) const;
  /// "rank=3 batch=8 image=(16,16,16)x64 grid=(8,8,8)x128 kernel=(4,4,4) ..." for messages.
  std::string str() const;
};

/// `cols[p - p0, (t, c)] = image[p * stride + t * dilation - pad_before, c]` (0 outside) for
/// the grid positions `p0 <= p < p1` (batch-major flattening). `cols` has `col_width()`
/// columns.
void vol2col(const ConvGeometry& g, const float* image, std::size_t p0, std::size_t p1,
             float* cols);
/// The adjoint of `vol2col`: adds each column entry into the image position it was read from.
void col2vol(const ConvGeometry& g, const float* cols, std::size_t p0, std::size_t p1,
             float* image);

/// Every function below also takes a grouped geometry (`groups > 1`): per slab, one vol2col
/// pass writes each group's column block, then one GEMM per group reads its block and its
/// columns of the kernel (the transposed direction: one GEMM per group, then one scatter-add of
/// every group's block). With one input channel per group (depthwise) the ungrouped columns
/// are used as they are, with a multiply-add over each row instead of the (too thin) GEMMs.
/// `groups == 1` runs the ungrouped code unchanged.
///
/// `grid = conv(image, kernel) (+ bias)`: vol2col per slab, then one GEMM per slab (or the
/// direct kernel). `bias`
/// (`grid_channels` values, or null for none) is added to each slab while it is in cache.
void conv_forward(const ConvGeometry& g, const float* image, const float* kernel, float* grid,
                  const float* bias = nullptr);
/// `image = conv_transpose(grid, kernel) (+ bias)` (overwrites `image`; `bias` has
/// `image_channels` values, or null). Unit strides: an ordinary conv with the flipped kernel.
/// Otherwise, when the batch has at least as many image depth planes as threads, each thread
/// owns a range of planes and runs GEMMs `grid * kernel^T` into a cache-sized tile that it
/// scatters straight into its planes (bias included); else one GEMM per slab into a column
/// buffer, then `col2vol`.
void conv_transpose_forward(const ConvGeometry& g, const float* grid, const float* kernel,
                            float* image, const float* bias = nullptr);
/// `gkernel (+)= vol2col(image)^T * grid`, the kernel gradient of both directions.
void conv_kernel_grad(const ConvGeometry& g, const float* image, const float* grid, float* gkernel,
                      bool accumulate = false);
/// Both of the above on one `vol2col(image)` buffer per slab, the backward of a transposed
/// convolution: `grid_out = conv(image, kernel)` (skipped when null) and
/// `gkernel = vol2col(image)^T * grid_in` (skipped when null).
void conv_forward_and_kernel_grad(const ConvGeometry& g, const float* image, const float* kernel,
                                  float* grid_out, const float* grid_in, float* gkernel);

}  // namespace tapeflow::kernels
