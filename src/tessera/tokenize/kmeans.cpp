#include "tessera/tokenize/kmeans.h"

#include <algorithm>
#include <limits>
#include <random>
#include <tuple>

#include <faiss/Clustering.h>
#include <faiss/IndexFlat.h>
#include <faiss/impl/FaissException.h>
#include <fmt/format.h>

#include "tessera/core/error.h"

namespace tessera::tokenize {

namespace {

// Candidate centroids per point considered by the greedy balanced assignment.
constexpr std::int64_t kBalancedCandidates = 32;

double squared_distance(const float* a, const float* b, std::int64_t dim) {
  double s = 0.0;
  for (std::int64_t j = 0; j < dim; ++j) {
    const double d = static_cast<double>(a[j]) - b[j];
    s += d * d;
  }
  return s;
}

// The m nearest centroids of every point: labels and squared distances, n * m each.
void search_nearest(const float* x, std::int64_t n, std::int64_t dim, const float* centroids, std::int64_t k, std::int64_t m,
                    std::vector<faiss::Index::idx_t>& labels, std::vector<float>& distances) {
  faiss::IndexFlatL2 index(static_cast<faiss::Index::idx_t>(dim));
  index.add(k, centroids);
  labels.assign(static_cast<std::size_t>(n * m), -1);
  distances.assign(static_cast<std::size_t>(n * m), 0.0f);
  if (n > 0) index.search(n, x, m, distances.data(), labels.data());
}

// Centroid c = mean of its points; an empty centroid keeps its old value.
void update_centroids(const float* x, std::int64_t n, std::int64_t dim, const std::vector<std::int32_t>& assignments,
                      std::int64_t k, std::vector<float>& centroids) {
  std::vector<double> sums(static_cast<std::size_t>(k * dim), 0.0);
  std::vector<std::int64_t> counts(static_cast<std::size_t>(k), 0);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t c = assignments[i];
    ++counts[c];
    for (std::int64_t j = 0; j < dim; ++j) sums[c * dim + j] += x[i * dim + j];
  }
  for (std::int64_t c = 0; c < k; ++c) {
    if (counts[c] == 0) continue;
    for (std::int64_t j = 0; j < dim; ++j) centroids[c * dim + j] = static_cast<float>(sums[c * dim + j] / counts[c]);
  }
}

// k-means++ (Arthur & Vassilvitskii 2007): the first centroid is a uniformly chosen point, each
// next one a point drawn with probability proportional to its squared distance to the nearest
// centroid chosen so far. Returns k * dim floats. O(n * k * dim).
std::vector<float> kmeans_plus_plus(const float* x, std::int64_t n, std::int64_t dim, std::int64_t k, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto uniform01 = [&] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
  std::vector<float> centroids(static_cast<std::size_t>(k * dim));
  std::vector<double> nearest(static_cast<std::size_t>(n), std::numeric_limits<double>::infinity());
  std::int64_t chosen = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(n));
  for (std::int64_t c = 0; c < k; ++c) {
    std::copy(x + chosen * dim, x + (chosen + 1) * dim, centroids.begin() + c * dim);
    double total = 0.0;
    for (std::int64_t i = 0; i < n; ++i) {
      nearest[i] = std::min(nearest[i], squared_distance(x + i * dim, centroids.data() + c * dim, dim));
      total += nearest[i];
    }
    if (total <= 0.0) {  // every point already coincides with a centroid
      chosen = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(n));
      continue;
    }
    const double target = uniform01() * total;
    double cumulative = 0.0;
    chosen = n - 1;
    for (std::int64_t i = 0; i < n; ++i) {
      cumulative += nearest[i];
      if (cumulative > target && nearest[i] > 0.0) {
        chosen = i;
        break;
      }
    }
  }
  return centroids;
}

void finish(KMeansResult& r, const float* x) {
  std::vector<std::int64_t> sizes(static_cast<std::size_t>(r.k), 0);
  double total = 0.0;
  for (std::int64_t i = 0; i < r.n; ++i) {
    ++sizes[r.assignments[i]];
    total += squared_distance(x + i * r.dim, r.centroids.data() + r.assignments[i] * r.dim, r.dim);
  }
  r.mean_squared_distance = r.n > 0 ? total / static_cast<double>(r.n) : 0.0;
  r.max_cluster_size = r.k > 0 ? *std::max_element(sizes.begin(), sizes.end()) : 0;
}

}  // namespace

std::vector<std::int32_t> nearest_centroids(const float* x, std::int64_t n, std::int64_t dim, const float* centroids,
                                            std::int64_t k) {
  std::vector<faiss::Index::idx_t> labels;
  std::vector<float> distances;
  search_nearest(x, n, dim, centroids, k, 1, labels, distances);
  return {labels.begin(), labels.end()};
}

