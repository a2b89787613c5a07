#include "tapeflow/optim/checkpoint.hpp"

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <exception>
#include <sstream>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/runtime/random.hpp"
#include "tapeflow/layers/saving.hpp"

namespace tapeflow::serialization {

void save_checkpoint(const layers::Layer& model, const optim::Optimizer& optimizer,
                     const std::string& path, Archive archive) {
  detail::TrainingState training;
  training.has_optimizer = true;
  training.optimizer_class = optimizer.name();
  std::ostringstream os;
  {  // the archive flushes when it is destroyed: before os.str()
    boost::archive::binary_oarchive ar(os);
    optimizer.save_state(ar);
  }
  training.optimizer_state = os.str();
  training.has_random_state = true;
  training.random = get_random_state();
  detail::write_model_file(model, training, path, archive, "save_checkpoint");
}

void load_checkpoint(layers::Layer& model, optim::Optimizer& optimizer, const std::string& path) {
  const auto file = detail::ModelFile::read(path, "load_checkpoint");
  const detail::TrainingState& training = file.training_state();
  // The optimizer is checked before anything is changed.
  if (!training.has_optimizer)
    fail("load_checkpoint", "'" + path + "' holds a model but no optimizer state");
  if (training.optimizer_class != optimizer.name())
    fail("load_checkpoint", "'" + path + "' holds the state of optimizer '" +
                                training.optimizer_class + "' but the optimizer is '" +
                                optimizer.name() + "'");
  file.load_weights_into(model);
  std::istringstream is(training.optimizer_state);
  try {
    boost::archive::binary_iarchive ar(is);
    optimizer.load_state(ar);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    fail_file("load_checkpoint", "'" + path + "': cannot read the optimizer state: " + e.what());
  }
  if (training.has_random_state) set_random_state(training.random);
  file.restore_random_streams(model);
}

}  // namespace tapeflow::serialization
