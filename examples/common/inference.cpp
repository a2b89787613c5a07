#include "inference.hpp"

#include <algorithm>
#include <xtensor/xview.hpp>

namespace examples {

tapeflow::Tensor predict_in_batches(tapeflow::layers::Layer& model, const tapeflow::Tensor& x,
                                    std::size_t batch) {
  const std::size_t n = x.shape()[0];
  batch = std::max<std::size_t>(batch, 1);
  tapeflow::Tensor out;
  std::size_t per = 0;
  for (std::size_t b0 = 0; b0 < n; b0 += batch) {
    std::size_t b1 = std::min(n, b0 + batch);
    tapeflow::Tensor part = xt::view(x, xt::range(b0, b1));
    tapeflow::Tensor y = model(tapeflow::Variable(part), /*training=*/false).value();
    if (b0 == 0) {
      // The output's sample shape is the model's business (not always the input's).
      tapeflow::Shape shape(y.shape().begin(), y.shape().end());
      shape[0] = n;
      out = xt::zeros<float>(shape);
      per = y.size() / (b1 - b0);
    }
    std::copy(y.data(), y.data() + y.size(), out.data() + b0 * per);
  }
  return out;
}

}  // namespace examples
