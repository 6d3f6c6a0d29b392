// Tests of the leave-last-out split (split.h).
#include "tessera/data/split.h"

#include <gtest/gtest.h>

#include "data/test_files.h"

namespace tessera::data {
namespace {

std::vector<std::int32_t> v(std::span<const std::int32_t> s) { return {s.begin(), s.end()}; }

TEST(Split, LeaveLastOut) {
  Dataset d;
  d.num_items = 9;
  d.user_offsets = {0, 5, 7, 10};  // lengths 5, 2, 3
  d.items = {1, 2, 3, 4, 5, 6, 7, 8, 9, 1};
  d.user_ids = {"a", "b", "c"};
  d.item_ids = {"", "1", "2", "3", "4", "5", "6", "7", "8", "9"};

  EXPECT_EQ(v(training_sequence(d, 0)), (std::vector<std::int32_t>{1, 2, 3}));
  EXPECT_TRUE(training_sequence(d, 1).empty());  // too short
  EXPECT_EQ(v(training_sequence(d, 2)), (std::vector<std::int32_t>{8}));
  // With the validation target: everything but the test target.
  EXPECT_EQ(v(training_sequence(d, 0, true)), (std::vector<std::int32_t>{1, 2, 3, 4}));
  EXPECT_TRUE(training_sequence(d, 1, true).empty());
  EXPECT_EQ(v(training_sequence(d, 2, true)), (std::vector<std::int32_t>{8, 9}));

  auto validation = leave_last_out_examples(d, Split::kValidation);
  ASSERT_EQ(validation.size(), 2u);
  EXPECT_EQ(validation[0].user, 0);
  EXPECT_EQ(v(validation[0].history), (std::vector<std::int32_t>{1, 2, 3}));
  EXPECT_EQ(validation[0].target, 4);
  EXPECT_EQ(validation[1].user, 2);
  EXPECT_EQ(validation[1].target, 9);

  auto test = leave_last_out_examples(d, Split::kTest);
  ASSERT_EQ(test.size(), 2u);
  EXPECT_EQ(v(test[0].history), (std::vector<std::int32_t>{1, 2, 3, 4}));
  EXPECT_EQ(test[0].target, 5);
  EXPECT_EQ(v(test[1].history), (std::vector<std::int32_t>{8, 9}));
  EXPECT_EQ(test[1].target, 1);
}

TEST(Split, Names) {
  EXPECT_EQ(parse_split("validation"), Split::kValidation);
  EXPECT_EQ(parse_split("test"), Split::kTest);
  EXPECT_EQ(split_name(Split::kValidation), "validation");
  EXPECT_ERROR_CONTAINS(parse_split("train"), "unknown split 'train'");
}

}  // namespace
}  // namespace tessera::data
