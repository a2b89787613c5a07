#include "unet.hpp"

#include <vector>

namespace tf = tapeflow;
namespace L = tapeflow::layers;

namespace examples {

namespace {
// Conv3D (3x3x3, "same") + BatchNormalization + ReLU, twice. The convolutions need no bias: the
// normalization's beta takes its place. Momentum 0.9 (not Keras' 0.99) lets the moving
// statistics that inference uses settle within a short run.
tf::SymbolicTensor conv_block(tf::SymbolicTensor x, long filters) {
  for (int k = 0; k < 2; ++k) {
    x = L::Conv3D(L::Conv3DOptions(filters, 3).padding("same").use_bias(false))(x);
    x = L::BatchNormalization(L::BatchNormalizationOptions().momentum(0.9f))(x);
    x = L::Activation(L::ActivationOptions("relu"))(x);
  }
  return x;
}
}  // namespace

// Two levels down (n -> n/2 -> n/4, channels doubling), two up. Each upsampled tensor is
// concatenated with the encoder's tensor at its resolution: the decoder sees both the context
// (is this a shape or clutter?) and the fine detail (where exactly is its boundary?).
std::shared_ptr<tf::Model> build_unet(const tf::Shape& volume_shape, long ch) {
  std::vector<long> dims(volume_shape.begin(), volume_shape.end());
  tf::SymbolicTensor inputs = tf::Input(dims, "volume");
  auto d1 = conv_block(inputs, ch);                                                  // n
  auto d2 = conv_block(L::MaxPooling3D(L::MaxPooling3DOptions(2))(d1), 2 * ch);      // n/2
  auto bottom = conv_block(L::MaxPooling3D(L::MaxPooling3DOptions(2))(d2), 4 * ch);  // n/4
  auto u2 = L::Conv3DTranspose(L::Conv3DTransposeOptions(2 * ch, 2).strides(2))(bottom);
  auto e2 = conv_block(L::Concatenate()({u2, d2}), 2 * ch);  // n/2
  auto u1 = L::Conv3DTranspose(L::Conv3DTransposeOptions(ch, 2).strides(2))(e2);
  auto e1 = conv_block(L::Concatenate()({u1, d1}), ch);  // n
  auto outputs = L::Conv3D(L::Conv3DOptions(1, 1).activation("sigmoid").name("mask"))(e1);
  return std::make_shared<tf::Model>(inputs, outputs, "unet3d");
}

}  // namespace examples
