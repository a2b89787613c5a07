#include "tapeflow/framework/data/augment.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

#include "tapeflow/framework/core/errors.hpp"

namespace tapeflow::data {

namespace {

using Kind = Augment::Op::Kind;
using Offsets = std::array<std::ptrdiff_t, 3>;

const char* op_name(Kind k) {
  switch (k) {
    case Kind::kFlip:
      return "flip";
    case Kind::kRot90:
      return "rot90";
    case Kind::kCrop:
      return "random_crop";
    case Kind::kPad:
      return "random_pad";
    case Kind::kCropOrPad:
      return "random_crop_or_pad";
    case Kind::kCenter:
      return "center_crop_or_pad";
    case Kind::kScale:
      return "intensity_scale";
    case Kind::kShift:
      return "intensity_shift";
    case Kind::kNoise:
      return "gaussian_noise";
  }
  return "?";
}

std::string where_of(Kind k) {
  std::string w = "Augment.";
  w += op_name(k);
  return w;
}

void check_axis(Kind k, const char* arg, int axis) {
  TAPEFLOW_CHECK(axis >= 0 && axis <= 2, ValueError, where_of(k), arg,
                 ": spatial axes are 0 (D), 1 (H) and 2 (W), got ", axis);
}

void check_size(Kind k, const Size3& size) {
  for (std::size_t a = 0; a < 3; ++a)
    TAPEFLOW_CHECK(size[a] > 0, ValueError, where_of(k), "size: every extent must be >= 1, got ",
                   shape_str(size));
}

void check_finite(Kind k, const char* arg, float v) {
  TAPEFLOW_CHECK(std::isfinite(v), ValueError, where_of(k), arg, ": must be finite, got ", v);
}

// Channels of a volume tensor (rank 3: one, rank 4: the last axis).
std::size_t channels(const Tensor& t) { return t.dimension() == 4 ? t.shape()[3] : 1; }

Size3 spatial(const Tensor& t, std::size_t first) {
  return {t.shape()[first], t.shape()[first + 1], t.shape()[first + 2]};
}

Tensor volume_like(const Tensor& t, const Size3& dims) {
  Shape shape{dims[0], dims[1], dims[2]};
  if (t.dimension() == 4) shape.push_back(t.shape()[3]);
  return Tensor::from_shape(shape);
}

// The flips and rotations pending on a sample, composed into one signed axis permutation:
// output axis j reads input axis src[j], reversed when rev[j]. Composing them means one pass
// over the memory whatever the number of flips and rotations in a row.
struct AxisMap {
  std::array<int, 3> src{0, 1, 2};
  std::array<bool, 3> rev{false, false, false};
  bool identity() const {
    return src == std::array<int, 3>{0, 1, 2} && !rev[0] && !rev[1] && !rev[2];
  }
  // `then` applied after this one.
  AxisMap followed_by(const AxisMap& then) const {
    AxisMap out;
    for (int j = 0; j < 3; ++j) {
      out.src[j] = src[then.src[j]];
      out.rev[j] = rev[then.src[j]] != then.rev[j];
    }
    return out;
  }
};

Tensor permute(const Tensor& in, const Size3& n, const AxisMap& m) {
  const std::size_t c = channels(in);
  const std::array<std::ptrdiff_t, 3> stride{static_cast<std::ptrdiff_t>(n[1] * n[2] * c),
                                             static_cast<std::ptrdiff_t>(n[2] * c),
                                             static_cast<std::ptrdiff_t>(c)};
  Size3 o;
  std::array<std::ptrdiff_t, 3> step;
  std::ptrdiff_t start = 0;
  for (int j = 0; j < 3; ++j) {
    o[j] = n[m.src[j]];
    const std::ptrdiff_t s = stride[m.src[j]];
    step[j] = m.rev[j] ? -s : s;
    if (m.rev[j]) start += static_cast<std::ptrdiff_t>(o[j] - 1) * s;
  }
  Tensor out = volume_like(in, o);
  const float* src = in.data();
  float* dst = out.data();
  const bool contiguous_rows = step[2] == static_cast<std::ptrdiff_t>(c);
  for (std::size_t i0 = 0; i0 < o[0]; ++i0)
    for (std::size_t i1 = 0; i1 < o[1]; ++i1) {
      const float* p = src + start + static_cast<std::ptrdiff_t>(i0) * step[0] +
                       static_cast<std::ptrdiff_t>(i1) * step[1];
      if (contiguous_rows) {
        std::memcpy(dst, p, o[2] * c * sizeof(float));
        dst += o[2] * c;
      } else if (c == 1) {
        for (std::size_t i2 = 0; i2 < o[2]; ++i2, p += step[2]) *dst++ = *p;
      } else {
        for (std::size_t i2 = 0; i2 < o[2]; ++i2, p += step[2], dst += c)
          std::memcpy(dst, p, c * sizeof(float));
      }
    }
  return out;
}

// The window of `size` whose origin is at input position `off` (negative: padding before);
// positions outside the input get `pad`.
Tensor window(const Tensor& in, const Size3& n, const Size3& size, const Offsets& off, float pad) {
  const std::size_t c = channels(in);
  Tensor out = volume_like(in, size);
  float* dst = out.data();
  const std::size_t row = size[2] * c;
  const auto inside = [&](int a, std::size_t i) {
    const std::ptrdiff_t k = static_cast<std::ptrdiff_t>(i) + off[a];
    return k >= 0 && k < static_cast<std::ptrdiff_t>(n[a]);
  };
  // The output range of axis 2 that reads the input, [lo, hi).
  const std::ptrdiff_t s2 = static_cast<std::ptrdiff_t>(size[2]);
  const std::ptrdiff_t lo = std::clamp<std::ptrdiff_t>(-off[2], 0, s2);
  const std::ptrdiff_t hi =
      std::clamp<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(n[2]) - off[2], lo, s2);
  for (std::size_t i0 = 0; i0 < size[0]; ++i0)
    for (std::size_t i1 = 0; i1 < size[1]; ++i1, dst += row) {
      if (!inside(0, i0) || !inside(1, i1) || lo == hi) {
        std::fill(dst, dst + row, pad);
        continue;
      }
      const std::size_t k0 = i0 + off[0], k1 = i1 + off[1];
      const float* src = in.data() + ((k0 * n[1] + k1) * n[2] + (lo + off[2])) * c;
      std::fill(dst, dst + lo * c, pad);
      std::memcpy(dst + lo * c, src, (hi - lo) * c * sizeof(float));
      std::fill(dst + hi * c, dst + row, pad);
    }
  return out;
}

// A uniform integer in [0, n].
std::size_t draw_upto(RandomGenerator& gen, std::size_t n) {
  return static_cast<std::size_t>(gen.next_u64() % (static_cast<std::uint64_t>(n) + 1));
}

// Box-Muller in float, two values per 64-bit draw (24 bits each for the radius and the angle:
// the tails reach 5.8 standard deviations). RandomGenerator::normal (double, one draw per
// uniform) costs four times as much, which is most of the time of a 64^3 augmentation.
void add_noise(Tensor& img, float stddev, RandomGenerator& gen) {
  constexpr float kTwoPi = 6.283185307179586f;
  float* p = img.data();
  const std::size_t size = img.size();
  for (std::size_t i = 0; i < size; i += 2) {
    const std::uint64_t r = gen.next_u64();
    const float u1 = static_cast<float>((r >> 40) + 1) * 0x1.0p-24f;         // (0, 1]
    const float u2 = static_cast<float>((r >> 16) & 0xFFFFFF) * 0x1.0p-24f;  // [0, 1)
    const float radius = stddev * std::sqrt(-2.f * std::log(u1));
    const float angle = kTwoPi * u2;
    p[i] += radius * std::cos(angle);
    if (i + 1 < size) p[i + 1] += radius * std::sin(angle);
  }
}

// One sample: its components and their spatial shape, with the flips and rotations not yet
// applied to the memory.
struct Sample {
  std::vector<Tensor> comps;
  Size3 dims;  // of the tensors in `comps`
  AxisMap pending;

