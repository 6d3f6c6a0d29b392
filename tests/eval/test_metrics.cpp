// Metric values from ranks, checked against hand-computed numbers.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tessera/core/error.h"
#include "tessera/eval/metrics.h"

namespace tessera::eval {
namespace {

double mean(const std::vector<double>& values) {
  double sum = 0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

TEST(Metrics, SingleRankValues) {
  EXPECT_EQ(hr_at_k(0, 1), 1.0);
  EXPECT_EQ(hr_at_k(1, 1), 0.0);
  EXPECT_EQ(hr_at_k(9, 10), 1.0);
  EXPECT_EQ(hr_at_k(10, 10), 0.0);
  EXPECT_EQ(hr_at_k(kNotRanked, 200), 0.0);
  EXPECT_DOUBLE_EQ(ndcg_at_k(0, 10), 1.0);
  EXPECT_DOUBLE_EQ(ndcg_at_k(2, 10), 0.5);  // 1 / log2(4)
  EXPECT_EQ(ndcg_at_k(10, 10), 0.0);
  EXPECT_EQ(ndcg_at_k(kNotRanked, 10), 0.0);
  EXPECT_DOUBLE_EQ(reciprocal_rank(0), 1.0);
  EXPECT_DOUBLE_EQ(reciprocal_rank(3), 0.25);
  EXPECT_EQ(reciprocal_rank(kNotRanked), 0.0);
}

TEST(Metrics, HandComputedMeans) {
  const std::vector<std::int64_t> ranks = {0, 2, 9, 10, kNotRanked};
  const std::vector<int> cutoffs = {1, 10, 20};
  const auto names = metric_names(cutoffs);
  ASSERT_EQ(names, (std::vector<std::string>{"hr@1", "hr@10", "hr@20", "ndcg@1", "ndcg@10", "ndcg@20", "mrr"}));
  const auto values = per_user_metrics(ranks, cutoffs);
  ASSERT_EQ(values.size(), names.size());
  for (const auto& row : values) ASSERT_EQ(row.size(), ranks.size());

  EXPECT_DOUBLE_EQ(mean(values[0]), 1.0 / 5);
  EXPECT_DOUBLE_EQ(mean(values[1]), 3.0 / 5);
  EXPECT_DOUBLE_EQ(mean(values[2]), 4.0 / 5);
  EXPECT_DOUBLE_EQ(mean(values[3]), 1.0 / 5);
  EXPECT_DOUBLE_EQ(mean(values[4]), (1.0 + 0.5 + 1.0 / std::log2(11.0)) / 5);
  EXPECT_DOUBLE_EQ(mean(values[5]), (1.0 + 0.5 + 1.0 / std::log2(11.0) + 1.0 / std::log2(12.0)) / 5);
  EXPECT_DOUBLE_EQ(mean(values[6]), (1.0 + 1.0 / 3 + 1.0 / 10 + 1.0 / 11 + 0.0) / 5);
}

TEST(Metrics, DefaultCutoffsCoverPublishedProtocols) {
  EXPECT_EQ(default_cutoffs(), (std::vector<int>{1, 5, 10, 20, 50, 200}));
}

TEST(Metrics, RejectsBadInput) {
  const std::vector<std::int64_t> ranks = {0};
  EXPECT_THROW(per_user_metrics(ranks, std::vector<int>{0}), Error);
  EXPECT_THROW(per_user_metrics(std::vector<std::int64_t>{-1}, std::vector<int>{10}), Error);
  EXPECT_EQ(per_user_metrics(std::vector<std::int64_t>{}, std::vector<int>{10})[0].size(), 0u);
}

}  // namespace
}  // namespace tessera::eval
