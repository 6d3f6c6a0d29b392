#pragma once
// Truncated SVD by randomized range finding (Halko, Martinsson & Tropp 2011, algorithms 4.4 and
// 5.1), the one low-rank step of every item-feature builder (content TF-IDF, item2vec PMI).
// Everything is libtorch: sparse-dense products, QR and a small dense SVD.
//
// Deterministic: the random test matrix is drawn from a generator seeded with `seed`, and each
// singular pair's sign is fixed (the largest-magnitude entry of every left vector is positive),
// so the same input, seed and thread count give the same output. Thread-safe (no shared state).

#include <cstdint>

#include <torch/torch.h>

namespace tessera::tokenize {

struct TruncatedSvd {
  torch::Tensor u;  // [m, k] float64, orthonormal columns
  torch::Tensor s;  // [k] float64, non-increasing, >= 0
  torch::Tensor v;  // [n, k] float64, orthonormal columns; a ~= u * diag(s) * v^T
};

struct RandomizedSvdOptions {
  std::int64_t oversample = 10;       // extra random directions beyond the rank
  std::int64_t power_iterations = 4;  // subspace iterations; more = sharper for slowly decaying spectra
  std::uint64_t seed = 0;
};

// a: [m, n] float64, dense (strided) or sparse COO. Returns the top k = min(rank, m, n) singular
// triplets. Throws tessera::Error if a is not 2-D float64 or rank < 1.
TruncatedSvd randomized_svd(const torch::Tensor& a, std::int64_t rank, const RandomizedSvdOptions& options = {});

}  // namespace tessera::tokenize
