#include <gtest/gtest.h>

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

}  // namespace
}  // namespace tessera::train
