#include "tapeflow/layers/detail/conv_geometry.hpp"

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/core/strings.hpp"

namespace tapeflow::layers::detail {

std::vector<long> normalize_tuple(const std::string& layer, const char* what,
                                  const std::vector<long>& v, std::size_t rank, long min_value) {
  if (v.size() != 1 && v.size() != rank)
    fail(layer, std::string(what) + " " + (v.empty() ? std::string("()") : shape_str(v)) + " has " +
                    std::to_string(v.size()) + " values, expected " +
                    (rank == 1 ? std::string("1") : "1 or " + std::to_string(rank)) +
                    " (one per spatial axis)");
  for (long e : v)
    if (e < min_value)
      fail(layer,
           std::string(what) + " " + shape_str(v) + " must be " +
               (min_value == 0 ? std::string(">= 0") : "> " + std::to_string(min_value - 1)) +
               " on every axis");
  return v.size() == rank ? v : std::vector<long>(rank, v[0]);
}

void check_conv_input_rank(const std::string& layer, const Shape& s, const ConvGeometry& g) {
  const std::size_t rank = g.spatial_rank();
  if (s.size() != rank + 2)
    fail_shape(layer, "expected an input of rank " + std::to_string(rank + 2) + ", got shape " +
                          shape_str(s) + " (rank " + std::to_string(s.size()) + ")");
}

Shape conv_output_shape(const std::string& layer, const Shape& s, const ConvGeometry& g,
                        std::size_t channels, const OutputLength& transposed_length) {
  check_conv_input_rank(layer, s, g);
  const std::size_t rank = g.spatial_rank();
  const std::size_t first = g.channels_first ? 2 : 1;
  Shape out = s;
  out[g.channel_axis()] = channels;
  for (std::size_t a = 0; a < rank; ++a) {
    const long in = long(s[first + a]), k = g.kernel_size[a], st = g.strides[a],
               d = g.dilation_rate[a];
    const long dk = d * (k - 1) + 1;
    long len = 0;
    if (transposed_length)
      len = transposed_length(a, in);
    else if (g.padding == "valid")
      len = in >= dk ? (in - dk) / st + 1 : 0;
    else  // same, causal
      len = (in + st - 1) / st;
    if (len < 1)
      fail_shape(layer, "the input of shape " + shape_str(s) +
                            " is too small: the output length along spatial axis " +
                            std::to_string(a) + " would be " + std::to_string(len) + " (input " +
                            std::to_string(in) + ", kernel_size " + std::to_string(k) +
                            ", strides " + std::to_string(st) + ", dilation_rate " +
                            std::to_string(d) + ", padding " + g.padding + ")");
    out[first + a] = std::size_t(len);
  }
  return out;
}

void check_conv_call_input(const std::string& layer, const Shape& s, const Shape& built,
                           const ConvGeometry& g, std::size_t channels,
                           const OutputLength& transposed_length) {
  const std::size_t ca = g.channel_axis();
  // The rank first: the channel axis must exist before its size is compared.
  if (s.size() == built.size() && s[ca] != built[ca])
    fail_shape(layer, "input has " + std::to_string(s[ca]) + " channels (axis " +
                          std::to_string(ca) + ") but the layer was built for " +
                          std::to_string(built[ca]) + ": shape " + shape_str(s) + " vs " +
                          shape_str(built));
  conv_output_shape(layer, s, g, channels, transposed_length);
}

}  // namespace tapeflow::layers::detail
