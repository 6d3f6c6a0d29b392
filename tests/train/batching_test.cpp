#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "tessera/data/split.h"
#include "tessera/train/batching.h"

namespace tessera::train {
namespace {

data::Dataset two_users() {
  data::Dataset d;
  d.name = "tiny";
  d.num_items = 9;
  d.items = {1, 2, 3, 4, 5, 6, /*user 1:*/ 7, 8, 9};
  d.user_offsets = {0, 6, 9};
  d.user_ids = {"a", "b"};
  d.item_ids = {"", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  return d;
}

TEST(MakeTrainingBatch, LeftPadsInputsAndShiftsTargetsWithoutValidationAndTestItems) {
  auto d = two_users();
  std::vector<std::int64_t> users = {0, 1};
  auto batch = make_training_batch(d, users, 10);
  // user 0: training sequence 1 2 3 4 -> inputs 1 2 3, targets 2 3 4; user 1: training 7 -> nothing
  ASSERT_EQ(batch.inputs.sizes(), torch::IntArrayRef({2, 3}));
  EXPECT_TRUE(torch::equal(batch.inputs[0], torch::tensor({1, 2, 3}, torch::kLong)));
  EXPECT_TRUE(torch::equal(batch.targets[0], torch::tensor({2, 3, 4}, torch::kLong)));
  EXPECT_TRUE(torch::equal(batch.inputs[1], torch::zeros({3}, torch::kLong)));
  EXPECT_TRUE(torch::equal(batch.targets[1], torch::zeros({3}, torch::kLong)));
  EXPECT_EQ(batch.num_targets, 3);
}

TEST(MakeTrainingBatch, KeepsTheMostRecentMaxLenPositions) {
  auto d = two_users();
  std::vector<std::int64_t> users = {0};
  auto batch = make_training_batch(d, users, 2);
  EXPECT_TRUE(torch::equal(batch.inputs[0], torch::tensor({2, 3}, torch::kLong)));
  EXPECT_TRUE(torch::equal(batch.targets[0], torch::tensor({3, 4}, torch::kLong)));
}

TEST(MakeHistoryBatch, LeftPadsAndTruncatesFromTheFront) {
  std::vector<std::int32_t> a = {5, 6, 7}, b = {9};
  std::vector<std::span<const std::int32_t>> histories = {a, b};
  auto batch = make_history_batch(histories, 2);
  EXPECT_TRUE(torch::equal(batch, torch::tensor({{6, 7}, {0, 9}}, torch::kLong)));
}

TEST(MakePackedTrainingBatch, ConcatenatesWithoutPaddingAndCountsThePaddedSlots) {
  std::vector<std::int32_t> a = {1, 2, 3, 4}, b = {5, 6}, c = {7};
  std::vector<std::span<const std::int32_t>> sequences = {a, b, c};
  auto batch = make_packed_training_batch(sequences, 2);  // a keeps its last 2 inputs
  EXPECT_TRUE(torch::equal(batch.inputs, torch::tensor({2, 3, 5}, torch::kLong)));
  EXPECT_TRUE(torch::equal(batch.targets, torch::tensor({3, 4, 6}, torch::kLong)));
  EXPECT_TRUE(torch::equal(batch.offsets, torch::tensor({0, 2, 3, 3}, torch::kLong)));
  EXPECT_EQ(batch.num_targets, 3);
  EXPECT_EQ(batch.padded_tokens, 3 * 2);
  // The padded batch of the same sequences holds the same (input, target) pairs.
  auto padded = make_training_batch(sequences, 2);
  EXPECT_EQ(padded.num_targets, 3);
}

TEST(StochasticLength, KeepsShortSequencesAndCutsLongOnesToOrderedSubsets) {
  std::mt19937_64 rng(5);
  std::vector<std::int32_t> seq(300);
  std::iota(seq.begin(), seq.end(), 1);
  const std::int64_t max_len = 100;  // alpha 1.9: m = floor(100^0.95) = 79; n = 101 (last max_len + 1 items)
  int cut = 0;
  const int trials = 2000;
  for (int t = 0; t < trials; ++t) {
    auto out = stochastic_length(seq, max_len, 1.9, rng);
    ASSERT_TRUE(std::is_sorted(out.begin(), out.end()));
    ASSERT_GE(out.front(), 300 - 100);  // only the items the model would see
    if (out.size() == 79) {
      ++cut;
    } else {
      ASSERT_EQ(out.size(), 101u);
      ASSERT_EQ(out.back(), 300);
    }
  }
  const double expected = 1.0 - std::pow(100.0, 1.9) / (101.0 * 101.0);  // 1 - N^alpha / n^2 = 0.38
  EXPECT_NEAR(static_cast<double>(cut) / trials, expected, 0.04);
  std::vector<std::int32_t> short_seq = {4, 5, 6};
  EXPECT_EQ(stochastic_length(short_seq, max_len, 1.0, rng), short_seq);
}

TEST(Batching, TimestampsFollowTheirItemsInEveryLayout) {
  auto d = two_users();
  d.timestamps = {100, 110, 120, 130, 140, 150, /*user 1:*/ 5, 6, 7};
  ASSERT_TRUE(d.has_timestamps());
  const auto seq = data::training_sequence(d, 0);    // 1 2 3 4
  const auto time = data::training_timestamps(d, 0);  // 100 110 120 130
  ASSERT_EQ(time.size(), seq.size());
  std::vector<std::span<const std::int32_t>> sequences = {seq, seq.first(2)};
  Timestamps times = {time, time.first(2)};
  auto padded = make_training_batch(sequences, 10, &times);
  EXPECT_TRUE(torch::equal(padded.timestamps, torch::tensor({100, 110, 120, 0, 0, 100}, torch::kLong).view({2, 3})));
  auto packed = make_packed_training_batch(sequences, 2, &times);  // keeps the last 2 inputs of the first
  EXPECT_TRUE(torch::equal(packed.inputs, torch::tensor({2, 3, 1}, torch::kLong)));
  EXPECT_TRUE(torch::equal(packed.timestamps, torch::tensor({110, 120, 100}, torch::kLong)));
  EXPECT_FALSE(make_packed_training_batch(sequences, 2).timestamps.defined());
  Timestamps short_times = {time.first(3), time.first(2)};
  EXPECT_THROW(make_packed_training_batch(sequences, 2, &short_times), c10::Error);
  EXPECT_TRUE(torch::equal(make_history_batch(times, 3), torch::tensor({110, 120, 130, 0, 100, 110}, torch::kLong).view({2, 3})));
}

TEST(RandomWindow, FitsTheSequenceAndReachesEveryStart) {
  std::mt19937_64 rng(11);
  const std::int64_t max_len = 10;  // windows of 11 items
  EXPECT_EQ(random_window_start(11, max_len, rng), 0u);
  EXPECT_EQ(random_window_start(3, max_len, rng), 0u);
  std::mt19937_64 untouched(11), after_short(11);
  random_window_start(5, max_len, after_short);
  EXPECT_EQ(untouched(), after_short());  // no draw for a sequence that fits
  std::vector<int> hits(15, 0);        // a 25-item sequence has starts 0..14
  for (int t = 0; t < 3000; ++t) {
    const auto start = random_window_start(25, max_len, rng);
    ASSERT_LE(start + 11, 25u);
    ++hits[start];
  }
  for (int h : hits) EXPECT_GT(h, 100);  // uniform: 200 expected per start
}

TEST(StochasticLength, PositionsSelectTheSameItemsWithTheSameDraws) {
  std::vector<std::int32_t> seq(300);
  std::iota(seq.begin(), seq.end(), 1);
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    std::mt19937_64 a(seed), b(seed);
    const auto items = stochastic_length(seq, 200, 1.5, a);
    const auto positions = stochastic_length_positions(seq.size(), 200, 1.5, b);
    ASSERT_EQ(items.size(), positions.size());
    for (std::size_t i = 0; i < items.size(); ++i) EXPECT_EQ(items[i], seq[positions[i]]);
    EXPECT_EQ(a(), b());  // the same number of draws
  }
}

}  // namespace
}  // namespace tessera::train
