#pragma once
// The golden training cases were made with TF.js, whose Adam is the paper's form
// `lr * m_hat / (sqrt(v_hat) + eps)`; tapeflow's Adam is Keras 3's,
// `lr * sqrt(c2) / c1 * m / (sqrt(v) + epsilon)` with c1 = 1 - b1^t, c2 = 1 - b2^t. The two are
// the same update when `epsilon = eps * sqrt(c2)`: a replay sets that epsilon before step t.
#include <cmath>

#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::test {

/// Keras' epsilon that makes step `t` (1-based) of tapeflow's Adam the TF.js step with `eps`.
inline double tfjs_adam_epsilon(double eps, double beta_2, long t) {
  return eps * std::sqrt(1.0 - std::pow(beta_2, double(t)));
}

/// Sets `optimizer`'s epsilon (options only: slots and iterations stay) for TF.js step `t`.
inline void use_tfjs_adam_step(optim::Optimizer& optimizer, double eps, double beta_2, long t) {
  Config c = optimizer.get_config();
  c["epsilon"] = config_write(tfjs_adam_epsilon(eps, beta_2, t));
  optimizer.set_config(c);
}

}  // namespace tapeflow::test