  Size3 current() const {
    return {dims[pending.src[0]], dims[pending.src[1]], dims[pending.src[2]]};
  }
  void flush() {
    if (pending.identity()) return;
    for (auto& t : comps) t = permute(t, dims, pending);
    dims = current();
    pending = AxisMap();
  }
};

void crop_or_pad(Sample& s, const Augment::Op& op, RandomGenerator& gen) {
  const Size3 n = s.current();
  const std::string where = where_of(op.kind);
  if (op.kind == Kind::kCrop)
    TAPEFLOW_CHECK(n[0] >= op.size[0] && n[1] >= op.size[1] && n[2] >= op.size[2], ShapeError,
                   where, "size ", shape_str(op.size), " is larger than the volume ", shape_str(n),
                   " along an axis (random_crop_or_pad pads there instead)");
  if (op.kind == Kind::kPad)
    TAPEFLOW_CHECK(n[0] <= op.size[0] && n[1] <= op.size[1] && n[2] <= op.size[2], ShapeError,
                   where, "size ", shape_str(op.size), " is smaller than the volume ", shape_str(n),
                   " along an axis (random_crop_or_pad crops there instead)");
  Offsets off;
  for (int a = 0; a < 3; ++a) {
    const std::size_t want = op.size[a];
    const std::size_t slack = n[a] > want ? n[a] - want : want - n[a];
    const std::size_t k = op.kind == Kind::kCenter ? slack / 2 : draw_upto(gen, slack);
    off[a] = n[a] >= want ? static_cast<std::ptrdiff_t>(k) : -static_cast<std::ptrdiff_t>(k);
  }
  if (n == op.size) return;  // the draws are made all the same
  s.flush();
  for (std::size_t i = 0; i < s.comps.size(); ++i)
    s.comps[i] = window(s.comps[i], s.dims, op.size, off, i == 0 ? op.image_value : op.label_value);
  s.dims = op.size;
}

void run_ops(const std::vector<Augment::Op>& ops, Sample& s, RandomGenerator& gen) {
  for (const auto& op : ops) {
    switch (op.kind) {
      case Kind::kFlip:
        for (int a : op.axes)
          if (gen.uniform01() < op.p) s.pending.rev[a] = !s.pending.rev[a];
        break;
      case Kind::kRot90: {
        const int a = op.axes[0], b = op.axes[1];
        const Size3 n = s.current();
        const bool square = n[a] == n[b];
        const std::uint64_t k =
            op.keep_shape && !square ? 2 * (gen.next_u64() % 2) : gen.next_u64() % 4;
        // numpy.rot90 in the plane (a, b): k = 1 is out[i, j] = in[j, n_b - 1 - i].
        AxisMap r;
        if (k == 1) {
          r.src[a] = b, r.rev[a] = true, r.src[b] = a;
        } else if (k == 2) {
          r.rev[a] = r.rev[b] = true;
        } else if (k == 3) {
          r.src[a] = b, r.src[b] = a, r.rev[b] = true;
        }
        s.pending = s.pending.followed_by(r);
        break;
      }
      case Kind::kCrop:
      case Kind::kPad:
      case Kind::kCropOrPad:
      case Kind::kCenter:
        crop_or_pad(s, op, gen);
        break;
      case Kind::kScale:
      case Kind::kShift: {
        // Pointwise: no need to apply the pending flips first.
        const float v = op.lo == op.hi ? op.lo : gen.uniform(op.lo, op.hi);
        Tensor& img = s.comps[0];
        float* p = img.data();
        const std::size_t size = img.size();
        if (op.kind == Kind::kScale)
          for (std::size_t i = 0; i < size; ++i) p[i] *= v;
        else
          for (std::size_t i = 0; i < size; ++i) p[i] += v;
        break;
      }
      case Kind::kNoise: {
        // In the image's current layout, so that the values drawn land where the op sequence
        // says.
        s.flush();
        add_noise(s.comps[0], op.stddev, gen);
        break;
      }
    }
  }
  s.flush();
}

Tensor sample_of(const Tensor& t, std::size_t i) {
  Shape shape(t.shape().begin() + 1, t.shape().end());
  Tensor out = Tensor::from_shape(shape);
  std::memcpy(out.data(), t.data() + i * out.size(), out.size() * sizeof(float));
  return out;
}

std::string component_name(std::size_t i) {
  std::string s = "component ";
  s += std::to_string(i);
  s += i == 0 ? " (the image)" : i == 1 ? " (the label)" : "";
  return s;
}

}  // namespace

