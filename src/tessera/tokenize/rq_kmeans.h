#pragma once
// Residual quantisation of item vectors with k-means codebooks (RQ-KMeans), and its random-code
// ablation.
//
// RQ-KMeans: level 1 clusters the vectors into codebook_size centroids; every next level clusters
// what is left (the residual: vector minus the sum of the chosen centroids so far). An item's
// codes are its cluster at each level, and its reconstruction is the sum of its centroids.
//
// Data layout: matrices are compact, row-major, float32; `x` is n * dim (n points, no padding
// row). Deterministic for given input, options and thread count. Not for concurrent use (faiss
// and libtorch share the OpenMP pool); results are plain data.

#include <cstdint>
#include <vector>

namespace tessera::tokenize {

// Output of any residual quantiser (RQ-KMeans, RQ-VAE, random).
struct ResidualCodes {
  std::int64_t n = 0, dim = 0;
  std::int32_t num_codebooks = 0;            // L
  std::int32_t codebook_size = 0;            // K
  std::vector<std::int32_t> codes;           // n * L, row-major, each in [0, K)
  // L codebooks of K * code_dim floats (code_dim = dim for RQ-KMeans and random, the latent
  // width for RQ-VAE, whose codebooks live in latent space).
  std::vector<std::vector<float>> codebooks;
  std::vector<float> reconstruction;         // n * dim: the quantised vectors, in input space
  // Mean squared error per element of the reconstruction from the first l + 1 levels vs the
  // input (l = 0..L-1); the last entry is the error of `reconstruction`.
  std::vector<double> mse_by_level;
};

struct RqKMeansOptions {
  std::int32_t num_codebooks = 3;    // L
  std::int32_t codebook_size = 256;  // K
  bool balanced = false;             // size-constrained k-means at every level (kmeans.h)
  std::int64_t niter = 25;           // k-means iterations per level
  std::uint64_t seed = 42;           // level l uses seed + l
};

// Throws tessera::Error for num_codebooks < 1, codebook_size < 1 or dim < 1.
ResidualCodes rq_kmeans(const float* x, std::int64_t n, std::int64_t dim, const RqKMeansOptions& options);

// The ablation: codes drawn uniformly at random per level (std::mt19937_64 seeded with `seed`),
// independent of the vectors. Codebooks are then the best ones those codes allow: each code's
// centroid is the mean of the residuals assigned to it (zero when unused), so the reconstruction
// error says how much random codes lose against clustering.
ResidualCodes random_residual_codes(const float* x, std::int64_t n, std::int64_t dim, std::int32_t num_codebooks,
                                    std::int32_t codebook_size, std::uint64_t seed);

// Mean squared error per element between a (n * dim) and b (n * dim).
double mean_squared_error(const float* a, const float* b, std::int64_t n, std::int64_t dim);

}  // namespace tessera::tokenize
