#include "conformance/zoo_cases.hpp"

#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/batch_normalization.hpp"
#include "tapeflow/layers/bidirectional.hpp"
#include "tapeflow/layers/conv.hpp"
#include "tapeflow/layers/conv_transpose.hpp"
#include "tapeflow/layers/dense.hpp"
#include "tapeflow/layers/depthwise_conv.hpp"
#include "tapeflow/layers/gru.hpp"
#include "tapeflow/layers/lstm.hpp"
#include "tapeflow/layers/merge.hpp"
#include "tapeflow/layers/pooling.hpp"
#include "tapeflow/layers/registry.hpp"
#include "tapeflow/layers/separable_conv.hpp"
#include "tapeflow/layers/simple_rnn.hpp"

namespace tapeflow::golden {

namespace {

bool flag(const Case& c, const std::string& key, bool fallback) {
  const std::string v = c.get(key, fallback ? "true" : "false");
  if (v != "true" && v != "false")
    tapeflow::fail(c.dir.string(), "config key '" + key + "' is '" + v + "', not true/false");
  return v == "true";
}

float number(const Case& c, const std::string& key) {
  try {
    return std::stof(c.get(key));
  } catch (const std::invalid_argument&) {
    tapeflow::fail(c.dir.string(), "config key '" + key + "' is not a number: " + c.get(key));
  }
}

// A layer built from a case, with the weights whose gradients the case records, by the name
// of the gradient array ("gkernel" for the kernel, ...).
struct Built {
  std::shared_ptr<layers::Layer> layer;
  std::function<std::vector<std::pair<std::string, Variable>>()> params;
  std::function<void(Checker&)> after;  // extra checks after the call
};

template <class Options>
void set_conv_args(Options& o, const Case& c, bool transpose) {
  o.strides(c.get_ints("strides"))
      .padding(c.get("padding"))
      .data_format(c.get("data_format"))
      .activation(c.get("activation", "linear"))
      .use_bias(flag(c, "use_bias", true))
      .kernel_initializer(from_array(c.array("kernel")));
  if (!transpose && c.has("dilation_rate")) o.dilation_rate(c.get_ints("dilation_rate"));
  if (flag(c, "use_bias", true)) o.bias_initializer(from_array(c.array("bias")));
}

template <class L, class Options>
Built build_conv(const Case& c, bool transpose) {
  Options o(std::stol(c.get("filters")), c.get_ints("kernel_size"));
  set_conv_args(o, c, transpose);
  auto layer = std::make_unique<L>(o);
  L* l = layer.get();
  const bool use_bias = flag(c, "use_bias", true);
  return {std::move(layer),
          [l, use_bias] {
            std::vector<std::pair<std::string, Variable>> p{{"gkernel", l->kernel()}};
            if (use_bias) p.emplace_back("gbias", l->bias());
            return p;
          },
          {}};
}

// DepthwiseConv2D (no `filters` key) and SeparableConv2D: weights depthwise_kernel,
// pointwise_kernel (separable only) and bias, whose gradients are g<name>.
template <class L, class Options>
Built build_depthwise(const Case& c) {
  constexpr bool separable = std::is_same_v<L, layers::SeparableConv2D>;
  Options o;
  if constexpr (separable) {
    o.filters(std::stol(c.get("filters")));
    o.pointwise_initializer(from_array(c.array("pointwise_kernel")));
  }
  const bool use_bias = flag(c, "use_bias", true);
  o.kernel_size(c.get_ints("kernel_size"))
      .strides(c.get_ints("strides"))
      .padding(c.get("padding"))
      .depth_multiplier(std::stol(c.get("depth_multiplier")))
      .data_format(c.get("data_format"))
      .dilation_rate(c.get_ints("dilation_rate"))
      .activation(c.get("activation", "linear"))
      .use_bias(use_bias)
      .depthwise_initializer(from_array(c.array("depthwise_kernel")));
  if (use_bias) o.bias_initializer(from_array(c.array("bias")));
  auto layer = std::make_unique<L>(o);
  L* l = layer.get();
  return {std::move(layer),
          [l, use_bias] {
            std::vector<std::pair<std::string, Variable>> p{
                {"gdepthwise_kernel", l->depthwise_kernel()}};
            if constexpr (separable) p.emplace_back("gpointwise_kernel", l->pointwise_kernel());
            if (use_bias) p.emplace_back("gbias", l->bias());
            return p;
          },
          {}};
}

template <class L, class Options>
Built build_pool(const Case& c) {
  Options o(c.get_ints("pool_size"));
  o.strides(c.get_ints("strides")).padding(c.get("padding")).data_format(c.get("data_format"));
  return {
      std::make_unique<L>(o), [] { return std::vector<std::pair<std::string, Variable>>{}; }, {}};
}

Built build_batch_norm(const Case& c) {
  layers::BatchNormalizationOptions o;
  o.axis(static_cast<int>(std::stol(c.get("axis"))))
      .momentum(number(c, "momentum"))
      .epsilon(number(c, "epsilon"))
      .gamma_initializer(from_array(c.array("gamma")))
      .beta_initializer(from_array(c.array("beta")))
      .moving_mean_initializer(from_array(c.array("moving_mean")))
      .moving_variance_initializer(from_array(c.array("moving_variance")));
  auto layer = std::make_unique<layers::BatchNormalization>(o);
  layers::BatchNormalization* l = layer.get();
  const bool training = flag(c, "training", false);
  auto after = [l, training, &c](Checker& check) {
    if (training) {
      check.check("new_moving_mean", l->moving_mean().value(), c.array("new_moving_mean"));
      check.check("new_moving_variance", l->moving_variance().value(),
                  c.array("new_moving_variance"));
    } else {
      // Inference leaves the moving statistics alone.
      check.check("moving_mean (unchanged)", l->moving_mean().value(), c.array("moving_mean"));
      check.check("moving_variance (unchanged)", l->moving_variance().value(),
                  c.array("moving_variance"));
    }
  };
  return {std::move(layer),
          [l] {
            return std::vector<std::pair<std::string, Variable>>{{"ggamma", l->gamma()},
                                                                 {"gbeta", l->beta()}};
          },
          after};
}

Built build_dense(const Case& c) {
  const bool use_bias = flag(c, "use_bias", true);
  layers::DenseOptions o(std::stol(c.get("units")));
  o.activation(c.get("activation", "linear"))
      .use_bias(use_bias)
      .kernel_initializer(from_array(c.array("kernel")));
  if (use_bias) o.bias_initializer(from_array(c.array("bias")));
  auto layer = std::make_unique<layers::Dense>(o);
  layers::Dense* l = layer.get();
  return {std::move(layer),
          [l, use_bias] {
            std::vector<std::pair<std::string, Variable>> p{{"gkernel", l->kernel()}};
            if (use_bias) p.emplace_back("gbias", l->bias());
            return p;
          },
          {}};
}

// A recurrent layer (SimpleRNN, LSTM, GRU) from a case's keys; LSTM without unit_forget_bias,
// which would replace the case's bias.
template <class Options>
Options rnn_options(const Case& c) {
  Options o(std::stol(c.get("units")));
  o.activation(c.get("activation", "tanh"))
      .use_bias(flag(c, "use_bias", true))
      .return_sequences(flag(c, "return_sequences", false))
      .go_backwards(flag(c, "go_backwards", false));
  return o;
}

std::shared_ptr<layers::Layer> make_rnn(const std::string& cls, const Case& c) {
  using namespace layers;
  if (cls == "SimpleRNN") return std::make_shared<SimpleRNN>(rnn_options<SimpleRNNOptions>(c));
  if (cls == "LSTM") {
    auto o = rnn_options<LSTMOptions>(c);
    o.recurrent_activation(c.get("recurrent_activation")).unit_forget_bias(false);
    return std::make_shared<LSTM>(o);
  }
  if (cls == "GRU") {
    auto o = rnn_options<GRUOptions>(c);
    o.recurrent_activation(c.get("recurrent_activation")).reset_after(flag(c, "reset_after", true));
    return std::make_shared<GRU>(o);
  }
  tapeflow::fail(c.dir.string(), "no recurrent layer " + cls);
}

// SimpleRNN, LSTM, GRU, Bidirectional: built on x, then given the case's weights (kernel,
// recurrent_kernel, bias; Bidirectional: forward_ then backward_), whose gradients are
// g<weight name>.
Built build_rnn(const Case& c) {
  const std::string cls = c.get("layer");
  std::shared_ptr<layers::Layer> layer;
  std::vector<std::string> prefixes{""};
  if (cls == "Bidirectional") {
    auto inner = make_rnn(c.get("rnn"), c);
    layers::BidirectionalOptions o(*inner);
    o.merge_mode(c.get("merge_mode", "concat"));
    layer = std::make_shared<layers::Bidirectional>(o);
    prefixes = {"forward_", "backward_"};
  } else {
    layer = make_rnn(cls, c);
  }
  (*layer)(Variable(c.array("x")));
  const bool use_bias = flag(c, "use_bias", true);
  std::vector<Tensor> weights;
  std::vector<std::string> names;
  for (const std::string& p : prefixes)
    for (const char* w : {"kernel", "recurrent_kernel", "bias"}) {
      if (std::string(w) == "bias" && !use_bias) continue;
      weights.push_back(c.array(p + w));
      names.push_back("g" + p + w);
    }
  layer->set_weights(weights);
  layers::Layer* l = layer.get();
  return {layer,
          [l, names] {
            std::vector<std::pair<std::string, Variable>> p;
            auto vars = l->trainable_variables();
            for (std::size_t i = 0; i < names.size() && i < vars.size(); ++i)
              p.emplace_back(names[i], vars[i]);
            return p;
          },
          {}};
}

// A layer without weights whose case config holds its options under their Keras names (ReLU's
// max_value, Softmax's axis, ...): built through the registry from those keys.
Built build_weightless(const Case& c) {
  Config config;
  for (const char* key : {"max_value", "alpha", "axis", "n", "stddev", "rate"})
    if (c.has(key)) config[key] = c.get(key);
  return {layers::create_layer(c.get("layer"), config),
          [] { return std::vector<std::pair<std::string, Variable>>{}; },
          {}};
}

CaseResult run_case(const Case& c, const std::function<Built(const Case&)>& build) {
  Checker check;
  // A graph of its own per case: fresh names and collections.
  Graph graph;
  auto as_default = graph.as_default();
  Built b = build(c);

  Variable x(c.array("x"));
  GradientTape tape;
  tape.watch(x);
  // A case with a mask (the recurrent layers) passes it to the call.
  Variable y = c.has_array("mask") ? b.layer->masked_call(x, c.array("mask"))
                                   : (*b.layer)(x, flag(c, "training", false));
  check.check("y", y.value(), c.array("y"));
  if (c.has("output_shape")) {
    auto os = c.get_ints("output_shape");
    if (y.shape() != Shape(os.begin(), os.end()))
      check.fail("y has shape " + shape_str(y.shape()) + ", config says " + c.get("output_shape"));
  }
  if (b.after) b.after(check);

  // Forward-only cases (no gx.npy: TF.js has no such gradient) stop here.
  if (!c.has_array("gx")) return check.result();
  std::vector<std::pair<std::string, Variable>> sources{{"gx", x}};
  for (auto& p : b.params()) sources.push_back(p);
  std::vector<Variable> vars;
  for (const auto& s : sources) vars.push_back(s.second);
  auto grads = tape.gradient(y, vars, Variable(c.array("gy")));
  for (std::size_t i = 0; i < sources.size(); ++i) {
    const std::string& name = sources[i].first;
    if (!grads[i].defined()) {
      check.fail(name + ": no gradient");
      continue;
    }
    check.check(name, grads[i].value(), c.array(name));
  }
  return check.result();
}

// A merge case: inputs x0, x1, ... (config key `inputs`), y, gy and the gradients gx0, gx1, ...
CaseResult run_merge_case(const Case& c) {
  Checker check;
  Graph graph;
  auto as_default = graph.as_default();
  // A layer's options under their Keras names; a list ("1,1" in config.txt) as a tuple.
  Config config;
  for (const char* key : {"axes", "normalize"})
    if (c.has(key)) {
      const std::string v = c.get(key);
      config[key] = v.find(',') == std::string::npos ? v : "(" + v + ")";
    }
  auto layer = layers::create_layer(c.get("layer"), config);
  auto* merge = dynamic_cast<layers::Merge*>(layer.get());
  if (!merge) tapeflow::fail(c.dir.string(), c.get("layer") + " is not a merge layer");
  const long n = std::stol(c.get("inputs"));
  std::vector<Variable> xs;
  GradientTape tape;
  for (long k = 0; k < n; ++k) {
    xs.emplace_back(c.array("x" + std::to_string(k)));
    tape.watch(xs.back());
  }
  Variable y = (*merge)(xs);
  check.check("y", y.value(), c.array("y"));
  auto grads = tape.gradient(y, xs, Variable(c.array("gy")));
  for (long k = 0; k < n; ++k) {
    const std::string name = "gx" + std::to_string(k);
    if (!grads[static_cast<std::size_t>(k)].defined())
      check.fail(name + ": no gradient");
    else
      check.check(name, grads[static_cast<std::size_t>(k)].value(), c.array(name));
  }
  return check.result();
}

CaseType layer_type(const std::string& class_name, std::function<Built(const Case&)> build) {
  return {"tfjs " + class_name,
          [class_name](const Case& c) { return c.get("layer", "") == class_name; },
          [build](const Case& c) { return run_case(c, build); }};
}

}  // namespace

std::vector<CaseType> zoo_case_types() {
  using namespace layers;
  std::vector<CaseType> types{
      layer_type("Conv2D",
                 [](const Case& c) { return build_conv<Conv2D, Conv2DOptions>(c, false); }),
      layer_type("Conv3D",
                 [](const Case& c) { return build_conv<Conv3D, Conv3DOptions>(c, false); }),
      layer_type("Conv2DTranspose",
                 [](const Case& c) {
                   return build_conv<Conv2DTranspose, Conv2DTransposeOptions>(c, true);
                 }),
      layer_type("DepthwiseConv2D", build_depthwise<DepthwiseConv2D, DepthwiseConv2DOptions>),
      layer_type("SeparableConv2D", build_depthwise<SeparableConv2D, SeparableConv2DOptions>),
      layer_type("MaxPooling2D", build_pool<MaxPooling2D, MaxPooling2DOptions>),
      layer_type("MaxPooling3D", build_pool<MaxPooling3D, MaxPooling3DOptions>),
      layer_type("AveragePooling2D", build_pool<AveragePooling2D, AveragePooling2DOptions>),
      layer_type("AveragePooling3D", build_pool<AveragePooling3D, AveragePooling3DOptions>),
      layer_type("BatchNormalization", build_batch_norm),
      layer_type("Dense", build_dense),
      layer_type("ReLU", build_weightless),
      layer_type("ELU", build_weightless),
      layer_type("Softmax", build_weightless),
      layer_type("RepeatVector", build_weightless),
      layer_type("GaussianNoise", build_weightless),
      layer_type("GaussianDropout", build_weightless),
      layer_type("SimpleRNN", build_rnn),
      layer_type("LSTM", build_rnn),
      layer_type("GRU", build_rnn),
      layer_type("Bidirectional", build_rnn),
  };
  for (const char* merge : {"Multiply", "Average", "Maximum", "Minimum", "Dot"})
    types.push_back({std::string("tfjs ") + merge,
                     [merge](const Case& c) { return c.get("layer", "") == merge; },
                     run_merge_case});
  return types;
}

}  // namespace tapeflow::golden
