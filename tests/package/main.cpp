// A minimal user program: fits w in y = w * x with plain gradient descent.
#include <cstdio>
#include <tapeflow.hpp>

int main() {
  namespace tf = tapeflow;
  tf::Variable w(tf::Tensor{0.f}, /*trainable=*/true, "w");
  tf::Variable x = tf::Tensor{1.f, 2.f, 3.f};
  tf::Variable y = tf::Tensor{2.f, 4.f, 6.f};
  for (int step = 0; step < 100; ++step) {
    tf::GradientTape tape;
    tf::Variable d = tf::sub(tf::mul(w, x), y);
    tf::Variable loss = tf::sum(tf::mul(d, d));
    auto g = tape.gradient(loss, {w});
    w.assign(tf::Tensor(w.value() - 0.02f * g[0].value()));
  }
  std::printf("w = %.4f\n", w.item());
  return std::abs(w.item() - 2.f) < 1e-3f ? 0 : 1;
}
