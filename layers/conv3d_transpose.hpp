#pragma once
/// TensorFlow's `Conv3DTranspose` layer (`tf.layers.Conv3DTranspose` / Keras), plus Keras'
/// `output_padding` and `dilation_rate` with PyTorch `ConvTranspose3d` semantics, and TF1's
/// functional form `conv3d_transpose`.
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "tapeflow/framework/ops/activations.hpp"
#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

/// Options of `Conv3DTranspose`, chainable. Required: `filters` and `kernel_size` (one number
/// for the three axes or three numbers). Defaults as in TF/Keras:
/// - `strides` 1 (one number or three), `padding` "valid" ("valid"/"same", any case),
///   `data_format` "channels_last" ("channels_last"/"channels_first", any case);
/// - `activation` none (linear): a Keras name or any callable / `activations::Activation`;
/// - `use_bias` true, `kernel_initializer` "glorot_uniform", `bias_initializer` "zeros";
/// - `kernel_regularizer`, `bias_regularizer`, `activity_regularizer`, `kernel_constraint`,
///   `bias_constraint`: none; `trainable` true; `name` automatic;
/// - `output_padding` none (one number or three, each smaller than its stride) and
///   `dilation_rate` 1: as PyTorch `ConvTranspose3d` with `padding = dk / 2` ("same") or 0
///   ("valid"), dk = dilation * (kernel - 1) + 1; the output length is Keras'
///   `deconv_output_length` (see `tapeflow::conv_transpose`).
///
/// Values are checked when the layer is constructed (errors name the layer and the argument).
///
/// Example:
/// ```
/// auto o = tapeflow::layers::Conv3DTransposeOptions(/*filters=*/8, /*kernel_size=*/3)
///              .strides(2).padding("same").activation("relu")
///              .kernel_regularizer(tapeflow::regularizers::l2(1e-4));
/// ```
struct Conv3DTransposeOptions : LayerOptionsBase<Conv3DTransposeOptions> {
  /// For the functional form, which takes filters and kernel_size as arguments.
  Conv3DTransposeOptions() = default;
  Conv3DTransposeOptions(long filters, long kernel_size)
      : filters_(filters), kernel_size_{kernel_size} {}
  Conv3DTransposeOptions(long filters, std::vector<long> kernel_size)
      : filters_(filters), kernel_size_(std::move(kernel_size)) {}

  TAPEFLOW_ARG(long, filters) = 0;
  TAPEFLOW_ARG(std::vector<long>, kernel_size);
  TAPEFLOW_ARG(std::string, padding) = "valid";
  TAPEFLOW_ARG(std::string, data_format) = "channels_last";
  TAPEFLOW_ARG(bool, use_bias) = true;
  TAPEFLOW_ARG(Initializer, kernel_initializer) = "glorot_uniform";
  TAPEFLOW_ARG(Initializer, bias_initializer) = "zeros";
  TAPEFLOW_ARG(Regularizer, kernel_regularizer);
  TAPEFLOW_ARG(Regularizer, bias_regularizer);
  TAPEFLOW_ARG(Constraint, kernel_constraint);
  TAPEFLOW_ARG(Constraint, bias_constraint);

 public:
  Conv3DTransposeOptions& kernel_size(long k) { return kernel_size(std::vector<long>{k}); }
  Conv3DTransposeOptions& strides(long s) { return strides(std::vector<long>{s}); }
  Conv3DTransposeOptions& strides(const std::vector<long>& s) {
    strides_ = s;
    return *this;
  }
  const std::vector<long>& strides() const { return strides_; }
  Conv3DTransposeOptions& dilation_rate(long d) { return dilation_rate(std::vector<long>{d}); }
  Conv3DTransposeOptions& dilation_rate(const std::vector<long>& d) {
    dilation_rate_ = d;
    return *this;
  }
  const std::vector<long>& dilation_rate() const { return dilation_rate_; }
  Conv3DTransposeOptions& output_padding(long p) { return output_padding(std::vector<long>{p}); }
  Conv3DTransposeOptions& output_padding(const std::vector<long>& p) {
    output_padding_ = p;
    return *this;
  }
  const std::optional<std::vector<long>>& output_padding() const { return output_padding_; }

  /// A Keras activation name (resolved by the layer, whose errors name it) or a callable.
  Conv3DTransposeOptions& activation(const char* name) { return activation(std::string(name)); }
  Conv3DTransposeOptions& activation(const std::string& name) {
    activation_name_ = name;
    activation_ = {};
    return *this;
  }
  Conv3DTransposeOptions& activation(const activations::Activation& a) {
    activation_name_.reset();
    activation_ = a;
    return *this;
  }
  /// The activation name given, if it was given by name.
  const std::optional<std::string>& activation_name() const { return activation_name_; }
  /// The activation (resolving a name: an Error naming "activation" if it is unknown).
  activations::Activation activation() const {
    return activation_name_ ? activations::Activation(*activation_name_) : activation_;
  }

