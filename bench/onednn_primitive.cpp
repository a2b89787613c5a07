#include "onednn_primitive.hpp"

#include <stdexcept>

#if TAPEFLOW_BENCH_HAVE_ONEDNN
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>
#include <vector>
#endif

namespace tapeflow::bench {

std::array<long, 3> Conv3DGeometry::out_size() const {
  std::array<long, 3> out{};
  for (std::size_t a = 0; a < 3; ++a)
    out[a] = transposed ? (in_size[a] - 1) * stride[a] + kernel[a] - pad_before[a] - pad_after[a]
                        : (in_size[a] + pad_before[a] + pad_after[a] - kernel[a]) / stride[a] + 1;
  return out;
}

#if TAPEFLOW_BENCH_HAVE_ONEDNN

bool onednn_primitives_available() { return true; }

std::string onednn_version() {
  const dnnl_version_t* v = dnnl_version();
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
}

namespace {

using dnnl::memory;
using tag = memory::format_tag;
constexpr auto f32 = memory::data_type::f32;

// oneDNN's OpenMP runtime runs a primitive on the calling thread's OpenMP thread count, and some
// of its kernels split their work by the count they see when the primitive is made, so both
// happen under this. The caller's count comes back afterwards (tapeflow's oneDNN sgemm sets its
// own threads' count to 1; libtorch's set_num_threads set the main thread's).
class OmpThreads {
 public:
  explicit OmpThreads(int n) : saved_(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~OmpThreads() { omp_set_num_threads(saved_); }
  OmpThreads(const OmpThreads&) = delete;
  OmpThreads& operator=(const OmpThreads&) = delete;

 private:
  int saved_;
};

memory::dims spatial(const std::array<long, 3>& s) { return {s[0], s[1], s[2]}; }

memory::dims tensor_dims(long n, long c, const std::array<long, 3>& s) {
  return {n, c, s[0], s[1], s[2]};
}

}  // namespace

struct OnednnConv::Primitives {
  int threads;
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  dnnl::primitive fwd, bwd_data, bwd_weights;
  std::unordered_map<int, memory> fwd_args, bwd_data_args, bwd_weights_args;
  std::string fwd_impl, bwd_data_impl, bwd_weights_impl;
  memory::dims dst_dims;

  explicit Primitives(int n) : threads(n) {}

  // A copy of `plain` in the layout `md` (the reorder runs here, once).
  memory in_layout(const memory::desc& md, memory plain) {
    memory m(md, engine);
    dnnl::reorder(plain, m).execute(stream, plain, m);
    stream.wait();
    return m;
  }

