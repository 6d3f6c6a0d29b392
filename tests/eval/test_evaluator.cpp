// Popularity baseline, evaluate() with fake scorers, paired comparison and reports, on tiny
// hand-built datasets.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <nlohmann/json.hpp>
#include <random>

#include "tessera/core/error.h"
#include "tessera/eval/evaluator.h"
#include "tessera/eval/metrics.h"
#include "tessera/eval/popularity.h"
#include "tessera/eval/ranking.h"
#include "tessera/eval/report.h"

namespace tessera::eval {
namespace {

data::Dataset make_dataset(std::int32_t num_items, const std::vector<std::vector<std::int32_t>>& sequences) {
  data::Dataset d;
  d.name = "tiny";
  d.num_items = num_items;
  d.item_ids.push_back("");
  for (std::int32_t i = 1; i <= num_items; ++i) d.item_ids.push_back("i" + std::to_string(i));
  for (std::size_t u = 0; u < sequences.size(); ++u) {
    d.items.insert(d.items.end(), sequences[u].begin(), sequences[u].end());
    d.user_offsets.push_back(static_cast<std::int64_t>(d.items.size()));
    d.user_ids.push_back("u" + std::to_string(u));
  }
  return d;
}

// Users walk through the catalogue in order: each item is followed by the next one (wrapping).
data::Dataset successor_dataset(std::int32_t num_items, int num_users, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<std::int32_t>> sequences;
  for (int u = 0; u < num_users; ++u) {
    const auto start = static_cast<std::int32_t>(rng() % static_cast<std::uint64_t>(num_items));
    const auto length = 3 + static_cast<std::int32_t>(rng() % 8);
    std::vector<std::int32_t> seq;
    for (std::int32_t i = 0; i < length; ++i) seq.push_back((start + i) % num_items + 1);
    sequences.push_back(seq);
  }
  return make_dataset(num_items, sequences);
}

// Knows the rule of successor_dataset(): scores the successor of the last item highest.
class SuccessorScorer : public Scorer {
 public:
  explicit SuccessorScorer(std::int32_t num_items) : num_items_(num_items) {}
  std::string name() const override { return "successor"; }
  at::Tensor score(const std::vector<std::span<const std::int32_t>>& histories) override {
    at::Tensor scores = at::zeros({static_cast<std::int64_t>(histories.size()), num_items_ + 1});
    for (std::size_t b = 0; b < histories.size(); ++b) scores[static_cast<std::int64_t>(b)][histories[b].back() % num_items_ + 1] = 1.0f;
    return scores;
  }

 private:
  std::int32_t num_items_;
};

// Independent uniform scores, from its own seeded generator.
class RandomScorer : public Scorer {
 public:
  RandomScorer(std::int32_t num_items, std::uint64_t seed) : num_items_(num_items), rng_(seed) {}
  std::string name() const override { return "random"; }
  at::Tensor score(const std::vector<std::span<const std::int32_t>>& histories) override {
    at::Tensor scores = at::empty({static_cast<std::int64_t>(histories.size()), num_items_ + 1}, at::kFloat);
    float* p = scores.data_ptr<float>();
    for (std::int64_t i = 0; i < scores.numel(); ++i) p[i] = static_cast<float>(rng_() >> 40);  // 24-bit: exact in float
    return scores;
  }

