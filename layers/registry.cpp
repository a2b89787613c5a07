#include "tapeflow/layers/registry.hpp"

#include <cctype>
#include <functional>
#include <map>

#include "tapeflow/framework/ops/activations.hpp"
#include "tapeflow/layers/activation.hpp"
#include "tapeflow/layers/batch_normalization.hpp"
#include "tapeflow/layers/conv.hpp"
#include "tapeflow/layers/conv3d_transpose.hpp"
#include "tapeflow/layers/conv_transpose.hpp"
#include "tapeflow/layers/dense.hpp"
#include "tapeflow/layers/dropout.hpp"
#include "tapeflow/layers/embedding.hpp"
#include "tapeflow/layers/global_pooling.hpp"
#include "tapeflow/layers/layer_normalization.hpp"
#include "tapeflow/layers/leaky_relu.hpp"
#include "tapeflow/layers/merge.hpp"
#include "tapeflow/layers/padding.hpp"
#include "tapeflow/layers/pooling.hpp"
#include "tapeflow/layers/prelu.hpp"
#include "tapeflow/layers/reshaping.hpp"
#include "tapeflow/layers/sequential.hpp"
#include "tapeflow/layers/upsampling.hpp"

namespace tapeflow::layers {

namespace {

std::string trim(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// Reads a config value; a missing key means the layer's default (old files keep loading when a
// layer gains an option).
struct Reader {
  std::string where;
  const Config& c;

  bool has(const std::string& k) const { return c.count(k) != 0; }
  const std::string& str(const std::string& k) const {
    auto it = c.find(k);
    if (it == c.end()) fail(where, "config has no key '" + k + "'");
    return it->second;
  }
  bool is_none(const std::string& k) const { return !has(k) || trim(str(k)) == "None"; }
  float f(const std::string& k, float d) const { return config_get_float(where, c, k, d); }
  bool b(const std::string& k, bool d) const { return config_get_bool(where, c, k, d); }
  long i(const std::string& k, long d) const { return config_get_int(where, c, k, d); }
  // Every integer in the value, in order ("None" entries are -1): "(1, 2)", "((1, 0), (2, 2))",
  // "3", "[1, 2]".
  std::vector<long> ints(const std::string& k) const {
    const std::string& v = str(k);
    std::vector<long> out;
    std::size_t p = 0;
    while (p < v.size()) {
      char ch = v[p];
      if (ch == '(' || ch == ')' || ch == '[' || ch == ']' || ch == ',' ||
          std::isspace(static_cast<unsigned char>(ch))) {
        ++p;
      } else if (v.compare(p, 4, "None") == 0) {
        out.push_back(-1);
        p += 4;
      } else if (ch == '-' || std::isdigit(static_cast<unsigned char>(ch))) {
        std::size_t q = p + 1;
        while (q < v.size() && std::isdigit(static_cast<unsigned char>(v[q]))) ++q;
        if (q - p > 18) fail(where, "config key '" + k + "' has an out-of-range integer: " + v);
        out.push_back(std::stol(v.substr(p, q - p)));
        p = q;
      } else {
        fail(where, "config key '" + k + "' is not a list of integers: '" + v + "'");
      }
    }
    return out;
  }
  std::vector<int> ints32(const std::string& k) const {
    std::vector<int> out;
    for (long v : ints(k)) out.push_back(static_cast<int>(v));
    return out;
  }
  std::vector<long> ints_n(const std::string& k, std::size_t n) const {
    auto v = ints(k);
    if (v.size() != n)
      fail(where, "config key '" + k + "' should have " + std::to_string(n) + " integers: '" +
                      str(k) + "'");
    return v;
  }
  Initializer init(const std::string& k, const Initializer& d) const {
    if (!has(k)) return d;
    auto [name, cfg] = parse_repr(where + ": " + k, str(k));
    return Initializer::from_config(name, cfg);
  }
  Regularizer reg(const std::string& k) const {
    if (is_none(k)) return {};
    auto [name, cfg] = parse_repr(where + ": " + k, str(k));
    return Regularizer::from_config(name, cfg);
  }
  Constraint con(const std::string& k) const {
    if (is_none(k)) return {};
    auto [name, cfg] = parse_repr(where + ": " + k, str(k));
    return Constraint::from_config(name, cfg);
  }
  activations::Activation act(const std::string& k) const {
    if (!has(k)) return activations::Activation();
    return activations::get(str(k));
  }
  Seed seed(const std::string& k) const { return config_get_seed(where, c, k); }
};

template <class O>
O common(const Reader& r, O o) {
  if (r.has("name")) o.name(r.str("name"));
  o.trainable(r.b("trainable", true));
  o.activity_regularizer(r.reg("activity_regularizer"));
  return o;
}

AxisPairs pairs(const Reader& r, const std::string& k, std::size_t n) {
  auto v = r.ints_n(k, 2 * n);
  AxisPairs::Pairs p;
  for (std::size_t i = 0; i < n; ++i) p.emplace_back(v[2 * i], v[2 * i + 1]);
  return AxisPairs(p);
}

template <class O>
O conv_options(const Reader& r, std::size_t n) {
  O o(r.i("filters", 0), r.ints_n("kernel_size", n));
  o.strides(r.ints_n("strides", n)).dilation_rate(r.ints_n("dilation_rate", n));
  o.padding(r.str("padding")).data_format(r.str("data_format"));
  o.activation(r.act("activation")).use_bias(r.b("use_bias", true));
  o.kernel_initializer(r.init("kernel_initializer", "glorot_uniform"));
  o.bias_initializer(r.init("bias_initializer", "zeros"));
  o.kernel_regularizer(r.reg("kernel_regularizer")).bias_regularizer(r.reg("bias_regularizer"));
  o.kernel_constraint(r.con("kernel_constraint")).bias_constraint(r.con("bias_constraint"));
  return common(r, o);
}

template <class O>
O with_output_padding(const Reader& r, O o, std::size_t n) {
  if (!r.is_none("output_padding")) o.output_padding(r.ints_n("output_padding", n));
  return o;
}

template <std::size_t N>
PoolingNDOptions<N> pool_options(const Reader& r) {
  PoolingNDOptions<N> o(r.ints_n("pool_size", N));
  if (!r.is_none("strides")) o.strides(r.ints_n("strides", N));
  o.padding(r.str("padding")).data_format(r.str("data_format"));
  return common(r, o);
}

GlobalPoolingOptions global_options(const Reader& r) {
  GlobalPoolingOptions o;
  o.data_format(r.str("data_format")).keepdims(r.b("keepdims", false));
  return common(r, o);
}

template <std::size_t N>
std::shared_ptr<Layer> upsampling(const Reader& r) {
  UpSamplingOptions<N> o;
  if constexpr (N == 1) {
    o.size(r.ints_n("size", 1)[0]);
  } else {
    o.size(r.ints_n("size", N)).data_format(r.str("data_format"));
  }
  if constexpr (N == 2) o.interpolation(r.has("interpolation") ? r.str("interpolation") : "nearest");
  return std::make_shared<UpSampling<N>>(common(r, o));
}

template <std::size_t N>
std::shared_ptr<Layer> zero_padding(const Reader& r) {
  ZeroPaddingOptions<N> o;
  o.padding(pairs(r, "padding", N));
  if constexpr (N > 1) o.data_format(r.str("data_format"));
  return std::make_shared<ZeroPadding<N>>(common(r, o));
}

template <std::size_t N>
std::shared_ptr<Layer> cropping(const Reader& r) {
  CroppingOptions<N> o;
  o.cropping(pairs(r, "cropping", N));
  if constexpr (N > 1) o.data_format(r.str("data_format"));
  return std::make_shared<Cropping<N>>(common(r, o));
}

using Factory = std::function<std::shared_ptr<Layer>(const Reader&)>;

const std::map<std::string, Factory>& factories() {
  static const std::map<std::string, Factory> f = {
      {"Dense",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         DenseOptions o(r.i("units", 0));
         o.activation(r.act("activation")).use_bias(r.b("use_bias", true));
         o.kernel_initializer(r.init("kernel_initializer", "glorot_uniform"));
         o.bias_initializer(r.init("bias_initializer", "zeros"));
         o.kernel_regularizer(r.reg("kernel_regularizer"));
         o.bias_regularizer(r.reg("bias_regularizer"));
         o.kernel_constraint(r.con("kernel_constraint"));
         o.bias_constraint(r.con("bias_constraint"));
         return std::make_shared<Dense>(common(r, o));
       }},
      {"Conv1D",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         return std::make_shared<Conv1D>(conv_options<Conv1DOptions>(r, 1));
       }},
      {"Conv2D",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         return std::make_shared<Conv2D>(conv_options<Conv2DOptions>(r, 2));
       }},
      {"Conv3D",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         return std::make_shared<Conv3D>(conv_options<Conv3DOptions>(r, 3));
       }},
      {"Conv1DTranspose",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         return std::make_shared<Conv1DTranspose>(
             with_output_padding(r, conv_options<Conv1DTransposeOptions>(r, 1), 1));
       }},
      {"Conv2DTranspose",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         return std::make_shared<Conv2DTranspose>(
             with_output_padding(r, conv_options<Conv2DTransposeOptions>(r, 2), 2));
       }},
      {"Conv3DTranspose",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         return std::make_shared<Conv3DTranspose>(
             with_output_padding(r, conv_options<Conv3DTransposeOptions>(r, 3), 3));
       }},
      {"MaxPooling1D",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         return std::make_shared<MaxPooling1D>(pool_options<1>(r));
       }},
      {"MaxPooling2D",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         return std::make_shared<MaxPooling2D>(pool_options<2>(r));
       }},
      {"MaxPooling3D",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         return std::make_shared<MaxPooling3D>(pool_options<3>(r));
       }},
      {"AveragePooling1D",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         return std::make_shared<AveragePooling1D>(pool_options<1>(r));
       }},
      {"AveragePooling2D",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         return std::make_shared<AveragePooling2D>(pool_options<2>(r));
       }},
      {"AveragePooling3D",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         return std::make_shared<AveragePooling3D>(pool_options<3>(r));
       }},
      {"GlobalMaxPooling1D",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         return std::make_shared<GlobalMaxPooling1D>(global_options(r));
       }},
      {"GlobalMaxPooling2D",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         return std::make_shared<GlobalMaxPooling2D>(global_options(r));
       }},
      {"GlobalMaxPooling3D",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         return std::make_shared<GlobalMaxPooling3D>(global_options(r));
       }},
      {"GlobalAveragePooling1D",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         return std::make_shared<GlobalAveragePooling1D>(global_options(r));
       }},
      {"GlobalAveragePooling2D",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         return std::make_shared<GlobalAveragePooling2D>(global_options(r));
       }},
      {"GlobalAveragePooling3D",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         return std::make_shared<GlobalAveragePooling3D>(global_options(r));
       }},
      {"BatchNormalization",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         BatchNormalizationOptions o;
         o.axis(r.ints32("axis"));
         o.momentum(r.f("momentum", 0.99f)).epsilon(r.f("epsilon", 1e-3f));
         o.center(r.b("center", true)).scale(r.b("scale", true));
         o.beta_initializer(r.init("beta_initializer", "zeros"));
         o.gamma_initializer(r.init("gamma_initializer", "ones"));
         o.moving_mean_initializer(r.init("moving_mean_initializer", "zeros"));
         o.moving_variance_initializer(r.init("moving_variance_initializer", "ones"));
         o.beta_regularizer(r.reg("beta_regularizer")).gamma_regularizer(r.reg("gamma_regularizer"));
         o.beta_constraint(r.con("beta_constraint")).gamma_constraint(r.con("gamma_constraint"));
         return std::make_shared<BatchNormalization>(common(r, o));
       }},
      {"LayerNormalization",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         LayerNormalizationOptions o;
         o.axis(r.ints32("axis"));
         o.epsilon(r.f("epsilon", 1e-3f));
         o.center(r.b("center", true)).scale(r.b("scale", true));
         o.beta_initializer(r.init("beta_initializer", "zeros"));
         o.gamma_initializer(r.init("gamma_initializer", "ones"));
         o.beta_regularizer(r.reg("beta_regularizer")).gamma_regularizer(r.reg("gamma_regularizer"));
         o.beta_constraint(r.con("beta_constraint")).gamma_constraint(r.con("gamma_constraint"));
         return std::make_shared<LayerNormalization>(common(r, o));
       }},
      {"Dropout",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         DropoutOptions o(r.f("rate", 0.f));
         if (!r.is_none("noise_shape")) o.noise_shape(r.ints("noise_shape"));
         o.seed(r.seed("seed"));
         return std::make_shared<Dropout>(common(r, o));
       }},
      {"SpatialDropout3D",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         SpatialDropout3DOptions o(r.f("rate", 0.f));
         o.data_format(r.str("data_format")).seed(r.seed("seed"));
         return std::make_shared<SpatialDropout3D>(common(r, o));
       }},
      {"Flatten",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         FlattenOptions o;
         o.data_format(r.str("data_format"));
         return std::make_shared<Flatten>(common(r, o));
       }},
      {"Reshape",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         return std::make_shared<Reshape>(common(r, ReshapeOptions(r.ints("target_shape"))));
       }},
      {"Permute",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         return std::make_shared<Permute>(common(r, PermuteOptions(r.ints32("dims"))));
       }},
      {"Activation",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         return std::make_shared<Activation>(common(r, ActivationOptions(r.act("activation"))));
       }},
      {"LeakyReLU",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         LeakyReLUOptions o;
         o.alpha(r.f("alpha", 0.3f));
         return std::make_shared<LeakyReLU>(common(r, o));
       }},
      {"PReLU",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         PReLUOptions o;
         o.alpha_initializer(r.init("alpha_initializer", "zeros"));
         o.alpha_regularizer(r.reg("alpha_regularizer"));
         o.alpha_constraint(r.con("alpha_constraint"));
         if (!r.is_none("shared_axes")) o.shared_axes(r.ints32("shared_axes"));
         return std::make_shared<PReLU>(common(r, o));
       }},
      {"UpSampling1D", upsampling<1>},
      {"UpSampling2D", upsampling<2>},
      {"UpSampling3D", upsampling<3>},
      {"ZeroPadding1D", zero_padding<1>},
      {"ZeroPadding2D", zero_padding<2>},
      {"ZeroPadding3D", zero_padding<3>},
      {"Cropping1D", cropping<1>},
      {"Cropping2D", cropping<2>},
      {"Cropping3D", cropping<3>},
      {"Embedding",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         EmbeddingOptions o(r.i("input_dim", 0), r.i("output_dim", 0));
         o.embeddings_initializer(r.init("embeddings_initializer", "uniform"));
         o.embeddings_regularizer(r.reg("embeddings_regularizer"));
         o.embeddings_constraint(r.con("embeddings_constraint"));
         return std::make_shared<Embedding>(common(r, o));
       }},
      {"Add",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         return std::make_shared<Add>(common(r, AddOptions()));
       }},
      {"Concatenate",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         ConcatenateOptions o;
         o.axis(static_cast<int>(r.i("axis", -1)));
         return std::make_shared<Concatenate>(common(r, o));
       }},
      {"Sequential",
       [](const Reader& r) -> std::shared_ptr<Layer> {
         return std::make_shared<Sequential>(common(r, SequentialOptions()));
       }},
  };
  return f;
}

}  // namespace

