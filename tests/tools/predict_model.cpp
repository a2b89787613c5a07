// `predict_model MODEL INPUT.npy OUTPUT.npy`: loads a saved model (tapeflow::serialization::load),
// runs it in inference mode on the float32 tensor of INPUT.npy and writes its output, float32, to
// OUTPUT.npy; exits 0. Any problem (a missing, corrupt or foreign model file, an unreadable input,
// a model that does not take the input) prints one line starting with "error:" to stderr and
// exits 1. tests/layers/test_model.cpp runs it to check that a model saved in one process
// predicts the same in another.
#include <exception>
#include <iostream>
#include <string>
#include <xtensor/xarray.hpp>
#include <xtensor/xnpy.hpp>

#include "tapeflow/framework/core/variable.hpp"
#include "tapeflow/layers/saving.hpp"

namespace {

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "error: usage: predict_model MODEL INPUT.npy OUTPUT.npy\n";
    return 1;
  }
  try {
    std::shared_ptr<tapeflow::layers::Layer> model = tapeflow::serialization::load(argv[1]);
    const tapeflow::Tensor x = xt::load_npy<float>(argv[2]);
    const tapeflow::Variable y = (*model)(tapeflow::Variable(x), /*training=*/false);
    xt::dump_npy(argv[3], xt::xarray<float>(y.value()));
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << one_line(e.what()) << "\n";
    return 1;
  }
}