// ---- the setters ------------------------------------------------------------------------------

Augment& Augment::flip(std::vector<int> axes, double p) {
  const Kind k = Kind::kFlip;
  TAPEFLOW_CHECK(!axes.empty(), ValueError, where_of(k), "axes: none given");
  for (std::size_t i = 0; i < axes.size(); ++i) {
    check_axis(k, "axes", axes[i]);
    for (std::size_t j = 0; j < i; ++j)
      TAPEFLOW_CHECK(axes[j] != axes[i], ValueError, where_of(k), "axes: axis ", axes[i],
                     " given twice");
  }
  TAPEFLOW_CHECK(p >= 0 && p <= 1, ValueError, where_of(k), "p: a probability in [0, 1], got ", p);
  Op op;
  op.kind = k;
  op.axes = std::move(axes);
  op.p = p;
  ops_.push_back(std::move(op));
  return *this;
}

Augment& Augment::rot90(std::array<int, 2> plane, bool keep_shape) {
  const Kind k = Kind::kRot90;
  check_axis(k, "plane", plane[0]);
  check_axis(k, "plane", plane[1]);
  TAPEFLOW_CHECK(plane[0] != plane[1], ValueError, where_of(k),
                 "plane: two different spatial axes, got (", plane[0], ", ", plane[1], ")");
  Op op;
  op.kind = k;
  op.axes = {plane[0], plane[1]};
  op.keep_shape = keep_shape;
  ops_.push_back(std::move(op));
  return *this;
}