std::pair<std::string, Config> parse_repr(const std::string& where, const std::string& text) {
  std::string t = trim(text);
  std::size_t open = t.find('(');
  if (open == std::string::npos) return {t, {}};
  if (open == 0 || t.back() != ')')
    fail(where, "malformed value '" + text + "': expected name(key=value, ...)");
  std::string name = t.substr(0, open);
  std::string body = t.substr(open + 1, t.size() - open - 2);
  Config cfg;
  // Split on commas at depth 0, so "kernel_size=(3, 3)" stays one item.
  int depth = 0;
  std::string item;
  auto flush = [&] {
    std::string it = trim(item);
    item.clear();
    if (it.empty()) return;
    std::size_t eq = it.find('=');
    if (eq == std::string::npos || eq == 0)
      fail(where, "malformed value '" + text + "': item '" + it + "' is not key=value");
    cfg[trim(it.substr(0, eq))] = trim(it.substr(eq + 1));
  };
  for (char ch : body) {
    if (ch == '(' || ch == '[') ++depth;
    if (ch == ')' || ch == ']') --depth;
    if (depth < 0) fail(where, "malformed value '" + text + "': unbalanced parentheses");
    if (ch == ',' && depth == 0) {
      flush();
    } else {
      item += ch;
    }
  }
  if (depth != 0) fail(where, "malformed value '" + text + "': unbalanced parentheses");
  flush();
  return {name, cfg};
}

