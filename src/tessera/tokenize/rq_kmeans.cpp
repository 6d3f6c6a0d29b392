#include "tessera/tokenize/rq_kmeans.h"

#include <random>

#include <fmt/format.h>

#include "tessera/core/error.h"
#include "tessera/tokenize/kmeans.h"

namespace tessera::tokenize {

namespace {

void check_shape(const char* who, std::int64_t n, std::int64_t dim, std::int32_t num_codebooks, std::int32_t codebook_size) {
  if (num_codebooks < 1) throw Error(fmt::format("{}: num_codebooks must be >= 1, got {}", who, num_codebooks));
  if (codebook_size < 1) throw Error(fmt::format("{}: codebook_size must be >= 1, got {}", who, codebook_size));
  if (dim < 1) throw Error(fmt::format("{}: vector dimension must be >= 1, got {}", who, dim));
  if (n < 0) throw Error(fmt::format("{}: negative number of vectors", who));
}

// Adds level `level`'s centroids to the reconstruction and subtracts them from the residual.
void apply_level(ResidualCodes& out, std::int32_t level, std::vector<float>& residual) {
  const auto L = out.num_codebooks;
  const auto& codebook = out.codebooks[level];
  for (std::int64_t i = 0; i < out.n; ++i) {
    const float* c = codebook.data() + static_cast<std::int64_t>(out.codes[i * L + level]) * out.dim;
    for (std::int64_t j = 0; j < out.dim; ++j) {
      out.reconstruction[i * out.dim + j] += c[j];
      residual[i * out.dim + j] -= c[j];
    }
  }
}

ResidualCodes empty_codes(std::int64_t n, std::int64_t dim, std::int32_t L, std::int32_t K) {
  ResidualCodes out;
  out.n = n;
  out.dim = dim;
  out.num_codebooks = L;
  out.codebook_size = K;
  out.codes.assign(static_cast<std::size_t>(n * L), 0);
  out.codebooks.resize(static_cast<std::size_t>(L));
  out.reconstruction.assign(static_cast<std::size_t>(n * dim), 0.0f);
  return out;
}

}  // namespace

double mean_squared_error(const float* a, const float* b, std::int64_t n, std::int64_t dim) {
  if (n * dim == 0) return 0.0;
  double s = 0.0;
  for (std::int64_t i = 0; i < n * dim; ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    s += d * d;
  }
  return s / static_cast<double>(n * dim);
}

ResidualCodes rq_kmeans(const float* x, std::int64_t n, std::int64_t dim, const RqKMeansOptions& options) {
  check_shape("rq-kmeans", n, dim, options.num_codebooks, options.codebook_size);
  const auto L = options.num_codebooks;
  ResidualCodes out = empty_codes(n, dim, L, options.codebook_size);
  std::vector<float> residual(x, x + n * dim);
  for (std::int32_t level = 0; level < L; ++level) {
    KMeansOptions km;
    km.k = options.codebook_size;
    km.niter = options.niter;
    km.seed = options.seed + static_cast<std::uint64_t>(level);
    km.balanced = options.balanced;
    auto clusters = kmeans(residual.data(), n, dim, km);
    for (std::int64_t i = 0; i < n; ++i) out.codes[i * L + level] = clusters.assignments[i];
    out.codebooks[level] = std::move(clusters.centroids);
    apply_level(out, level, residual);
    out.mse_by_level.push_back(mean_squared_error(out.reconstruction.data(), x, n, dim));
  }
  return out;
}

ResidualCodes random_residual_codes(const float* x, std::int64_t n, std::int64_t dim, std::int32_t num_codebooks,
                                    std::int32_t codebook_size, std::uint64_t seed) {
  check_shape("random codes", n, dim, num_codebooks, codebook_size);
  const auto L = num_codebooks;
  const std::int64_t K = codebook_size;
  ResidualCodes out = empty_codes(n, dim, L, codebook_size);
  std::mt19937_64 rng(seed);
  // Integer draws by rejection-free modulo of 64-bit words: the bias is < K / 2^64, and unlike
  // std::uniform_int_distribution the sequence is the same on every standard library.
  for (auto& c : out.codes) c = static_cast<std::int32_t>(rng() % static_cast<std::uint64_t>(K));
  std::vector<float> residual(x, x + n * dim);
  for (std::int32_t level = 0; level < L; ++level) {
    std::vector<double> sums(static_cast<std::size_t>(K * dim), 0.0);
    std::vector<std::int64_t> counts(static_cast<std::size_t>(K), 0);
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t c = out.codes[i * L + level];
      ++counts[c];
      for (std::int64_t j = 0; j < dim; ++j) sums[c * dim + j] += residual[i * dim + j];
    }
    auto& codebook = out.codebooks[level];
    codebook.assign(static_cast<std::size_t>(K * dim), 0.0f);
    for (std::int64_t c = 0; c < K; ++c) {
      if (counts[c] == 0) continue;
      for (std::int64_t j = 0; j < dim; ++j) codebook[c * dim + j] = static_cast<float>(sums[c * dim + j] / counts[c]);
    }
    apply_level(out, level, residual);
    out.mse_by_level.push_back(mean_squared_error(out.reconstruction.data(), x, n, dim));
  }
  return out;
}

}  // namespace tessera::tokenize