namespace {
Augment::Op window_op(Kind k, const Size3& size, float image_value, float label_value) {
  check_size(k, size);
  check_finite(k, "image_value", image_value);
  check_finite(k, "label_value", label_value);
  Augment::Op op;
  op.kind = k;
  op.size = size;
  op.image_value = image_value;
  op.label_value = label_value;
  return op;
}

Augment::Op range_op(Kind k, float lo, float hi) {
  check_finite(k, "lo", lo);
  check_finite(k, "hi", hi);
  TAPEFLOW_CHECK(lo <= hi, ValueError, where_of(k), "lo must be <= hi, got lo = ", lo,
                 ", hi = ", hi);
  Augment::Op op;
  op.kind = k;
  op.lo = lo;
  op.hi = hi;
  return op;
}
}  // namespace

Augment& Augment::random_crop(Size3 size) {
  ops_.push_back(window_op(Kind::kCrop, size, 0.f, 0.f));
  return *this;
}
Augment& Augment::random_pad(Size3 size, float image_value, float label_value) {
  ops_.push_back(window_op(Kind::kPad, size, image_value, label_value));
  return *this;
}
Augment& Augment::random_crop_or_pad(Size3 size, float image_value, float label_value) {
  ops_.push_back(window_op(Kind::kCropOrPad, size, image_value, label_value));
  return *this;
}
Augment& Augment::center_crop_or_pad(Size3 size, float image_value, float label_value) {
  ops_.push_back(window_op(Kind::kCenter, size, image_value, label_value));
  return *this;
}

Augment& Augment::intensity_scale(float lo, float hi) {
  ops_.push_back(range_op(Kind::kScale, lo, hi));
  return *this;
}
Augment& Augment::intensity_shift(float lo, float hi) {
  ops_.push_back(range_op(Kind::kShift, lo, hi));
  return *this;
}

Augment& Augment::gaussian_noise(float stddev) {
  const Kind k = Kind::kNoise;
  check_finite(k, "stddev", stddev);
  TAPEFLOW_CHECK(stddev >= 0, ValueError, where_of(k), "stddev: must be >= 0, got ", stddev);
  Op op;
  op.kind = k;
  op.stddev = stddev;
  ops_.push_back(std::move(op));
  return *this;
}

// ---- applying ---------------------------------------------------------------------------------

