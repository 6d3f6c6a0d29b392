#include "tessera/eval/metrics.h"

#include <cmath>

#include "tessera/core/error.h"

namespace tessera::eval {

std::vector<int> default_cutoffs() { return {1, 5, 10, 20, 50, 200}; }

double hr_at_k(std::int64_t rank, int k) { return rank < k ? 1.0 : 0.0; }

double ndcg_at_k(std::int64_t rank, int k) {
  return rank < k ? 1.0 / std::log2(static_cast<double>(rank) + 2.0) : 0.0;
}

double reciprocal_rank(std::int64_t rank) {
  return rank == kNotRanked ? 0.0 : 1.0 / (static_cast<double>(rank) + 1.0);
}

std::vector<std::string> metric_names(std::span<const int> cutoffs) {
  std::vector<std::string> names;
  for (int k : cutoffs) names.push_back("hr@" + std::to_string(k));
  for (int k : cutoffs) names.push_back("ndcg@" + std::to_string(k));
  names.push_back("mrr");
  return names;
}

std::vector<std::vector<double>> per_user_metrics(std::span<const std::int64_t> ranks, std::span<const int> cutoffs) {
  for (int k : cutoffs) {
    if (k < 1) throw Error("metric cutoff must be at least 1, got " + std::to_string(k));
  }
  for (std::int64_t rank : ranks) {
    if (rank < 0) throw Error("target rank must be >= 0, got " + std::to_string(rank));
  }
  const std::size_t n = ranks.size();
  std::vector<std::vector<double>> values;
  values.reserve(2 * cutoffs.size() + 1);
  for (int k : cutoffs) {
    auto& row = values.emplace_back(n);
    for (std::size_t u = 0; u < n; ++u) row[u] = hr_at_k(ranks[u], k);
  }
  for (int k : cutoffs) {
    auto& row = values.emplace_back(n);
    for (std::size_t u = 0; u < n; ++u) row[u] = ndcg_at_k(ranks[u], k);
  }
  auto& row = values.emplace_back(n);
  for (std::size_t u = 0; u < n; ++u) row[u] = reciprocal_rank(ranks[u]);
  return values;
}

}  // namespace tessera::eval