std::shared_ptr<Layer> create_layer(const std::string& class_name, const Config& config) {
  auto it = factories().find(class_name);
  if (it == factories().end()) {
    std::string known;
    for (const auto& kv : factories()) known += (known.empty() ? "" : ", ") + kv.first;
    fail("create_layer", "unknown layer class '" + class_name + "' (known: " + known + ")");
  }
  auto name_it = config.find("name");
  std::string where = class_name + (name_it != config.end() ? " '" + name_it->second + "'" : "");
  return it->second(Reader{where, config});
}

std::vector<std::string> registered_layers() {
  std::vector<std::string> out;
  for (const auto& kv : factories()) out.push_back(kv.first);
  return out;
}

void check_serializable(const Layer& layer) {
  if (factories().count(layer.class_name()) == 0)
    fail("save", "layer '" + layer.name() + "' has class '" + layer.class_name() +
                     "', which the layer registry cannot rebuild");
  for (const auto& [key, value] : layer.get_config()) {
    std::string v = trim(value);
    bool custom = v == "custom" || v.rfind("custom(", 0) == 0;
    if (!custom && key == "activation") {
      try {
        activations::get(v);
      } catch (const Error&) {
        custom = true;
      }
    }
    if (custom)
      fail("save", "layer '" + layer.name() + "' (" + layer.class_name() + "): argument '" + key +
                       "' is a custom callable (" + v +
                       "), which cannot be saved; use a named one");
  }
  if (auto* seq = dynamic_cast<const Sequential*>(&layer))
    for (const auto& l : seq->layers()) check_serializable(*l);
}

}  // namespace tapeflow::layers