 private:
  std::int32_t num_items_;
  std::mt19937_64 rng_;
};

// Returns whatever shape it was told to, to test error reporting.
class BrokenScorer : public Scorer {
 public:
  std::string name() const override { return "broken"; }
  at::Tensor score(const std::vector<std::span<const std::int32_t>>& histories) override {
    return at::zeros({static_cast<std::int64_t>(histories.size()), 3});
  }
};

// Users 0, 1 and 3 are evaluated; user 2 has only 2 items.
data::Dataset hand_dataset() { return make_dataset(5, {{1, 2, 3, 4}, {2, 2, 5}, {3, 1}, {4, 5, 1, 2}}); }

TEST(Popularity, CountsTrainingSequencesOnly) {
  // Training parts: {1, 2}, {2}, {} (too short), {4, 5}.
  EXPECT_EQ(training_item_counts(hand_dataset()), (std::vector<std::int64_t>{0, 1, 2, 0, 1, 1}));
  PopularityScorer scorer(hand_dataset());
  const std::vector<std::int32_t> h = {1};
  const at::Tensor scores = scorer.score({h, h});
  ASSERT_EQ(scores.sizes(), (at::IntArrayRef{2, 6}));
  EXPECT_EQ(scores.scalar_type(), at::kFloat);
  EXPECT_EQ(scores[1][2].item<float>(), 2.0f);
}

TEST(Popularity, HandComputedRanks) {
  const data::Dataset d = hand_dataset();
  PopularityScorer scorer(d);
  EvalOptions options;
  options.bootstrap_samples = 0;
  // Scores: item 1 -> 1, 2 -> 2, 3 -> 0, 4 -> 1, 5 -> 1. Test targets: 4, 5, 2.
  EvalResult r = evaluate(scorer, d, options);
  EXPECT_EQ(r.users, (std::vector<std::int64_t>{0, 1, 3}));
  EXPECT_EQ(r.ranks, (std::vector<std::int64_t>{3, 3, 0}));
  EXPECT_EQ(r.model, "popularity");
  EXPECT_EQ(r.num_users, 3);
  EXPECT_DOUBLE_EQ(r.metrics.at("hr@1").mean, 1.0 / 3);
  EXPECT_DOUBLE_EQ(r.metrics.at("mrr").mean, (0.25 + 0.25 + 1.0) / 3);
  // Masking histories {1,2,3}, {2,2}, {4,5,1} leaves fewer items above the targets.
  options.exclude_history = true;
  r = evaluate(scorer, d, options);
  EXPECT_EQ(r.ranks, (std::vector<std::int64_t>{1, 2, 0}));
  EXPECT_TRUE(r.exclude_history);
  // Validation targets 3, 2, 1 (histories {1,2}, {2}, {4,5}).
  options.exclude_history = false;
  options.split = data::Split::kValidation;
  r = evaluate(scorer, d, options);
  EXPECT_EQ(r.split, "validation");
  EXPECT_EQ(r.ranks, (std::vector<std::int64_t>{4, 0, 3}));
}

TEST(Evaluate, PerfectScorerHitsAtOne) {
  const data::Dataset d = successor_dataset(50, 300, 1);
  SuccessorScorer scorer(50);
  EvalOptions options;
  options.batch_size = 64;
  const EvalResult r = evaluate(scorer, d, options);
  EXPECT_EQ(r.num_users, 300);
  EXPECT_EQ(r.num_items, 50);
  EXPECT_EQ(r.dataset, "tiny");
  EXPECT_EQ(r.split, "test");
  for (const char* name : {"hr@1", "recall@1", "ndcg@1", "hr@200", "mrr"}) {
    EXPECT_DOUBLE_EQ(r.metrics.at(name).mean, 1.0) << name;
    EXPECT_DOUBLE_EQ(r.metrics.at(name).ci_low, 1.0) << name;
  }
  EXPECT_EQ(r.metrics.size(), 6u * 3 + 1);  // hr, recall, ndcg per cutoff + mrr
  EXPECT_GE(r.seconds, 0.0);
}

TEST(Evaluate, RandomScorerHitsAboutKOverN) {
  const std::int32_t n = 100;
  const data::Dataset d = successor_dataset(n, 3000, 2);
  RandomScorer scorer(n, 3);
  EvalOptions options;
  options.cutoffs = {10, 50};
  const EvalResult r = evaluate(scorer, d, options);
  // The target's rank is uniform on 0..n-1: HR@K = K/n, NDCG@K = sum_{r<K} 1/log2(r+2) / n,
  // MRR = H_n / n. Standard error of HR@10 here is sqrt(0.09 / 3000) = 0.0055.
  double ndcg10 = 0, mrr = 0;
  for (int rank = 0; rank < n; ++rank) {
    if (rank < 10) ndcg10 += 1.0 / std::log2(rank + 2.0) / n;
    mrr += 1.0 / (rank + 1.0) / n;
  }
  EXPECT_NEAR(r.metrics.at("hr@10").mean, 0.10, 0.025);
  EXPECT_NEAR(r.metrics.at("hr@50").mean, 0.50, 0.05);
  EXPECT_NEAR(r.metrics.at("ndcg@10").mean, ndcg10, 0.015);
  EXPECT_NEAR(r.metrics.at("mrr").mean, mrr, 0.015);
  EXPECT_LT(r.metrics.at("hr@10").ci_low, r.metrics.at("hr@10").mean);
  EXPECT_GT(r.metrics.at("hr@10").ci_high, r.metrics.at("hr@10").mean);
}

TEST(Evaluate, BatchSizeDoesNotChangeResults) {
  const data::Dataset d = successor_dataset(30, 101, 4);
  PopularityScorer scorer(d);
  EvalOptions options;
  options.exclude_history = true;
  const EvalResult a = evaluate(scorer, d, options);
  options.batch_size = 7;
  const EvalResult b = evaluate(scorer, d, options);
  EXPECT_EQ(a.ranks, b.ranks);
  EXPECT_EQ(a.metrics.at("ndcg@10").ci_high, b.metrics.at("ndcg@10").ci_high);
}

TEST(Evaluate, MaxUsersTakesAnEvenlySpacedSubset) {
  const data::Dataset d = successor_dataset(30, 200, 5);
  EvalOptions options;
  options.max_users = 50;
  const auto examples = select_examples(d, options);
  ASSERT_EQ(examples.size(), 50u);
  EXPECT_EQ(examples[0].user, 0);
  EXPECT_EQ(examples[1].user, 4);
  EXPECT_EQ(examples[49].user, 196);
  options.max_users = 1000;
  EXPECT_EQ(select_examples(d, options).size(), 200u);
}

TEST(Evaluate, GenerativePathSharesTheMetrics) {
  // A "generative model" listing the successor of the last item second, after item 1.
  const data::Dataset d = successor_dataset(20, 40, 6);
  EvalOptions options;
  options.cutoffs = {1, 2};
  const auto examples = select_examples(d, options);
  std::vector<std::vector<std::int32_t>> lists;
  for (const auto& e : examples) lists.push_back({e.target == 1 ? 2 : 1, e.history.back() % 20 + 1});
  const EvalResult r = evaluate_ranks("lister", d, examples, ranks_from_lists(lists, examples), options);
  EXPECT_EQ(r.model, "lister");
  EXPECT_DOUBLE_EQ(r.metrics.at("hr@1").mean, 0.0);
  EXPECT_DOUBLE_EQ(r.metrics.at("hr@2").mean, 1.0);
  EXPECT_DOUBLE_EQ(r.metrics.at("mrr").mean, 0.5);
  EXPECT_THROW(evaluate_ranks("lister", d, examples, {0, 1}, options), Error);
}

TEST(Evaluate, ReportsUserErrors) {
  const data::Dataset d = successor_dataset(30, 20, 7);
  BrokenScorer broken;
  EXPECT_THROW(evaluate(broken, d, {}), Error);
  SuccessorScorer scorer(30);
  const data::Dataset too_short = make_dataset(3, {{1, 2}, {3}});
  EXPECT_THROW(evaluate(scorer, too_short, {}), Error);
  EvalOptions bad;
  bad.batch_size = 0;
  EXPECT_THROW(evaluate(scorer, d, bad), Error);
  bad = {};
  bad.cutoffs = {10, 0};
  EXPECT_THROW(evaluate(scorer, d, bad), Error);
}

TEST(Compare, PairedDifferenceOverTheSameUsers) {
  const data::Dataset d = successor_dataset(50, 300, 8);
  SuccessorScorer perfect(50);
  PopularityScorer popularity(d);
  const EvalResult a = evaluate(popularity, d, {});
  const EvalResult b = evaluate(perfect, d, {});
  const auto diff = compare_results(a, b, {});
  EXPECT_DOUBLE_EQ(diff.at("hr@1").candidate, 1.0);
  EXPECT_DOUBLE_EQ(diff.at("hr@1").baseline, a.metrics.at("hr@1").mean);
  EXPECT_DOUBLE_EQ(diff.at("hr@1").difference.mean, 1.0 - a.metrics.at("hr@1").mean);
  EXPECT_GT(diff.at("ndcg@10").difference.ci_low, 0.0);
  EXPECT_EQ(diff.count("recall@10"), 0u);

  EvalOptions fewer;
  fewer.max_users = 100;
  EXPECT_THROW(compare_results(a, evaluate(perfect, d, fewer), {}), Error);
  EvalOptions masked;
  masked.exclude_history = true;
  EXPECT_THROW(compare_results(a, evaluate(perfect, d, masked), {}), Error);
}

TEST(Report, JsonFieldsAndRoundTrip) {
  const data::Dataset d = successor_dataset(50, 100, 9);
  PopularityScorer scorer(d);
  EvalOptions options;
  options.cutoffs = {5, 10};
  const EvalResult r = evaluate(scorer, d, options);
  const nlohmann::json j = to_json(r);
  EXPECT_EQ(j.at("model"), "popularity");
  EXPECT_EQ(j.at("split"), "test");
  EXPECT_EQ(j.at("exclude_history"), false);
  EXPECT_EQ(j.at("num_users"), 100);
  EXPECT_DOUBLE_EQ(j.at("metrics").at("hr@10").at("mean").get<double>(), r.metrics.at("hr@10").mean);
  EXPECT_DOUBLE_EQ(j.at("metrics").at("ndcg@5").at("ci95")[0].get<double>(), r.metrics.at("ndcg@5").ci_low);
  EXPECT_TRUE(j.at("metrics").contains("recall@5"));
  EXPECT_FALSE(j.contains("ranks"));

  const nlohmann::json flat = flat_metrics(r);
  EXPECT_DOUBLE_EQ(flat.at("mrr").get<double>(), r.metrics.at("mrr").mean);
  EXPECT_EQ(flat.size(), r.metrics.size());

  EvalResult with_missing = r;
  with_missing.ranks[0] = kNotRanked;
  const EvalResult back = eval_result_from_json(nlohmann::json::parse(to_json(with_missing, true).dump()));
  EXPECT_EQ(back.ranks, with_missing.ranks);
  EXPECT_EQ(back.users, r.users);
  EXPECT_EQ(back.cutoffs, r.cutoffs);
  EXPECT_DOUBLE_EQ(back.metrics.at("hr@5").ci_high, r.metrics.at("hr@5").ci_high);
  EXPECT_THROW(eval_result_from_json(nlohmann::json{{"model", "x"}}), Error);

  options.bootstrap_samples = 0;
  const nlohmann::json no_ci = to_json(evaluate(scorer, d, options));
  EXPECT_TRUE(no_ci.at("metrics").at("mrr").at("ci95").is_null());
  EXPECT_TRUE(std::isnan(eval_result_from_json(no_ci).metrics.at("mrr").ci_low));
}

TEST(Report, TablePutsModelsSideBySide) {
  const data::Dataset d = successor_dataset(50, 100, 10);
  SuccessorScorer perfect(50);
  PopularityScorer popularity(d);
  EvalOptions options;
  options.cutoffs = {10};
  const std::vector<EvalResult> results = {evaluate(perfect, d, options), evaluate(popularity, d, options)};
  const std::string table = format_table(results);
  EXPECT_NE(table.find("tiny, test split, 100 users, 50 items, history items excluded: no\n"), std::string::npos) << table;
  EXPECT_NE(table.find("metric   successor"), std::string::npos) << table;
  EXPECT_NE(table.find("popularity"), std::string::npos) << table;
  EXPECT_NE(table.find("hr@10    1.0000 [1.0000, 1.0000]"), std::string::npos) << table;
  EXPECT_NE(table.find("ndcg@10"), std::string::npos) << table;
  EXPECT_NE(table.find("mrr"), std::string::npos) << table;
  EXPECT_NE(table.find("95% bootstrap interval"), std::string::npos) << table;

  // A setting that differs moves from the header into the column names.
  options.exclude_history = true;
  const std::vector<EvalResult> both = {results[1], evaluate(popularity, d, options)};
  const std::string mixed = format_table(both);
  EXPECT_NE(mixed.find("popularity (history items excluded: no)"), std::string::npos) << mixed;
  EXPECT_NE(mixed.find("popularity (history items excluded: yes)"), std::string::npos) << mixed;
  EXPECT_EQ(mixed.find("excluded: yes\n"), std::string::npos) << mixed;
}

}  // namespace
}  // namespace tessera::eval
