#include "tapeflow/layers/bidirectional.hpp"

#include <utility>

#include "tapeflow/framework/nn/detail/repr.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

// ---- Bidirectional ---------------------------------------------------------------------------

namespace {

std::string bidirectional_without_prefix(const std::string& name, const std::string& prefix) {
  return name.compare(0, prefix.size(), prefix) == 0 ? name.substr(prefix.size()) : name;
}

std::shared_ptr<detail::Recurrent> bidirectional_make(const std::string& where,
                                                      const LayerSpec& spec, Config config) {
  std::shared_ptr<Layer> made = create_layer(spec.class_name, config);
  auto rnn = std::dynamic_pointer_cast<detail::Recurrent>(made);
  if (!rnn) fail(where, "wraps a recurrent layer (SimpleRNN, LSTM, GRU), got " + spec.class_name);
  return rnn;
}

// Time order reversed (axis 1).
Variable bidirectional_reverse_time(const Variable& y) {
  std::vector<Variable> steps = split(y, y.shape()[1], 1);
  std::vector<Variable> reversed(steps.rbegin(), steps.rend());
  return concat(reversed, 1);
}

}  // namespace

Bidirectional::Bidirectional(const BidirectionalOptions& options)
    : LayerWith("bidirectional", options) {
  const LayerSpec spec = options_.layer();
  if (!spec.defined()) fail(name(), "layer is required (the recurrent layer to wrap)");
  if (const auto& mode = options_.merge_mode();
      mode && *mode != "concat" && *mode != "sum" && *mode != "mul" && *mode != "ave")
    fail(name(), "merge_mode must be one of concat, sum, mul, ave or None, got " + *mode);
  auto flag = [](const Config& c, const char* key) {
    auto it = c.find(key);
    return it != c.end() && it->second == "true";
  };
  // Without a name, the wrapped layer's default one (Keras' layer always has one).
  std::string base = spec.config.count("name") ? spec.config.at("name") : "";
  if (base.empty()) base = bidirectional_make(name(), spec, spec.config)->name();
  const bool sequences = flag(spec.config, "return_sequences");
  const std::string zero_given =
      spec.config.count("zero_output_for_mask") ? spec.config.at("zero_output_for_mask") : "false";

  Config forward = spec.config;
  forward["name"] = "forward_" + bidirectional_without_prefix(base, "forward_");
  // Keras: with return_sequences, masked steps output zeros in both directions.
  forward["zero_output_for_mask"] = sequences ? "true" : "false";
  forward_ = bidirectional_make(name(), spec, forward);
  // The options keep the wrapped layer's whole config as the library writes it (so that a
  // config read back from Keras JSON, which spells initializers its own way, compares equal).
  Config normalized = forward_->get_config();
  normalized["name"] = base;
  normalized["zero_output_for_mask"] = zero_given;
  options_.layer(LayerSpec(spec.class_name, normalized));

  if (options_.backward_layer().defined()) {
    const LayerSpec b = options_.backward_layer();
    Config backward = b.config;
    const std::string b_zero =
        b.config.count("zero_output_for_mask") ? b.config.at("zero_output_for_mask") : "false";
    backward["zero_output_for_mask"] = flag(b.config, "return_sequences") ? "true" : "false";
    backward_ = bidirectional_make(name(), b, backward);
    const Config fc = forward_->get_config(), bc = backward_->get_config();
    if (fc.at("go_backwards") == bc.at("go_backwards"))
      fail(name(), "backward_layer must go the other way than layer: go_backwards is " +
                       fc.at("go_backwards") + " for both");
    for (const char* key : {"return_sequences", "return_state", "stateful"})
      if (fc.at(key) != bc.at(key))
        fail(name(), std::string("layer and backward_layer must have the same ") + key + ": " +
                         fc.at(key) + " vs " + bc.at(key));
    Config b_normalized = bc;
    b_normalized["name"] = b.config.count("name") ? b.config.at("name") : backward_->name();
    b_normalized["zero_output_for_mask"] = b_zero;
    options_.backward_layer(LayerSpec(b.class_name, b_normalized));
  } else {
    Config backward = spec.config;
    backward["name"] = "backward_" + bidirectional_without_prefix(base, "backward_");
    backward["go_backwards"] = flag(spec.config, "go_backwards") ? "false" : "true";
    backward["zero_output_for_mask"] = forward["zero_output_for_mask"];
    backward_ = bidirectional_make(name(), spec, backward);
  }
  register_sublayer(forward_);
  register_sublayer(backward_);
  set_input_spec(InputSpec{.ndim = 3});
}