Element Augment::apply(Element components, RandomGenerator& gen) const {
  const std::string where = "Augment";
  TAPEFLOW_CHECK(!components.empty(), ShapeError, where, "no component given (an image first)");
  const std::size_t rank0 = components[0].dimension();
  TAPEFLOW_CHECK(rank0 >= 3 && rank0 <= 5, ShapeError, where,
                 "the image must be a volume [D, H, W, C] or [D, H, W], or a batch "
                 "[N, D, H, W, C]; got shape ",
                 shape_str(components[0].shape()));
  const bool batched = rank0 == 5;
  const std::size_t first = batched ? 1 : 0;  // the first spatial axis
  const Size3 dims = spatial(components[0], first);
  for (std::size_t i = 1; i < components.size(); ++i) {
    const Tensor& t = components[i];
    const std::size_t r = t.dimension();
    if (batched)
      TAPEFLOW_CHECK((r == 4 || r == 5) && t.shape()[0] == components[0].shape()[0], ShapeError,
                     where, component_name(i), " has shape ", shape_str(t.shape()),
                     "; with a batch image ", shape_str(components[0].shape()),
                     " every component must be a batch [N, D, H, W(, C)] of the same N");
    else
      TAPEFLOW_CHECK(r == 3 || r == 4, ShapeError, where, component_name(i), " has shape ",
                     shape_str(t.shape()), "; a volume is [D, H, W, C] or [D, H, W]");
    TAPEFLOW_CHECK(spatial(t, first) == dims, ShapeError, where, component_name(i),
                   " has spatial shape ", shape_str(spatial(t, first)), " and the image ",
                   shape_str(dims), "; the geometric ops need them equal");
  }

  if (!batched) {
    Sample s{std::move(components), dims, {}};
    run_ops(ops_, s, gen);
    return std::move(s.comps);
  }

  // A batch: each sample in turn, then stacked again.
  const std::size_t n = components[0].shape()[0];
  std::vector<Element> done(n);
  for (std::size_t k = 0; k < n; ++k) {
    Sample s{{}, dims, {}};
    for (const auto& t : components) s.comps.push_back(sample_of(t, k));
    run_ops(ops_, s, gen);
    TAPEFLOW_CHECK(k == 0 || s.dims == spatial(done[0][0], 0), ShapeError, where, "sample ", k,
                   " of the batch came out ", shape_str(s.dims), " and sample 0 ",
                   shape_str(spatial(done[0][0], 0)),
                   " (a rot90 in a plane that is not square: give keep_shape, crop or pad to a "
                   "fixed size, or augment before batching)");
    done[k] = std::move(s.comps);
  }
  Element out;
  for (std::size_t i = 0; i < done[0].size(); ++i) {
    Shape shape{n};
    shape.insert(shape.end(), done[0][i].shape().begin(), done[0][i].shape().end());
    Tensor t = Tensor::from_shape(shape);
    const std::size_t row = done[0][i].size();
    for (std::size_t k = 0; k < n; ++k)
      std::memcpy(t.data() + k * row, done[k][i].data(), row * sizeof(float));
    out.push_back(std::move(t));
  }
  return out;
}

Element Augment::apply(Element components, std::uint64_t seed) const {
  RandomGenerator gen(seed);
  return apply(std::move(components), gen);
}

std::pair<Tensor, Tensor> Augment::apply(const Tensor& image, const Tensor& label,
                                         RandomGenerator& gen) const {
  Element e = apply(Element{image, label}, gen);
  return {std::move(e[0]), std::move(e[1])};
}

std::pair<Tensor, Tensor> Augment::apply(const Tensor& image, const Tensor& label,
                                         std::uint64_t seed) const {
  RandomGenerator gen(seed);
  return apply(image, label, gen);
}

Tensor Augment::apply(const Tensor& image, RandomGenerator& gen) const {
  return std::move(apply(Element{image}, gen)[0]);
}

Tensor Augment::apply(const Tensor& image, std::uint64_t seed) const {
  RandomGenerator gen(seed);
  return apply(image, gen);
}

std::string Augment::str() const {
  std::ostringstream os;
  os << "Augment(";
  for (std::size_t i = 0; i < ops_.size(); ++i) {
    const Op& op = ops_[i];
    if (i) os << ", ";
    os << op_name(op.kind) << '(';
    switch (op.kind) {
      case Kind::kFlip:
        os << "axes=" << shape_str(op.axes) << ", p=" << op.p;
        break;
      case Kind::kRot90:
        os << "plane=(" << op.axes[0] << ", " << op.axes[1] << ')';
        if (op.keep_shape) os << ", keep_shape=true";
        break;
      case Kind::kCrop:
        os << "size=" << shape_str(op.size);
        break;
      case Kind::kPad:
      case Kind::kCropOrPad:
      case Kind::kCenter:
        os << "size=" << shape_str(op.size) << ", image_value=" << op.image_value
           << ", label_value=" << op.label_value;
        break;
      case Kind::kScale:
      case Kind::kShift:
        os << "lo=" << op.lo << ", hi=" << op.hi;
        break;
      case Kind::kNoise:
        os << "stddev=" << op.stddev;
        break;
    }
    os << ')';
  }
  os << ')';
  return os.str();
}

}  // namespace tapeflow::data
