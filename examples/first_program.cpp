// The README's first program, kept here so that it is built and run by the test suite.
#include <tapeflow.hpp>
#include <xtensor/xrandom.hpp>
namespace tf = tapeflow;

int main() {
  // An upsampling layer with an L2 kernel regularizer and a max-norm constraint.
  tf::layers::Conv3DTranspose up(
      tf::layers::Conv3DTransposeOptions(/*filters=*/8, /*kernel_size=*/3)
          .strides(2)
          .padding("same")
          .activation("relu")
          .kernel_regularizer(tf::regularizers::l2(1e-4))
          .kernel_constraint(tf::constraints::max_norm(2.0)));
  tf::optim::Adam opt(tf::optim::AdamOptions().learning_rate(1e-3));

  tf::Variable x = tf::Tensor(xt::random::rand<float>({2, 4, 4, 4, 3}));  // a constant input
  tf::Variable target = tf::Tensor(xt::random::rand<float>({2, 8, 8, 8, 8}));
  for (int step = 0; step < 100; ++step) {
    tf::GradientTape tape;   // records ops while alive
    tf::Variable y = up(x);  // builds kernel/bias on first call
    tf::Variable loss = tf::losses::mean_squared_error(target, y) + tf::get_regularization_loss();
    auto grads = tape.gradient(loss, up.trainable_variables());
    opt.apply_gradients(grads, up.trainable_variables());  // update, then max_norm
  }
}
