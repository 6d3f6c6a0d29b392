#include "tessera/tokenize/features_svd.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>

#include <algorithm>

#include "tessera/core/error.h"

namespace tessera::tokenize {

namespace {

// Orthonormal basis of the column space of y: [rows, c] -> [rows, c].
torch::Tensor orthonormal_basis(const torch::Tensor& y) { return std::get<0>(torch::linalg::qr(y, "reduced")); }

}  // namespace

TruncatedSvd randomized_svd(const torch::Tensor& a, std::int64_t rank, const RandomizedSvdOptions& options) {
  if (a.dim() != 2 || a.scalar_type() != torch::kFloat64) {
    throw Error(fmt::format("randomized_svd: expected a 2-D float64 matrix, got {}-D {}", a.dim(), std::string(c10::toString(a.scalar_type()))));
  }
  if (rank < 1) throw Error(fmt::format("randomized_svd: rank must be >= 1, got {}", rank));
  torch::NoGradGuard no_grad;
  const std::int64_t m = a.size(0), n = a.size(1);
  const std::int64_t k = std::min({rank, m, n});
  const std::int64_t l = std::min({k + std::max<std::int64_t>(options.oversample, 0), m, n});
  const torch::Tensor at = a.is_sparse() ? a.t().coalesce() : a.t();

  auto generator = at::detail::createCPUGenerator(options.seed);
  const torch::Tensor omega = torch::randn({n, l}, generator, torch::TensorOptions().dtype(torch::kFloat64));
  torch::Tensor q = orthonormal_basis(torch::mm(a, omega));  // [m, l]
  for (std::int64_t i = 0; i < options.power_iterations; ++i) {
    const torch::Tensor z = orthonormal_basis(torch::mm(at, q));  // [n, l]
    q = orthonormal_basis(torch::mm(a, z));
  }
  const torch::Tensor b = torch::mm(at, q).t();  // Q^T A: [l, n]
  auto [ub, s, vh] = torch::linalg::svd(b, /*full_matrices=*/false, c10::nullopt);
  TruncatedSvd out;
  out.u = torch::mm(q, ub.narrow(1, 0, k));
  out.s = s.narrow(0, 0, k).clone();
  out.v = vh.narrow(0, 0, k).t().contiguous();
  // Sign convention: the largest-magnitude entry of each left singular vector is positive.
  const torch::Tensor pivot = out.u.abs().argmax(0);                        // [k]
  const torch::Tensor sign = out.u.gather(0, pivot.unsqueeze(0)).sign();    // [1, k]
  const torch::Tensor fixed_sign = torch::where(sign == 0, torch::ones_like(sign), sign);
  out.u = out.u * fixed_sign;
  out.v = out.v * fixed_sign;
  return out;
}

}  // namespace tessera::tokenize
