#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "infer/tiger_fixture.h"
#include "tessera/core/error.h"
#include "tessera/infer/beam_search.h"
#include "tessera/infer/semantic_id_trie.h"
#include "tessera/infer/tiger_recommender.h"

namespace tessera::infer {
namespace {

using testing::random_semantic_ids;
using testing::small_tiger;

std::vector<std::vector<std::int32_t>> random_histories(std::int64_t count, std::int64_t num_items, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<std::int32_t>> out;
  for (std::int64_t i = 0; i < count; ++i) {
    std::vector<std::int32_t> h(1 + rng() % 9);
    for (auto& item : h) item = static_cast<std::int32_t>(1 + rng() % static_cast<std::uint64_t>(num_items));
    out.push_back(h);
  }
  return out;
}

std::vector<std::span<const std::int32_t>> views(const std::vector<std::vector<std::int32_t>>& v) {
  return {v.begin(), v.end()};
}

// The log-probability of each level's code of `item` after `history`, by teacher forcing
// (the reference the exhaustive beam's scores are checked against).
std::vector<double> level_log_probabilities(models::TigerImpl& model, const tokenize::SemanticIds& ids,
                                            const std::vector<std::int32_t>& history, std::int32_t item) {
  torch::NoGradGuard no_grad;
  std::vector<std::span<const std::int32_t>> one = {history};
  auto memory = model.encode(model.history_tokens(ids.codes, one), {});
  auto code = ids.code(item);
  const auto levels = static_cast<std::int64_t>(code.size());
  auto target = torch::tensor(std::vector<std::int64_t>(code.begin(), code.end())).view({1, levels});
  auto logits = model.decode_teacher_forced(memory, target);
  std::vector<double> out;
  for (std::size_t l = 0; l < code.size(); ++l) out.push_back(torch::log_softmax(logits[l], -1)[0][code[l]].item<double>());
  return out;
}

TEST(SemanticIdTrie, WalksEveryItemAndNothingElse) {
  auto ids = random_semantic_ids(40, 1);
  SemanticIdTrie trie(*ids);
  EXPECT_EQ(trie.num_levels(), 3);
  std::set<std::int32_t> found;
  for (std::int64_t item = 1; item <= 40; ++item) {
    std::int32_t node = 0;
    for (auto c : ids->code(item)) node = trie.child(node, c);
    ASSERT_NE(node, SemanticIdTrie::kNoNode);
    EXPECT_EQ(trie.item(node), item);
    found.insert(trie.item(node));
  }
  EXPECT_EQ(found.size(), 40u);
  EXPECT_EQ(trie.child(0, 99), SemanticIdTrie::kNoNode);
  // Leaves are exactly the items: count leaves reachable from the root.
  std::int64_t leaves = 0;
  std::vector<std::pair<std::int32_t, int>> stack{{0, 0}};
  while (!stack.empty()) {
    auto [node, depth] = stack.back();
    stack.pop_back();
    if (depth == 3) {
      ++leaves;
      EXPECT_GT(trie.item(node), 0);
      continue;
    }
    EXPECT_EQ(trie.item(node), 0);
    for (auto child : trie.children(node)) stack.push_back({child, depth + 1});
  }
  EXPECT_EQ(leaves, 40);
}

TEST(SemanticIdTrie, RefusesDuplicateIds) {
  auto ids = random_semantic_ids(10, 2);
  for (int l = 0; l < 3; ++l) ids->codes[static_cast<std::size_t>(2 * 3 + l)] = ids->codes[static_cast<std::size_t>(1 * 3 + l)];
  EXPECT_THROW(SemanticIdTrie{*ids}, Error);
}

// The requirement: beam search never emits an ID that is not an item. Checked on every
// output of many requests, with beams wider and narrower than the catalogue.
TEST(BeamSearch, EveryOutputIsARealDistinctItemWithSortedScores) {
  auto ids = random_semantic_ids(30, 3);
  auto model = small_tiger(*ids);
  TigerRecommender recommender(model, ids, {20, true});
  const auto histories = random_histories(40, 30, 5);
  for (std::int64_t width : {1, 5, 20, 64}) {
    recommender.options().beam_width = width;
    const auto results = recommender.generate({}, views(histories));
    ASSERT_EQ(results.size(), histories.size());
    for (const auto& r : results) {
      ASSERT_EQ(r.items.size(), static_cast<std::size_t>(std::min<std::int64_t>(width, 30)));
      std::set<std::int32_t> distinct(r.items.begin(), r.items.end());
      EXPECT_EQ(distinct.size(), r.items.size());
      for (std::size_t i = 0; i < r.items.size(); ++i) {
        EXPECT_GE(r.items[i], 1);
        EXPECT_LE(r.items[i], 30);
        EXPECT_TRUE(std::isfinite(r.scores[i]));
        EXPECT_LE(r.scores[i], 0.0f);
        if (i > 0) EXPECT_LE(r.scores[i], r.scores[i - 1]);
      }
    }
  }
}

// A beam wide enough to hold every item is exhaustive: the scores must equal each item's exact
// log-probability under teacher forcing, and the order must be the true order.
// Also with the repeat bias (models/tiger.h), which beam search and training must add alike.
TEST(BeamSearch, ExhaustiveBeamMatchesTeacherForcedLogProbabilities) {
  auto ids = random_semantic_ids(25, 4);
  for (bool repeat_bias : {false, true}) {
    auto model = small_tiger(*ids, 0, false, repeat_bias);
    TigerRecommender recommender(model, ids, {25, true});
    std::vector<std::vector<std::int32_t>> histories = {{3, 7, 1}, {12}};
    const auto results = recommender.generate({}, views(histories));
    for (std::size_t b = 0; b < histories.size(); ++b) {
      ASSERT_EQ(results[b].items.size(), 25u);
      for (std::size_t i = 0; i < results[b].items.size(); ++i) {
        const auto item = results[b].items[i];
        double logp = 0;
        for (auto lp : level_log_probabilities(*model, *ids, histories[b], item)) logp += lp;
        EXPECT_NEAR(results[b].scores[i], logp, 1e-4) << "item " << item << ", repeat_bias " << repeat_bias;
      }
    }
  }
}

// A strongly negative last-level repeat weight puts every history item the encoder reads at the
// bottom of an exhaustive list, below every other item; the model without it ranks some of them
// higher (so the test is not vacuous).
TEST(BeamSearch, NegativeRepeatWeightSendsHistoryItemsToTheBottom) {
  auto ids = random_semantic_ids(25, 4);
  auto model = small_tiger(*ids, 0, false, /*repeat_bias=*/true);
  std::vector<std::vector<std::int32_t>> histories = {{3, 7, 1, 19, 22}, {12, 5}};
  auto first_history_rank = [&] {
    TigerRecommender recommender(model, ids, {25, true});
    const auto results = recommender.generate({}, views(histories));
    std::vector<std::size_t> first;  // per request: the best rank of a history item
    for (std::size_t b = 0; b < histories.size(); ++b) {
      std::size_t best = results[b].items.size();
      for (std::size_t i = 0; i < results[b].items.size(); ++i) {
        if (std::find(histories[b].begin(), histories[b].end(), results[b].items[i]) != histories[b].end()) best = std::min(best, i);
      }
      first.push_back(best);
    }
    return first;
  };
  {
    torch::NoGradGuard no_grad;
    model->repeat_weight.zero_();
  }
  const auto plain = first_history_rank();
  {
    torch::NoGradGuard no_grad;
    model->repeat_weight[2] = -1000.0;
  }
  const auto pushed = first_history_rank();
  bool some_higher = false;
  for (std::size_t b = 0; b < histories.size(); ++b) {
    EXPECT_EQ(pushed[b], 25 - histories[b].size()) << "request " << b;
    some_higher = some_higher || plain[b] < 25 - histories[b].size();
  }
  EXPECT_TRUE(some_higher);
}

// With level weights and an item bonus, an exhaustive beam scores every item as the weighted
// sum of its teacher-forced level log-probabilities plus its bonus, best first; a weight of 0
// leaves masked codes at -inf (no invalid item, no NaN). Wrong sizes and negative weights are refused.
TEST(BeamSearch, LevelWeightsAndItemBonusScoreEveryItemExactly) {
  auto ids = random_semantic_ids(25, 4);
  auto model = small_tiger(*ids);
  BeamSearchOptions options{25, true};
  options.level_weights = {1.5, 0.0, 0.5};
  options.item_bonus.resize(26);
  for (std::size_t i = 1; i < options.item_bonus.size(); ++i) options.item_bonus[i] = 0.1f * static_cast<float>(i % 7);
  TigerRecommender recommender(model, ids, options);
  std::vector<std::vector<std::int32_t>> histories = {{3, 7, 1}, {12}};
  const auto results = recommender.generate({}, views(histories));
  for (std::size_t b = 0; b < histories.size(); ++b) {
    ASSERT_EQ(results[b].items.size(), 25u);
    EXPECT_EQ(results[b].invalid, 0);
    for (std::size_t i = 0; i < results[b].items.size(); ++i) {
      const auto item = results[b].items[i];
      const auto logps = level_log_probabilities(*model, *ids, histories[b], item);
      double score = options.item_bonus[static_cast<std::size_t>(item)];
      for (std::size_t l = 0; l < logps.size(); ++l) score += options.level_weights[l] * logps[l];
      EXPECT_NEAR(results[b].scores[i], score, 1e-4) << "item " << item;
      if (i > 0) EXPECT_GE(results[b].scores[i - 1], results[b].scores[i]);
    }
  }
  auto refused = [&](BeamSearchOptions bad) {
    TigerRecommender r(model, ids, bad);
    EXPECT_THROW(r.generate({}, views(histories)), Error);
  };
  BeamSearchOptions bad{25, true};
  bad.level_weights = {1.0, 1.0};
  refused(bad);
  bad.level_weights = {1.0, -0.5, 1.0};
  refused(bad);
  bad.level_weights = {};
  bad.item_bonus.assign(25, 0.0f);  // one short of num_items + 1
  refused(bad);
}

// Renormalised over the trie, the exhaustive beam is a distribution over the items: their
// probabilities sum to 1. Without it the mass on codes that name no item is lost (sum < 1).
// A beam wider than the catalogue (dead beams) still returns only real items and never a NaN score.
TEST(BeamSearch, RenormalizedScoresAreADistributionOverTheItems) {
  auto ids = random_semantic_ids(25, 4);
  auto model = small_tiger(*ids);
  std::vector<std::vector<std::int32_t>> histories = {{3, 7, 1}, {12}};
  for (bool renormalize : {false, true}) {
    TigerRecommender recommender(model, ids, {25, true, renormalize});
    for (const auto& r : recommender.generate({}, views(histories))) {
      ASSERT_EQ(r.items.size(), 25u);
      double total = 0;
      for (auto s : r.scores) total += std::exp(static_cast<double>(s));
      if (renormalize) {
        EXPECT_NEAR(total, 1.0, 1e-4);
      } else {
        EXPECT_LT(total, 0.9);
      }
    }
  }
  TigerRecommender narrow(model, ids, {64, true, true});
  const auto many = random_histories(20, 25, 9);
  for (const auto& r : narrow.generate({}, views(many))) {
    ASSERT_EQ(r.items.size(), 25u);  // fewer valid IDs than beams: dead beams are dropped
    EXPECT_EQ(r.invalid, 0);
    for (auto s : r.scores) EXPECT_TRUE(std::isfinite(s));
  }
}

TEST(BeamSearch, KvCacheGivesTheSameResultsAsFullRecomputation) {
  auto ids = random_semantic_ids(60, 6);
  for (bool repeat_bias : {false, true}) {
    auto model = small_tiger(*ids, /*user_buckets=*/16, false, repeat_bias);
    const auto histories = random_histories(17, 60, 8);
    std::vector<std::int64_t> users(histories.size());
    for (std::size_t i = 0; i < users.size(); ++i) users[i] = static_cast<std::int64_t>(i * 31);
    TigerRecommender cached(model, ids, {10, true});
    TigerRecommender uncached(model, ids, {10, false});
    const auto a = cached.generate(users, views(histories));
    const auto b = uncached.generate(users, views(histories));
    for (std::size_t i = 0; i < a.size(); ++i) {
      ASSERT_EQ(a[i].items, b[i].items) << "repeat_bias " << repeat_bias;
      for (std::size_t j = 0; j < a[i].scores.size(); ++j) EXPECT_NEAR(a[i].scores[j], b[i].scores[j], 1e-4);
    }
  }
}

TEST(BeamSearch, BatchedEqualsOneByOne) {
  auto ids = random_semantic_ids(50, 9);
  auto model = small_tiger(*ids);
  TigerRecommender recommender(model, ids, {8, true});
  const auto histories = random_histories(9, 50, 10);
  const auto batched = recommender.generate({}, views(histories));
  for (std::size_t i = 0; i < histories.size(); ++i) {
    std::vector<std::span<const std::int32_t>> one = {histories[i]};
    const auto single = recommender.generate({}, one);
    EXPECT_EQ(single[0].items, batched[i].items) << "request " << i;
  }
}

// Batches of 16 or more are encoded in groups of similar history length (tiger_recommender.cpp);
// each request's answer must not depend on the others, with or without user tokens, and with the
// repeat bias (which reads the merged history tokens).
TEST(BeamSearch, LengthGroupedBatchEqualsOneByOne) {
  auto ids = random_semantic_ids(60, 12);
  for (auto [buckets, repeat_bias] : std::vector<std::pair<std::int64_t, bool>>{{0, false}, {16, false}, {0, true}}) {
    auto model = small_tiger(*ids, buckets, false, repeat_bias);
    TigerRecommender recommender(model, ids, {10, true});
    const auto histories = random_histories(40, 60, 13);  // 1..9 items, max_items 6: four length groups
    std::vector<std::int64_t> users;
    if (buckets > 0) {
      for (std::size_t i = 0; i < histories.size(); ++i) users.push_back(static_cast<std::int64_t>(i * 7));
    }
    const auto batched = recommender.generate(users, views(histories));
    for (std::size_t i = 0; i < histories.size(); ++i) {
      std::vector<std::span<const std::int32_t>> one = {histories[i]};
      std::vector<std::int64_t> user;
      if (buckets > 0) user.push_back(users[i]);
      const auto single = recommender.generate(user, one);
      ASSERT_EQ(single[0].items, batched[i].items) << "request " << i << ", buckets " << buckets << ", repeat_bias " << repeat_bias;
      for (std::size_t j = 0; j < single[0].scores.size(); ++j) EXPECT_NEAR(single[0].scores[j], batched[i].scores[j], 1e-4);
    }
  }
}

TEST(SemanticIdTrie, ParentsAndItemCountsDescribeTheTree) {
  auto ids = random_semantic_ids(40, 14);
  SemanticIdTrie trie(*ids);
  EXPECT_EQ(trie.num_items(), 40);
  EXPECT_EQ(trie.items_under(0), 40);
  EXPECT_EQ(trie.parent(0), SemanticIdTrie::kNoNode);
  for (std::int32_t item = 1; item <= 40; ++item) {
    auto node = trie.leaf(item);
    EXPECT_EQ(trie.item(node), item);
    EXPECT_EQ(trie.items_under(node), 1);
    int depth = 0;
    for (; trie.parent(node) != SemanticIdTrie::kNoNode; node = trie.parent(node)) ++depth;
    EXPECT_EQ(node, 0);
    EXPECT_EQ(depth, 3);
  }
  for (std::int32_t node = 0; node < static_cast<std::int32_t>(trie.num_nodes()); ++node) {
    if (trie.item(node) != 0) continue;
    std::int32_t sum = 0;
    for (auto c : trie.children(node)) sum += trie.items_under(c);
    EXPECT_EQ(sum, trie.items_under(node)) << "node " << node;
  }
}

// Excluding history inside the search: with a beam wide enough to hold every item, the result is
// the unexcluded ranking with the history removed (same order, same scores); with a narrow beam,
// lists stay full and never hold a history item, also when a whole subtree is excluded.
TEST(BeamSearch, ExcludedItemsAreSkippedAndListsStayFull) {
  auto ids = random_semantic_ids(30, 15);
  auto model = small_tiger(*ids);
  auto histories = random_histories(12, 30, 16);
  // One history covers every item under one level-1 code, so that whole subtree is closed.
  std::vector<std::int32_t> subtree;
  for (std::int32_t item = 1; item <= 30; ++item) {
    if (ids->code(item)[0] == ids->code(1)[0]) subtree.push_back(item);
  }
  histories.push_back(subtree);
  TigerRecommender recommender(model, ids, {64, true});
  const auto all = recommender.generate({}, views(histories));
  const auto excluded = recommender.generate({}, views(histories), /*exclude_history=*/true);
  for (std::size_t i = 0; i < histories.size(); ++i) {
    const std::set<std::int32_t> history(histories[i].begin(), histories[i].end());
    std::vector<std::int32_t> expected_items;
    std::vector<float> expected_scores;
    for (std::size_t j = 0; j < all[i].items.size(); ++j) {
      if (history.count(all[i].items[j])) continue;
      expected_items.push_back(all[i].items[j]);
      expected_scores.push_back(all[i].scores[j]);
    }
    ASSERT_EQ(excluded[i].items, expected_items) << "request " << i;
    for (std::size_t j = 0; j < expected_scores.size(); ++j) EXPECT_NEAR(excluded[i].scores[j], expected_scores[j], 1e-5);
  }
  recommender.options().beam_width = 5;
  const auto narrow = recommender.generate({}, views(histories), true);
  for (std::size_t i = 0; i < histories.size(); ++i) {
    const std::set<std::int32_t> history(histories[i].begin(), histories[i].end());
    ASSERT_EQ(narrow[i].items.size(), 5u) << "request " << i;
    for (auto item : narrow[i].items) EXPECT_EQ(history.count(item), 0u) << "request " << i << " item " << item;
  }
  // Excluding every item leaves nothing, and an item outside the catalogue is an error.
  std::vector<std::int32_t> every(30);
  for (std::int32_t item = 1; item <= 30; ++item) every[static_cast<std::size_t>(item - 1)] = item;
  std::vector<std::span<const std::int32_t>> one = {every};
  EXPECT_TRUE(recommender.generate({}, one, true)[0].items.empty());
  auto memory = model->encode(model->history_tokens(ids->codes, one), torch::Tensor());
  std::vector<std::int32_t> outside = {31};
  std::vector<std::span<const std::int32_t>> bad = {outside};
  EXPECT_THROW(constrained_beam_search(*model, SemanticIdTrie(*ids), memory, {5, true}, bad), Error);
}

TEST(BeamSearch, RejectsUnknownItemsAndEmptyHistories) {
  auto ids = random_semantic_ids(10, 11);
  auto model = small_tiger(*ids);
  TigerRecommender recommender(model, ids, {5, true});
  std::vector<std::vector<std::int32_t>> bad = {{1, 11}};
  EXPECT_THROW(recommender.generate({}, views(bad)), Error);
  std::vector<std::vector<std::int32_t>> empty = {{}};
  EXPECT_THROW(recommender.generate({}, views(empty)), Error);
}

}  // namespace
}  // namespace tessera::infer