  // Convolution and deconvolution have the same three primitives with the same arguments; only
  // their types and algorithm differ.
  template <class Fwd, class BwdData, class BwdWeights>
  void build(dnnl::algorithm alg, const Conv3DGeometry& g, const memory& x, const memory& kernel,
             const memory& bias, const memory& gy) {
    const memory::desc src(tensor_dims(g.batch, g.in_channels, g.in_size), f32, tag::any);
    const memory::desc weights(tensor_dims(g.out_channels, g.in_channels, g.kernel), f32, tag::any);
    const memory::desc bias_md({g.out_channels}, f32, tag::any);
    const memory::desc dst(dst_dims, f32, tag::any);
    const memory::dims strides = spatial(g.stride), pad_l = spatial(g.pad_before),
                       pad_r = spatial(g.pad_after);

    const typename Fwd::primitive_desc fwd_pd(
        typename Fwd::desc(dnnl::prop_kind::forward_training, alg, src, weights, bias_md, dst,
                           strides, pad_l, pad_r),
        engine);
    // The forward's descriptor is the hint oneDNN matches the backward layouts to.
    const typename BwdData::primitive_desc bwd_data_pd(
        typename BwdData::desc(alg, src, weights, dst, strides, pad_l, pad_r), engine, fwd_pd);
    const typename BwdWeights::primitive_desc bwd_weights_pd(
        typename BwdWeights::desc(alg, src, weights, bias_md, dst, strides, pad_l, pad_r), engine,
        fwd_pd);

    fwd = Fwd(fwd_pd);
    bwd_data = BwdData(bwd_data_pd);
    bwd_weights = BwdWeights(bwd_weights_pd);
    fwd_impl = fwd_pd.impl_info_str();
    bwd_data_impl = bwd_data_pd.impl_info_str();
    bwd_weights_impl = bwd_weights_pd.impl_info_str();

    fwd_args = {{DNNL_ARG_SRC, in_layout(fwd_pd.src_desc(), x)},
                {DNNL_ARG_WEIGHTS, in_layout(fwd_pd.weights_desc(), kernel)},
                {DNNL_ARG_BIAS, in_layout(fwd_pd.bias_desc(), bias)},
                {DNNL_ARG_DST, memory(fwd_pd.dst_desc(), engine)}};
    bwd_data_args = {{DNNL_ARG_DIFF_DST, in_layout(bwd_data_pd.diff_dst_desc(), gy)},
                     {DNNL_ARG_WEIGHTS, in_layout(bwd_data_pd.weights_desc(), kernel)},
                     {DNNL_ARG_DIFF_SRC, memory(bwd_data_pd.diff_src_desc(), engine)}};
    bwd_weights_args = {{DNNL_ARG_SRC, in_layout(bwd_weights_pd.src_desc(), x)},
                        {DNNL_ARG_DIFF_DST, in_layout(bwd_weights_pd.diff_dst_desc(), gy)},
                        {DNNL_ARG_DIFF_WEIGHTS, memory(bwd_weights_pd.diff_weights_desc(), engine)},
                        {DNNL_ARG_DIFF_BIAS, memory(bwd_weights_pd.diff_bias_desc(), engine)}};
  }
};

OnednnConv::OnednnConv(const Conv3DGeometry& g, const float* x, const float* kernel,
                       const float* bias, const float* gy, int threads)
    : p_(std::make_unique<Primitives>(threads)) {
  OmpThreads omp(threads);
  p_->dst_dims = tensor_dims(g.batch, g.out_channels, g.out_size());
  // The caller's buffers as oneDNN memory, read only by the reorders. TF's kernel layouts as
  // strides of oneDNN's (out, in, kd, kh, kw) weights; a deconvolution's weights are indexed by
  // its own output channel first, as TF's transposed kernel (kd, kh, kw, out, in) is.
  const long O = g.out_channels, I = g.in_channels, KH = g.kernel[1], KW = g.kernel[2];
  const memory::dims kernel_strides = g.transposed
                                          ? memory::dims{I, 1, KH * KW * O * I, KW * O * I, O * I}
                                          : memory::dims{1, O, KH * KW * I * O, KW * I * O, I * O};
  auto& e = p_->engine;
  const memory x_plain({tensor_dims(g.batch, I, g.in_size), f32, tag::ndhwc}, e,
                       const_cast<float*>(x));
  const memory kernel_plain({tensor_dims(O, I, g.kernel), f32, kernel_strides}, e,
                            const_cast<float*>(kernel));
  const memory bias_plain({{O}, f32, tag::x}, e, const_cast<float*>(bias));
  const memory gy_plain({p_->dst_dims, f32, tag::ndhwc}, e, const_cast<float*>(gy));
  if (g.transposed)
    p_->build<dnnl::deconvolution_forward, dnnl::deconvolution_backward_data,
              dnnl::deconvolution_backward_weights>(dnnl::algorithm::deconvolution_direct, g,
                                                    x_plain, kernel_plain, bias_plain, gy_plain);
  else
    p_->build<dnnl::convolution_forward, dnnl::convolution_backward_data,
              dnnl::convolution_backward_weights>(dnnl::algorithm::convolution_direct, g, x_plain,
                                                  kernel_plain, bias_plain, gy_plain);
}

OnednnConv::~OnednnConv() = default;

void OnednnConv::forward() {
  OmpThreads omp(p_->threads);
  p_->fwd.execute(p_->stream, p_->fwd_args);
  p_->stream.wait();
}

void OnednnConv::forward_backward() {
  OmpThreads omp(p_->threads);
  p_->fwd.execute(p_->stream, p_->fwd_args);
  p_->bwd_data.execute(p_->stream, p_->bwd_data_args);
  p_->bwd_weights.execute(p_->stream, p_->bwd_weights_args);
  p_->stream.wait();
}

std::string OnednnConv::forward_impl() const { return p_->fwd_impl; }
std::string OnednnConv::backward_data_impl() const { return p_->bwd_data_impl; }
std::string OnednnConv::backward_weights_impl() const { return p_->bwd_weights_impl; }

double OnednnConv::forward_relative_difference(const float* expected) {
  forward();
  const memory::desc plain_md(p_->dst_dims, f32, tag::ndhwc);
  std::vector<float> y(plain_md.get_size() / sizeof(float));
  memory plain(plain_md, p_->engine, y.data());
  memory dst = p_->fwd_args.at(DNNL_ARG_DST);
  dnnl::reorder(dst, plain).execute(p_->stream, dst, plain);
  p_->stream.wait();
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    diff = std::max(diff, std::fabs(double(y[i]) - expected[i]));
    scale = std::max(scale, std::fabs(double(expected[i])));
  }
  return diff / std::max(scale, 1e-30);
}

#else  // built without oneDNN: the benchmarks check onednn_primitives_available() first

bool onednn_primitives_available() { return false; }
std::string onednn_version() { return "none"; }

struct OnednnConv::Primitives {};

OnednnConv::OnednnConv(const Conv3DGeometry&, const float*, const float*, const float*,
                       const float*, int) {
  throw std::logic_error("tapeflow was built without oneDNN (TAPEFLOW_WITH_ONEDNN=OFF)");
}
OnednnConv::~OnednnConv() = default;
void OnednnConv::forward() {}
void OnednnConv::forward_backward() {}
std::string OnednnConv::forward_impl() const { return {}; }
std::string OnednnConv::backward_data_impl() const { return {}; }
std::string OnednnConv::backward_weights_impl() const { return {}; }
double OnednnConv::forward_relative_difference(const float*) { return 0; }

#endif

}  // namespace tapeflow::bench
