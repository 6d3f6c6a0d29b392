// Target ranks from score matrices (pessimistic ties, padding ignored), history exclusion, and
// ranks from generated lists.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <limits>
#include <vector>

#include "tessera/core/error.h"
#include "tessera/eval/metrics.h"
#include "tessera/eval/ranking.h"

namespace tessera::eval {
namespace {

at::Tensor scores_of(const std::vector<std::vector<float>>& rows) {
  const auto width = static_cast<std::int64_t>(rows[0].size());
  at::Tensor t = at::empty({static_cast<std::int64_t>(rows.size()), width}, at::kFloat);
  for (std::size_t b = 0; b < rows.size(); ++b) {
    for (std::int64_t i = 0; i < width; ++i) t[static_cast<std::int64_t>(b)][i] = rows[b][static_cast<std::size_t>(i)];
  }
  return t;
}

at::Tensor targets_of(const std::vector<std::int64_t>& ids) { return at::tensor(ids, at::TensorOptions().dtype(at::kLong)); }

std::vector<std::int64_t> to_vector(const at::Tensor& t) {
  EXPECT_EQ(t.scalar_type(), at::kLong);
  at::Tensor c = t.contiguous();
  return {c.data_ptr<std::int64_t>(), c.data_ptr<std::int64_t>() + c.numel()};
}

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

TEST(TargetRanks, CountsItemsScoredAtLeastAsHigh) {
  const at::Tensor scores = scores_of({
      {0.0f, 0.1f, 0.5f, 0.3f, 0.2f},  // target 3 (0.3): only item 2 is higher -> 1
      {0.0f, 0.9f, 0.5f, 0.3f, 0.2f},  // target 1: best -> 0
      {0.0f, 0.9f, 0.5f, 0.3f, 0.2f},  // target 4: worst -> 3
  });
  EXPECT_EQ(to_vector(target_ranks(scores, targets_of({3, 1, 4}))), (std::vector<std::int64_t>{1, 0, 3}));
}

TEST(TargetRanks, PaddingColumnIsNeverRanked) {
  const at::Tensor scores = scores_of({{1e9f, 0.9f, 0.5f, 0.3f}, {kInf, 0.1f, 0.2f, 0.3f}});
  EXPECT_EQ(to_vector(target_ranks(scores, targets_of({1, 3}))), (std::vector<std::int64_t>{0, 0}));
}

TEST(TargetRanks, TiesArePessimistic) {
  // Constant scores: every other item ties with the target, so the target is last.
  const std::int64_t num_items = 7;
  const at::Tensor constant = at::zeros({3, num_items + 1});
  EXPECT_EQ(to_vector(target_ranks(constant, targets_of({1, 4, 7}))), (std::vector<std::int64_t>(3, num_items - 1)));
  // A partial tie: target 2 ties with item 4 and is below item 1.
  const at::Tensor scores = scores_of({{0.0f, 0.9f, 0.5f, 0.1f, 0.5f}});
  EXPECT_EQ(to_vector(target_ranks(scores, targets_of({2}))), (std::vector<std::int64_t>{2}));
}

TEST(TargetRanks, NaNCountsAgainstTheTarget) {
  const at::Tensor scores = scores_of({{0.0f, kNaN, 0.5f, 0.1f, 0.2f}, {0.0f, 0.3f, kNaN, 0.1f, 0.2f}});
  // Row 0: NaN item 1 outranks target 2. Row 1: target 2 is NaN, so it is last.
  EXPECT_EQ(to_vector(target_ranks(scores, targets_of({2, 2}))), (std::vector<std::int64_t>{1, 3}));
}

TEST(TargetRanks, AcceptsOtherDtypes) {
  const at::Tensor scores = scores_of({{0.0f, 0.1f, 0.5f, 0.3f}}).to(at::kDouble);
  EXPECT_EQ(to_vector(target_ranks(scores, targets_of({3}).to(at::kInt))), (std::vector<std::int64_t>{1}));
}

TEST(TargetRanks, FastPathAgreesWithTensorPath) {
  // Coarse random scores (many ties) with some NaNs. Float CPU rows take the loop; double and a
  // column-major float copy take the tensor expression.
  at::manual_seed(5);
  at::Tensor scores = at::floor(at::rand({64, 301}) * 20);
  scores.masked_fill_(at::rand({64, 301}) < 0.02, std::numeric_limits<double>::quiet_NaN());
  const at::Tensor targets = at::randint(1, 301, {64}, at::kLong);
  const at::Tensor fast = target_ranks(scores, targets);
  const at::Tensor column_major = scores.t().contiguous().t();
  ASSERT_NE(column_major.stride(1), 1);
  EXPECT_TRUE(at::equal(fast, target_ranks(scores.to(at::kDouble), targets)));
  EXPECT_TRUE(at::equal(fast, target_ranks(column_major, targets)));
  // And both agree with the definition, counted by hand.
  for (std::int64_t b = 0; b < 64; ++b) {
    const std::int64_t t = targets[b].item<std::int64_t>();
    const float st = scores[b][t].item<float>();
    std::int64_t expected = 0;
    for (std::int64_t i = 1; i <= 300; ++i) {
      const float si = scores[b][i].item<float>();
      if (i != t && (std::isnan(st) || std::isnan(si) || si >= st)) ++expected;
    }
    EXPECT_EQ(fast[b].item<std::int64_t>(), expected) << "row " << b;
  }
}

TEST(TargetRanks, RejectsBadInput) {
  const at::Tensor scores = at::zeros({2, 5});
  EXPECT_THROW(target_ranks(scores, targets_of({0, 1})), Error);  // padding is not an item
  EXPECT_THROW(target_ranks(scores, targets_of({1, 5})), Error);  // beyond num_items
  EXPECT_THROW(target_ranks(scores, targets_of({1})), Error);     // batch size mismatch
  EXPECT_THROW(target_ranks(at::zeros({5}), targets_of({1})), Error);
  EXPECT_THROW(target_ranks(at::zeros({2, 5}, at::kLong), targets_of({1, 2})), Error);
  EXPECT_THROW(target_ranks(scores, at::ones({2})), Error);  // float targets
}

TEST(ExcludeHistory, MasksHistoryButNeverTheTarget) {
  at::Tensor scores = scores_of({{0.0f, 0.9f, 0.5f, 0.8f, 0.1f}, {0.0f, 0.9f, 0.5f, 0.8f, 0.1f}});
  const std::vector<std::int32_t> h0 = {1, 2, 3};  // contains target 2
  const std::vector<std::int32_t> h1 = {3};
  const std::vector<std::span<const std::int32_t>> histories = {h0, h1};
  const at::Tensor targets = targets_of({2, 4});
  EXPECT_EQ(to_vector(target_ranks(scores, targets)), (std::vector<std::int64_t>{2, 3}));

  exclude_history_(scores, histories, targets);
  EXPECT_EQ(scores[0][1].item<float>(), -kInf);
  EXPECT_EQ(scores[0][2].item<float>(), 0.5f);  // the target stays
  EXPECT_EQ(scores[0][3].item<float>(), -kInf);
  EXPECT_EQ(scores[0][4].item<float>(), 0.1f);
  EXPECT_EQ(scores[1][3].item<float>(), -kInf);
  EXPECT_EQ(scores[1][1].item<float>(), 0.9f);
  EXPECT_EQ(to_vector(target_ranks(scores, targets)), (std::vector<std::int64_t>{0, 2}));
}

TEST(ExcludeHistory, RejectsBroadcastViewsAndBadItems) {
  at::Tensor view = at::zeros({1, 5}).expand({2, 5});
  const std::vector<std::int32_t> h = {1};
  const std::vector<std::span<const std::int32_t>> histories = {h, h};
  EXPECT_THROW(exclude_history_(view, histories, targets_of({2, 2})), Error);

  at::Tensor scores = at::zeros({2, 5});
  const std::vector<std::int32_t> bad = {9};
  EXPECT_THROW(exclude_history_(scores, {bad, h}, targets_of({2, 2})), Error);
  EXPECT_THROW(exclude_history_(scores, {h}, targets_of({2, 2})), Error);
}

TEST(RanksFromLists, PositionAmongDistinctRealItems) {
  const std::vector<std::int32_t> history = {5, 8};
  const std::vector<data::EvalExample> examples = {
      {0, history, 7}, {1, history, 9}, {2, history, 5}, {3, history, 1}};
  const std::vector<std::vector<std::int32_t>> lists = {
      {5, 3, 3, 0, 7, 2},  // 7 after 5, 3 (duplicate and padding not counted) -> 2
      {1, 2, 3},           // 9 missing
      {4, 5},              // target 5 is in the history, still ranked -> 1
      {1},                 // first -> 0
  };
  EXPECT_EQ(ranks_from_lists(lists, examples), (std::vector<std::int64_t>{2, kNotRanked, 1, 0}));
  // Excluding history skips 5 and 8 unless they are the target.
  EXPECT_EQ(ranks_from_lists(lists, examples, true), (std::vector<std::int64_t>{1, kNotRanked, 1, 0}));
  EXPECT_THROW(ranks_from_lists(lists, std::span(examples).first(2)), Error);
}

}  // namespace
}  // namespace tessera::eval
