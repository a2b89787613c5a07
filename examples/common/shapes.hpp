#pragma once
/// Synthetic 3-D shapes for the voxel examples: solid spheres, boxes and tori at random sizes,
/// positions (and, for tori, orientations) in an `n^3` grid.
///
/// Example:
/// ```
/// std::mt19937 rng(1);
/// tapeflow::Tensor v = examples::make_shapes(8, 32, rng);   // (8, 32, 32, 32, 1), 0 or 1
/// ```
#include <cstddef>
#include <functional>
#include <random>
#include <string>
#include <tapeflow.hpp>
#include <vector>

#include "image.hpp"

namespace examples {

/// `batch` volumes of shape (batch, n, n, n, 1), channels_last, voxels 0 or 1, one shape each
/// (kind chosen uniformly). n >= 8.
tapeflow::Tensor make_shapes(std::size_t batch, std::size_t n, std::mt19937& rng);

/// Mean over the batch of intersection-over-union of `pred > threshold` with `target > 0.5`
/// (an empty union counts as 1).
double mean_iou(const tapeflow::Tensor& target, const tapeflow::Tensor& pred,
                float threshold = 0.5f);

/// One column of a slice picture: its title (12-pixel text above it) and the color of voxel
/// (z, y, x) of volume `b`.
struct SliceColumn {
  std::string title;
  std::function<Rgb(std::size_t b, std::size_t z, std::size_t y, std::size_t x)> color;
};

/// A picture of the first `rows` volumes, one row each and one panel per column: the z slice
/// where `guide` (batch, n, n, n, 1) has the most voxels > 0.5, each voxel colored by the column.
Canvas slice_columns(const tapeflow::Tensor& guide, const std::vector<SliceColumn>& columns,
                     std::size_t rows);

/// A value in [0, 1] (clipped) as gray: 0 white, 1 near black.
Rgb gray(float v);
/// A voxel's error color: black right voxel, white right background, red extra, blue missed.
Rgb error_color(bool target, bool predicted);

/// A picture of `rows` volumes: for each, the z slice with the most voxels of `x`, shown as
/// input (`x`), reconstruction (`y`, probabilities in gray) and error (red: extra, blue: missed).
Canvas slice_grid(const tapeflow::Tensor& x, const tapeflow::Tensor& y, std::size_t rows);

}  // namespace examples
