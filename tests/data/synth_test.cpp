// Tests of the synthetic generator: determinism, size, taxonomy, and that its sequences carry
// item-to-item structure a sequence model can use (a bigram model beats popularity by far).
#include "tessera/data/synth.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <unordered_map>

#include "data/test_files.h"
#include "tessera/data/preprocess.h"
#include "tessera/data/split.h"
#include "tessera/data/stats.h"

namespace tessera::data {
namespace {

using testing::TempDir;

Dataset prepare_synthetic(const SynthFiles& files) {
  PrepareOptions options;
  options.input = files.interactions_path;
  options.metadata = files.items_path;
  return prepare_dataset(options);
}

TEST(Synth, SameSeedSameBytesOtherSeedOtherBytes) {
  TempDir a, b, c;
  SynthOptions options;
  options.num_users = 300;
  options.num_items = 400;
  auto fa = write_synthetic(options, a.file("out"));
  auto fb = write_synthetic(options, b.file("out"));
  options.seed = 7;
  auto fc = write_synthetic(options, c.file("out"));
  EXPECT_EQ(read_file(fa.interactions_path), read_file(fb.interactions_path));
  EXPECT_EQ(read_file(fa.items_path), read_file(fb.items_path));
  EXPECT_NE(read_file(fa.interactions_path), read_file(fc.interactions_path));
  EXPECT_EQ(fa.users, 300);
}

TEST(Synth, RejectsInconsistentOptions) {
  SynthOptions options;
  options.p_successor = 0.9;
  EXPECT_ERROR_CONTAINS(generate_synthetic(options), "p_successor + p_same_leaf + p_sibling must be <= 1");
  options = SynthOptions{};
  options.max_seq_len = options.num_items + 1;
  EXPECT_ERROR_CONTAINS(generate_synthetic(options), "max_seq_len must be <= num_items");
  options = SynthOptions{};
  options.branching = {};
  EXPECT_ERROR_CONTAINS(generate_synthetic(options), "branching");
}

// Hit rate and NDCG at 10 of a scorer over the leave-last-out test split, excluding each
// user's history from the ranking (items never repeat in synthetic data).
struct Metrics {
  double hr10 = 0;
  double ndcg10 = 0;
};

template <typename RankFn>
Metrics evaluate(const Dataset& d, RankFn&& top10) {
  Metrics m;
  auto examples = leave_last_out_examples(d, Split::kTest);
  for (const auto& e : examples) {
    auto ranked = top10(e.history);
    for (std::size_t r = 0; r < ranked.size(); ++r) {
      if (ranked[r] == e.target) {
        m.hr10 += 1;
        m.ndcg10 += 1.0 / std::log2(static_cast<double>(r) + 2.0);
      }
    }
  }
  m.hr10 /= static_cast<double>(examples.size());
  m.ndcg10 /= static_cast<double>(examples.size());
  return m;
}

TEST(Synth, DefaultDatasetHasSequentialStructure) {
  TempDir dir;
  const SynthOptions options;
  auto files = write_synthetic(options, dir.file("synth"));
  Dataset d = prepare_synthetic(files);
  auto stats = compute_stats(d);
  EXPECT_EQ(stats.users, options.num_users);
  EXPECT_GE(stats.interactions, 60000);
  EXPECT_LE(stats.interactions, 100000);
  EXPECT_GE(stats.mean_seq_len, 30);
  EXPECT_LE(stats.mean_seq_len, 50);
  EXPECT_GE(stats.items, options.num_items * 9 / 10);
  ASSERT_TRUE(d.has_metadata());
  EXPECT_EQ(stats.items_with_metadata, stats.items);
  EXPECT_EQ(d.item_metadata[1].attributes.size(), 3u);
  EXPECT_EQ(d.item_metadata[1].title, "Item " + d.item_ids[1]);

  // Popularity and bigram counts from the training sequences.
  std::vector<std::int64_t> popularity(d.num_items + 1, 0);
  std::unordered_map<std::int64_t, std::int64_t> bigram;  // prev * (N+1) + next -> count
  std::vector<std::vector<std::int32_t>> followers(d.num_items + 1);
  std::int64_t same_top = 0, pairs = 0;
  const std::int64_t n1 = d.num_items + 1;
  for (std::int64_t u = 0; u < d.num_users(); ++u) {
    auto seq = training_sequence(d, u);
    for (std::size_t i = 0; i < seq.size(); ++i) {
      ++popularity[seq[i]];
      if (i == 0) continue;
      if (bigram[seq[i - 1] * n1 + seq[i]]++ == 0) followers[seq[i - 1]].push_back(seq[i]);
      same_top += d.item_metadata[seq[i - 1]].attributes[0] == d.item_metadata[seq[i]].attributes[0];
      ++pairs;
    }
  }
  std::vector<std::int32_t> by_popularity(d.num_items);
  for (std::int32_t i = 0; i < d.num_items; ++i) by_popularity[i] = i + 1;
  std::stable_sort(by_popularity.begin(), by_popularity.end(), [&](auto a, auto b) { return popularity[a] > popularity[b]; });

  auto fill_popular = [&](std::vector<std::int32_t>& ranked, std::span<const std::int32_t> history) {
    for (auto item : by_popularity) {
      if (ranked.size() == 10) break;
      if (std::find(history.begin(), history.end(), item) == history.end() &&
          std::find(ranked.begin(), ranked.end(), item) == ranked.end()) {
        ranked.push_back(item);
      }
    }
  };
  Metrics pop = evaluate(d, [&](std::span<const std::int32_t> history) {
    std::vector<std::int32_t> ranked;
    fill_popular(ranked, history);
    return ranked;
  });
  Metrics big = evaluate(d, [&](std::span<const std::int32_t> history) {
    const auto prev = history.back();
    std::vector<std::int32_t> next = followers[prev];
    std::stable_sort(next.begin(), next.end(), [&](auto a, auto b) {
      auto ca = bigram[prev * n1 + a], cb = bigram[prev * n1 + b];
      return ca != cb ? ca > cb : popularity[a] > popularity[b];
    });
    std::vector<std::int32_t> ranked;
    for (auto item : next) {
      if (ranked.size() == 10) break;
      if (std::find(history.begin(), history.end(), item) == history.end()) ranked.push_back(item);
    }
    fill_popular(ranked, history);
    return ranked;
  });
  const double same_top_rate = static_cast<double>(same_top) / static_cast<double>(pairs);
  std::printf("[synth] %lld interactions, mean len %.1f | popularity HR@10 %.4f NDCG@10 %.4f | bigram HR@10 %.4f NDCG@10 %.4f"
              " | consecutive items in the same top category: %.2f\n",
              static_cast<long long>(stats.interactions), stats.mean_seq_len, pop.hr10, pop.ndcg10, big.hr10, big.ndcg10,
              same_top_rate);
  EXPECT_GE(big.hr10, 2.0 * pop.hr10);
  EXPECT_GE(big.ndcg10, 3.0 * pop.ndcg10);
  EXPECT_GT(pop.hr10, 0.005);  // popularity is informative too (Zipf), just much weaker
  // Taxonomy: consecutive items share a top-level category far more often than 1 in 6.
  EXPECT_GT(same_top_rate, 0.5);
}

}  // namespace
}  // namespace tessera::data
