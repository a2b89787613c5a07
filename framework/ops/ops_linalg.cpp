// matmul over tapeflow::gemm::sgemm, the single GEMM dispatch point.
#include <algorithm>
#include <string>
#include <utility>

#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/framework/runtime/gemm.hpp"

namespace tapeflow {

using detail::result;

namespace {

std::string flags(bool ta, bool tb) {
  if (!ta && !tb) return "";
  std::string s = " (with ";
  if (ta) s += "transpose_a";
  if (ta && tb) s += " and ";
  if (tb) s += "transpose_b";
  return s + ")";
}

}  // namespace

Variable matmul(const Variable& a, const Variable& b, bool transpose_a, bool transpose_b) {
  Shape as = a.shape(), bs = b.shape();
  for (auto [name, s] : {std::pair{"a", &as}, std::pair{"b", &bs}})
    if (s->size() < 2)
      fail_shape("matmul", std::string(name) + " has shape " + shape_str(*s) + " (rank " +
                               std::to_string(s->size()) +
                               "), but matmul needs rank >= 2; use expand_dims for a vector");
  std::size_t ra = as.size(), rb = bs.size();
  std::size_t m = transpose_a ? as[ra - 1] : as[ra - 2];
  std::size_t ka = transpose_a ? as[ra - 2] : as[ra - 1];
  std::size_t kb = transpose_b ? bs[rb - 1] : bs[rb - 2];
  std::size_t n = transpose_b ? bs[rb - 2] : bs[rb - 1];
  if (ka != kb)
    fail_shape("matmul", "a has shape " + shape_str(as) + " but b has shape " + shape_str(bs) +
                             flags(transpose_a, transpose_b) + ": inner dimensions " +
                             std::to_string(ka) + " and " + std::to_string(kb) + " differ");
  std::size_t k = ka;

  // Batch dims broadcast like NumPy, aligned from the right.
  Shape ba(as.begin(), as.end() - 2), bb(bs.begin(), bs.end() - 2);
  std::size_t nb = std::max(ba.size(), bb.size());
  Shape batch(nb);
  for (std::size_t i = 0; i < nb; ++i) {
    std::size_t da = i + ba.size() >= nb ? ba[i + ba.size() - nb] : 1;
    std::size_t db = i + bb.size() >= nb ? bb[i + bb.size() - nb] : 1;
    if (da != db && da != 1 && db != 1)
      fail_shape("matmul", "a has shape " + shape_str(as) + " and b has shape " + shape_str(bs) +
                               ": batch dimensions " + shape_str(ba) + " and " + shape_str(bb) +
                               " cannot be broadcast together");
    batch[i] = da == 1 ? db : da;
  }

  // A batch of rows times one matrix is one GEMM over all the rows (and so is its gradient).
  if (rb == 2 && ra > 2 && !transpose_a) {
    std::size_t rows = 1;
    for (std::size_t i = 0; i + 1 < ra; ++i) rows *= as[i];
    Variable y2 =
        matmul(reshape(a, {static_cast<long>(rows), static_cast<long>(k)}), b, false, transpose_b);
    std::vector<long> out(as.begin(), as.end() - 1);
    out.push_back(static_cast<long>(n));
    return reshape(y2, out);
  }

  Shape out = batch;
  out.push_back(m);
  out.push_back(n);
  Tensor c = xt::zeros<float>(out);
  std::size_t nbatch = 1;
  for (auto d : batch) nbatch *= d;
  if (k > 0 && m > 0 && n > 0) {
    const float* pa = a.value().data();
    const float* pb = b.value().data();
    std::size_t lda = as[ra - 1], ldb = bs[rb - 1];
    std::vector<std::size_t> idx(nb, 0);
    for (std::size_t t = 0; t < nbatch; ++t) {
      // Flat batch offsets of a and b for the multi-index idx, size-1 dims pinned to 0.
      std::size_t oa = 0, ob = 0;
      for (std::size_t i = 0; i < nb; ++i) {
        if (i + ba.size() >= nb) {
          std::size_t d = ba[i + ba.size() - nb];
          oa = oa * d + (d == 1 ? 0 : idx[i]);
        }
        if (i + bb.size() >= nb) {
          std::size_t d = bb[i + bb.size() - nb];
          ob = ob * d + (d == 1 ? 0 : idx[i]);
        }
      }
      gemm::sgemm(transpose_a, transpose_b, m, n, k, 1.f, pa + oa * m * k, lda, pb + ob * k * n,
                  ldb, 0.f, c.data() + t * m * n, n);
      for (std::size_t i = nb; i-- > 0;) {
        if (++idx[i] < batch[i]) break;
        idx[i] = 0;
      }
    }
  }
  Variable y = result(std::move(c));
  if (detail::recording({&a, &b}))
    detail::record("matmul", {a, b}, y,
                   [a, b, ta = transpose_a, tb = transpose_b](const Variable& g) {
                     Variable ga, gb;
                     if (!ta && !tb) {
                       ga = matmul(g, b, false, true);
                       gb = matmul(a, g, true, false);
                     } else if (!ta && tb) {
                       ga = matmul(g, b, false, false);
                       gb = matmul(g, a, true, false);
                     } else if (ta && !tb) {
                       ga = matmul(b, g, false, true);
                       gb = matmul(a, g, false, false);
                     } else {
                       ga = matmul(b, g, true, true);
                       gb = matmul(g, a, true, true);
                     }
                     return std::vector<Variable>{detail::unbroadcast(ga, a.shape()),
                                                  detail::unbroadcast(gb, b.shape())};
                   });
  return y;
}

}  // namespace tapeflow
