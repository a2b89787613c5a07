#pragma once
/// Case types of the layer zoo's TensorFlow reference cases (`tests/data/tfjs`, see its
/// README): each claims the cases whose `config.txt` names its Keras class in `layer=`.
#include <vector>

#include "conformance/golden.hpp"

namespace tapeflow::golden {

/// Conv2D, Conv3D, Conv2DTranspose, MaxPooling2D/3D, AveragePooling2D/3D, BatchNormalization,
/// Dense, SimpleRNN, LSTM, GRU and Bidirectional: build the layer from the config with the
/// case's weights, run it on x.npy (BatchNormalization in the mode of `training=`; with the
/// case's mask.npy when it has one), then check y, every gradient of `sum(y * gy)` the case
/// holds (gx, gkernel, gbias, ggamma, gbeta, grecurrent_kernel, ...) and, after a training
/// BatchNormalization call, the moving statistics (new_moving_mean, new_moving_variance).
/// Tried before `default_case_types()`, whose Conv3DTranspose type claims any case with
/// `filters`.
std::vector<CaseType> zoo_case_types();

}  // namespace tapeflow::golden
