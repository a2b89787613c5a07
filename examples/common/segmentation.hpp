#pragma once
/// Synthetic volumetric segmentation data for the U-Net example: each volume holds one shape of
/// `make_shapes` (the label) among clutter (small blobs and single bright voxels that are not
/// part of the label), all under Gaussian noise; plus the overlap scores and a slice picture.
///
/// The clutter is as bright as the shape, so no threshold on the intensity finds the shape: a
/// model must tell it by its size and extent, which needs the context a U-Net gathers.
///
/// Example:
/// ```
/// std::mt19937 rng(1);
/// examples::SegmentationBatch b = examples::make_segmentation_batch(4, 24, rng);
/// // b.volume: (4, 24, 24, 24, 1) noisy intensities; b.label: same shape, 0 or 1
/// double dice = examples::mean_dice(b.label, prediction);
/// ```
#include <cstddef>
#include <random>
#include <tapeflow.hpp>

#include "image.hpp"

namespace examples {

/// How hard the volumes are.
struct SegmentationNoise {
  /// Standard deviation of the Gaussian noise added to every voxel (shape and clutter are about
  /// 0.6..1 bright, the background 0).
  float sigma = 0.3f;
  /// Clutter blobs per volume (radius 0.6..1.6 voxels: from one voxel to a small ball), each
  /// kept at least a voxel away from the shape so that it never joins it.
  int clutter = 12;
};

/// A batch of inputs and their labels, both (batch, n, n, n, 1), channels_last.
struct SegmentationBatch {
  tapeflow::Tensor volume;  ///< noisy intensities
  tapeflow::Tensor label;   ///< 1 on the shape's voxels, 0 elsewhere (clutter included)
};

/// `batch` volumes of `n^3` voxels (n >= 8), drawn from `rng` alone: the same seed gives the
/// same batch.
SegmentationBatch make_segmentation_batch(std::size_t batch, std::size_t n, std::mt19937& rng,
                                          const SegmentationNoise& noise = {});

/// Mean over the batch of the Dice coefficient `2 |T and P| / (|T| + |P|)` of `pred > threshold`
/// with `target > 0.5` (both empty counts as 1). With IoU J, Dice = 2J / (1 + J) per volume.
double mean_dice(const tapeflow::Tensor& target, const tapeflow::Tensor& pred,
                 float threshold = 0.5f);

/// A picture of the first `rows` volumes through each label's fullest z slice: the input, the
/// label, the prediction (probabilities in gray) and the error (red: extra, blue: missed).
Canvas segmentation_slices(const SegmentationBatch& data, const tapeflow::Tensor& pred,
                           std::size_t rows);

}  // namespace examples
