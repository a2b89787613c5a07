#pragma once
// oneDNN's own convolution and deconvolution primitives, the third side of conv3d_bench and
// conv3d_transpose_bench (issue 20): the strongest CPU kernels, in the blocked layouts oneDNN
// picks for itself. oneDNN's headers stay in onednn_primitive.cpp; without oneDNN (tapeflow built
// with TAPEFLOW_WITH_ONEDNN=OFF) `onednn_primitives_available()` is false and the benchmarks
// leave this side out.
#include <array>
#include <cstddef>
#include <memory>
#include <string>

namespace tapeflow::bench {

/// Whether this build has oneDNN's primitives.
bool onednn_primitives_available();
/// The oneDNN library's version as it reports it at run time, "2.6.3" ("none" without it).
std::string onednn_version();

/// One 3-D convolution (or transposed convolution) as tapeflow's layers see it: channels_last
/// tensors, TF's kernel layout, dilation 1; spatial values in (depth, height, width) order. The
/// pads are those of the convolution, or for `transposed` those of the convolution it is the
/// input gradient of (as oneDNN's deconvolution takes them).
/// Example: a U-Net Conv3D, `{false, 2, 16, 16, {32, 32, 32}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1},
/// {1, 1, 1}}`.
struct Conv3DGeometry {
  bool transposed = false;
  long batch = 1, in_channels = 1, out_channels = 1;
  std::array<long, 3> in_size{1, 1, 1}, kernel{1, 1, 1}, stride{1, 1, 1}, pad_before{0, 0, 0},
      pad_after{0, 0, 0};

  /// The output's spatial size.
  std::array<long, 3> out_size() const;
};

/// oneDNN's forward (training, with bias), backward-data and backward-weights (with the bias
/// gradient) primitives for one geometry: convolution_direct, or deconvolution_direct when
/// `transposed`. Every tensor is created with `format_tag::any`, so oneDNN chooses each
/// primitive's layouts; the inputs are reordered into them once, at construction, never in the
/// timed calls. Each primitive gets its own copy of the tensors it reads, in the layout it asked
/// for (a training loop that kept one layout of the weights would pay a reorder per step when two
/// primitives disagree; the method leaves reorders out).
///
/// Example:
///   OnednnConv conv(geometry, x.data(), kernel.data(), bias.data(), gy.data(), 2);
///   alternate({[&] { conv.forward(); }, [&] { conv.forward_backward(); }}, 2, 9);
class OnednnConv {
 public:
  /// `x`: input (batch, d, h, w, in_channels); `kernel`: TF's layout, (kd, kh, kw, in, out) for
  /// a convolution and (kd, kh, kw, out, in) transposed; `bias`: (out,); `gy`: the output's
  /// gradient (batch, od, oh, ow, out). All are copied. Primitives run on `threads` OpenMP
  /// threads (oneDNN's threading runtime in Debian's build).
  OnednnConv(const Conv3DGeometry& geometry, const float* x, const float* kernel, const float* bias,
             const float* gy, int threads);
  ~OnednnConv();
  OnednnConv(const OnednnConv&) = delete;
  OnednnConv& operator=(const OnednnConv&) = delete;

  /// The forward primitive alone.
  void forward();
  /// Forward, then the input gradient and the kernel and bias gradients from `gy`.
  void forward_backward();

  /// The implementations oneDNN chose ("jit:avx2", "brg:avx512_core", "ref:any", ...): forward,
  /// backward data, backward weights.
  std::string forward_impl() const;
  std::string backward_data_impl() const;
  std::string backward_weights_impl() const;
  /// The three in one line: "fwd jit:avx2, bwd data jit:avx2, bwd weights x64:gemm:jit".
  std::string implementations() const {
    return "fwd " + forward_impl() + ", bwd data " + backward_data_impl() + ", bwd weights " +
           backward_weights_impl();
  }

  /// Largest |oneDNN forward - expected| over largest |expected|, `expected` channels_last
  /// (batch, od, oh, ow, out): how far oneDNN's forward is from tapeflow's on the same input.
  double forward_relative_difference(const float* expected);

 private:
  struct Primitives;
  std::unique_ptr<Primitives> p_;
};

}  // namespace tapeflow::bench