 private:
  std::vector<long> strides_{1};
  std::vector<long> dilation_rate_{1};
  std::optional<std::vector<long>> output_padding_;
  std::optional<std::string> activation_name_;
  activations::Activation activation_;
};

/// Transposed 3-D convolution (TF `Conv3DTranspose`): input `(batch, d, h, w, in_channels)`
/// (channels_first: `(batch, in_channels, d, h, w)`), kernel `(kd, kh, kw, filters,
/// in_channels)` named `<scope>/kernel`, bias `(filters,)` named `<scope>/bias`; output
/// `conv_transpose(x, kernel) + bias`, then the activation. Default name "conv3d_transpose".
/// Output length per axis: `same`: `in * stride`, `valid`: `in * stride + max(k - stride, 0)`
/// (with output_padding / dilation_rate: see `Conv3DTransposeOptions`).
///
/// Example:
/// ```
/// tapeflow::layers::Conv3DTranspose up(
///     tapeflow::layers::Conv3DTransposeOptions(8, 3).strides(2).padding("same"));
/// tapeflow::Variable y = up(x);   // x (2, 4, 4, 4, 16) -> y (2, 8, 8, 8, 8)
/// ```
class Conv3DTranspose : public Layer {
 public:
  explicit Conv3DTranspose(const Conv3DTransposeOptions& options);
  std::string class_name() const override { return "Conv3DTranspose"; }

  const Conv3DTransposeOptions& options() const { return options_; }
  long filters() const { return options_.filters(); }
  const std::array<long, 3>& kernel_size() const { return kernel_size_; }
  const std::array<long, 3>& strides() const { return strides_; }
  const std::array<long, 3>& dilation_rate() const { return dilation_rate_; }
  const std::optional<std::array<long, 3>>& output_padding() const { return output_padding_; }
  /// "valid" or "same".
  const std::string& padding() const { return padding_; }
  /// "channels_last" or "channels_first".
  const std::string& data_format() const { return data_format_; }
  bool use_bias() const { return options_.use_bias(); }
  const activations::Activation& activation() const { return activation_; }
  /// The weights (undefined before the first call; bias undefined without use_bias).
  Variable kernel() const { return kernel_; }
  Variable bias() const { return bias_; }

  /// The output shape for an input shape (Keras `compute_output_shape`); Errors as a call.
  Shape compute_output_shape(const Shape& input_shape) const;
  /// Base keys plus filters, kernel_size, strides, padding, data_format, dilation_rate,
  /// output_padding, activation, use_bias, initializers, regularizers and constraints.
  Config get_config() const override;

 protected:
  void build(const Shape& input_shape) override;
  Variable call(const Variable& x, bool training) override;
  /// "filters=8, kernel_size=(3, 3, 3), strides=(2, 2, 2), padding=same" and the
  /// non-default data_format, dilation_rate, output_padding, activation, use_bias.
  std::string extra_repr() const override;

 private:
  std::size_t channel_axis() const { return data_format_ == "channels_first" ? 1 : 4; }

  Conv3DTransposeOptions options_;
  std::array<long, 3> kernel_size_{};
  std::array<long, 3> strides_{};
  std::array<long, 3> dilation_rate_{};
  std::optional<std::array<long, 3>> output_padding_;
  std::string padding_;
  std::string data_format_;
  activations::Activation activation_;
  Variable kernel_;
  Variable bias_;
};

/// TF1's functional form `tf.layers.conv3d_transpose(inputs, filters, kernel_size, ...)`: builds
/// a `Conv3DTranspose` from `options` with these `filters` and `kernel_size`, applies it to
/// `inputs` and returns the output. Its variables stay in the graph's collections; the layer
/// object itself is kept alive by a process-wide list (`functional_layers()`), as a TF1 graph
/// keeps its layers, so its activity regularizer loss stays valid. Each call makes a new layer
/// with new variables (TF1 without `reuse`).
///
/// Example:
/// ```
/// auto y = tapeflow::layers::conv3d_transpose(x, 8, {3, 3, 3},
///     tapeflow::layers::Conv3DTransposeOptions().strides(2).padding("same"));
/// ```
Variable conv3d_transpose(const Variable& inputs, long filters,
                          const std::vector<long>& kernel_size,
                          const Conv3DTransposeOptions& options = {});
Variable conv3d_transpose(const Variable& inputs, long filters, long kernel_size,
                          const Conv3DTransposeOptions& options = {});

/// The layers created by the functional forms so far (oldest first), for inspection.
std::vector<std::shared_ptr<Layer>> functional_layers();

}  // namespace tapeflow::layers