std::vector<Variable> Bidirectional::run(const Variable& x, const Tensor* mask,
                                         const std::vector<Variable>& initial, bool training) {
  const std::size_t n = forward_->state_count();
  std::vector<Variable> fi, bi;
  if (!initial.empty()) {
    if (initial.size() != 2 * n)
      fail(name(), "takes " + std::to_string(2 * n) +
                       " initial states (forward's, then backward's), got " +
                       std::to_string(initial.size()));
    fi.assign(initial.begin(), initial.begin() + static_cast<long>(n));
    bi.assign(initial.begin() + static_cast<long>(n), initial.end());
  }
  std::vector<Variable> f = mask ? forward_->call_with_state(x, *mask, fi, training)
                                 : forward_->call_with_state(x, fi, training);
  std::vector<Variable> b = mask ? backward_->call_with_state(x, *mask, bi, training)
                                 : backward_->call_with_state(x, bi, training);
  Variable yf = f[0], yb = b[0];
  if (yb.shape().size() == 3) yb = bidirectional_reverse_time(yb);
  std::vector<Variable> out;
  const auto& mode = options_.merge_mode();
  if (!mode) {
    out = {yf, yb};
  } else if (*mode == "concat") {
    out = {concat({yf, yb}, -1)};
  } else if (*mode == "sum") {
    out = {add(yf, yb)};
  } else if (*mode == "mul") {
    out = {mul(yf, yb)};
  } else {
    out = {mul(add(yf, yb), scalar(0.5f))};
  }
  out.insert(out.end(), f.begin() + 1, f.end());
  out.insert(out.end(), b.begin() + 1, b.end());
  return out;
}

Variable Bidirectional::dispatch(const Variable& x, const Tensor* mask, bool training) {
  static const std::vector<Variable> none;
  const bool all_wanted = pending_initial_ != nullptr;  // a call_with_state
  const std::vector<Variable>& initial = all_wanted ? *pending_initial_ : none;
  pending_initial_ = nullptr;
  std::vector<Variable> out = run(x, mask, initial, training);
  if (!all_wanted && output_count() != 1)
    fail(name(),
         "has merge_mode None and so two outputs: take them with call_on_list or "
         "call_with_state");
  all_outputs_ = out;
  return out[0];
}

Variable Bidirectional::call(const Variable& x, bool training) {
  return dispatch(x, nullptr, training);
}

Variable Bidirectional::call_masked(const Variable& x, const Tensor& mask, bool training) {
  return dispatch(x, &mask, training);
}

std::vector<Variable> Bidirectional::with_state(const Variable& x, const Tensor* mask,
                                                const std::vector<Variable>& initial,
                                                bool training) {
  struct Pending {
    Bidirectional& self;
    ~Pending() {
      self.pending_initial_ = nullptr;
      self.all_outputs_.clear();
    }
  } guard{*this};
  pending_initial_ = &initial;
  all_outputs_.clear();
  Variable y = mask ? masked_call(x, *mask, training) : (*this)(x, training);
  std::vector<Variable> out = all_outputs_;
  out[0] = y;  // after the activity regularizer, as operator() returns it
  return out;
}

std::vector<Variable> Bidirectional::call_with_state(const Variable& x,
                                                     const std::vector<Variable>& initial_state,
                                                     bool training) {
  return with_state(x, nullptr, initial_state, training);
}

std::vector<Variable> Bidirectional::call_with_state(const Variable& x, const Tensor& mask,
                                                     const std::vector<Variable>& initial_state,
                                                     bool training) {
  return with_state(x, &mask, initial_state, training);
}

std::vector<Variable> Bidirectional::call_on_list(const std::vector<Variable>& inputs,
                                                  bool training) {
  if (inputs.empty()) fail(name(), "takes a sequence and optional initial states, got no input");
  std::vector<Variable> initial(inputs.begin() + 1, inputs.end());
  std::vector<Variable> out = with_state(inputs[0], nullptr, initial, training);
  const bool states = forward_->get_config().at("return_state") == "true";
  if (!states) out.resize(output_count());
  return out;
}

void Bidirectional::reset_states() {
  forward_->reset_states();
  backward_->reset_states();
}

std::optional<Tensor> Bidirectional::compute_mask(const Variable& x,
                                                  const std::optional<Tensor>& mask) const {
  return forward_->compute_mask(x, mask);
}

std::string Bidirectional::extra_repr() const {
  const auto& mode = options_.merge_mode();
  std::string s = "layer=" + forward_->pretty_print() + ", merge_mode=" + (mode ? *mode : "None");
  if (options_.backward_layer().defined()) s += ", backward_layer=" + backward_->pretty_print();
  return s;
}

TAPEFLOW_REGISTER_LAYER(Bidirectional)

}  // namespace tapeflow::layers
