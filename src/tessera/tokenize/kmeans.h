#pragma once
// k-means clustering of dense float vectors (faiss underneath), optionally size-constrained so
// that every cluster holds at most ceil(n / k) points: the building block of RQ-KMeans and of the
// RQ-VAE codebook initialisation.
//
// Data layout (as in faiss): matrices are compact, row-major, float32; `x` is n * dim.
// Deterministic: the same input, options and thread count give the same result.
// Not thread-safe to call concurrently (faiss and libtorch share the OpenMP pool); the result is
// plain data.

#include <cstdint>
#include <vector>

namespace tessera::tokenize {

struct KMeansOptions {
  std::int64_t k = 256;          // number of centroids (codebook_size)
  std::int64_t niter = 25;       // Lloyd iterations of faiss k-means
  std::uint64_t seed = 42;       // k-means++ initialisation and faiss ClusteringParameters::seed (subsampling)
  // Start Lloyd from k-means++ centroids (D^2 sampling) instead of faiss's uniform random sample
  // of the points; far less likely to leave two centroids in one cluster and none in another.
  bool kmeans_plus_plus = true;
  // faiss subsamples to k * max_points_per_centroid points for training when n is larger (the
  // final assignment always covers all n points).
  std::int64_t max_points_per_centroid = 256;
  // Size-constrained ("balanced") k-means, see balanced_assign() below.
  bool balanced = false;
  std::int64_t balanced_iterations = 10;  // assignment/update rounds after faiss k-means
};

struct KMeansResult {
  std::int64_t n = 0, dim = 0, k = 0;
  std::vector<float> centroids;          // k * dim, row-major
  std::vector<std::int32_t> assignments;  // n, each in [0, k)
  // Mean over points of the squared L2 distance to the assigned centroid (sum over dims).
  double mean_squared_distance = 0.0;
  std::int64_t max_cluster_size = 0;
};

// Clusters n points of dimension dim into options.k clusters.
//
// Plain: initial centroids by k-means++ (seeded std::mt19937_64; or, without kmeans_plus_plus,
// faiss's seeded random sample of the points), then niter Lloyd iterations of faiss::Clustering
// (empty clusters are split by faiss); every point is then assigned to its nearest centroid.
//
// Balanced: starting from the plain result, `balanced_iterations` rounds of
//   1. capacity-constrained assignment: every (point, centroid) pair among each point's
//      min(k, 32) nearest centroids is sorted by distance (ties by point, then centroid) and
//      taken greedily while the point is unassigned and the centroid holds fewer than
//      ceil(n / k) points; a point whose candidates are all full goes to the nearest centroid
//      that still has room (there always is one, since k * ceil(n / k) >= n);
//   2. centroid update: each centroid becomes the mean of its points (an empty one stays put);
// stopping early when the assignment no longer changes. Every cluster then holds at most
// ceil(n / k) points; points may sit in a centroid that is not their nearest.
//
// When n <= k there is nothing to cluster: point i becomes centroid i and is assigned to it, and
// centroids n..k-1 are copies of the data mean, unused. n == 0 gives k mean (zero) centroids.
// Throws tessera::Error when k < 1, dim < 1 or niter < 1.
KMeansResult kmeans(const float* x, std::int64_t n, std::int64_t dim, const KMeansOptions& options);

// Step 1 of balanced k-means on its own: assigns n points to k given centroids (k * dim) with at
// most `capacity` points per centroid (k * capacity must be >= n). Returns n assignments.
std::vector<std::int32_t> balanced_assign(const float* x, std::int64_t n, std::int64_t dim, const float* centroids,
                                          std::int64_t k, std::int64_t capacity);

// Index of the nearest centroid of each point (squared L2), n entries.
std::vector<std::int32_t> nearest_centroids(const float* x, std::int64_t n, std::int64_t dim, const float* centroids,
                                            std::int64_t k);

}  // namespace tessera::tokenize