std::vector<std::int32_t> balanced_assign(const float* x, std::int64_t n, std::int64_t dim, const float* centroids,
                                          std::int64_t k, std::int64_t capacity) {
  if (k * capacity < n) throw Error(fmt::format("balanced_assign: {} centroids of capacity {} cannot hold {} points", k, capacity, n));
  const std::int64_t m = std::min(k, kBalancedCandidates);
  std::vector<faiss::Index::idx_t> labels;
  std::vector<float> distances;
  search_nearest(x, n, dim, centroids, k, m, labels, distances);

  struct Pair {
    float distance;
    std::int32_t point, centroid;
  };
  std::vector<Pair> pairs;
  pairs.reserve(static_cast<std::size_t>(n * m));
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t r = 0; r < m; ++r) {
      const auto c = labels[i * m + r];
      if (c >= 0) pairs.push_back({distances[i * m + r], static_cast<std::int32_t>(i), static_cast<std::int32_t>(c)});
    }
  }
  std::sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) {
    return std::tie(a.distance, a.point, a.centroid) < std::tie(b.distance, b.point, b.centroid);
  });

  std::vector<std::int32_t> assignments(static_cast<std::size_t>(n), -1);
  std::vector<std::int64_t> load(static_cast<std::size_t>(k), 0);
  for (const auto& p : pairs) {
    if (assignments[p.point] >= 0 || load[p.centroid] >= capacity) continue;
    assignments[p.point] = p.centroid;
    ++load[p.centroid];
  }
  // Points whose candidates all filled up: nearest centroid with room, in point order.
  for (std::int64_t i = 0; i < n; ++i) {
    if (assignments[i] >= 0) continue;
    double best = std::numeric_limits<double>::infinity();
    std::int32_t best_c = -1;
    for (std::int64_t c = 0; c < k; ++c) {
      if (load[c] >= capacity) continue;
      const double d = squared_distance(x + i * dim, centroids + c * dim, dim);
      if (d < best) {
        best = d;
        best_c = static_cast<std::int32_t>(c);
      }
    }
    assignments[i] = best_c;
    ++load[best_c];
  }
  return assignments;
}

KMeansResult kmeans(const float* x, std::int64_t n, std::int64_t dim, const KMeansOptions& options) {
  if (options.k < 1) throw Error(fmt::format("k-means: codebook_size must be >= 1, got {}", options.k));
  if (dim < 1) throw Error(fmt::format("k-means: vector dimension must be >= 1, got {}", dim));
  if (options.niter < 1) throw Error(fmt::format("k-means: niter must be >= 1, got {}", options.niter));
  if (n < 0) throw Error("k-means: negative number of points");
  KMeansResult r;
  r.n = n;
  r.dim = dim;
  r.k = options.k;
  r.centroids.assign(static_cast<std::size_t>(r.k * dim), 0.0f);

  if (n <= r.k) {
    std::vector<double> mean(static_cast<std::size_t>(dim), 0.0);
    for (std::int64_t i = 0; i < n; ++i) {
      for (std::int64_t j = 0; j < dim; ++j) mean[j] += x[i * dim + j];
    }
    for (std::int64_t c = 0; c < r.k; ++c) {
      for (std::int64_t j = 0; j < dim; ++j) {
        r.centroids[c * dim + j] = c < n ? x[c * dim + j] : static_cast<float>(n > 0 ? mean[j] / n : 0.0);
      }
    }
    r.assignments.resize(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) r.assignments[i] = static_cast<std::int32_t>(i);
    finish(r, x);
    return r;
  }

  try {
    faiss::ClusteringParameters params;
    params.niter = static_cast<int>(options.niter);
    params.nredo = 1;
    params.verbose = false;
    params.seed = static_cast<int>(options.seed & 0x7fffffff);
    params.min_points_per_centroid = 1;  // small catalogues are expected; no warning
    params.max_points_per_centroid = static_cast<int>(std::max<std::int64_t>(1, options.max_points_per_centroid));
    faiss::Clustering clustering(static_cast<int>(dim), static_cast<int>(r.k), params);
    if (options.kmeans_plus_plus) clustering.centroids = kmeans_plus_plus(x, n, dim, r.k, options.seed);
    faiss::IndexFlatL2 index(static_cast<faiss::Index::idx_t>(dim));
    clustering.train(n, x, index);
    r.centroids = clustering.centroids;
  } catch (const faiss::FaissException& e) {
    throw Error(std::string("k-means (faiss) failed: ") + e.what());
  }
  r.assignments = nearest_centroids(x, n, dim, r.centroids.data(), r.k);

  if (options.balanced) {
    const std::int64_t capacity = (n + r.k - 1) / r.k;
    r.assignments = balanced_assign(x, n, dim, r.centroids.data(), r.k, capacity);
    for (std::int64_t it = 1; it < options.balanced_iterations; ++it) {
      update_centroids(x, n, dim, r.assignments, r.k, r.centroids);
      auto next = balanced_assign(x, n, dim, r.centroids.data(), r.k, capacity);
      if (next == r.assignments) break;
      r.assignments = std::move(next);
    }
    // Centroids must match the final assignment (means of their points).
    update_centroids(x, n, dim, r.assignments, r.k, r.centroids);
  }
  finish(r, x);
  return r;
}

}  // namespace tessera::tokenize
