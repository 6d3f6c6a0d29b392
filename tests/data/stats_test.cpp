// Tests of dataset statistics.
#include "tessera/data/stats.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace tessera::data {
namespace {

TEST(Stats, SmallDataset) {
  Dataset d;
  d.name = "tiny";
  d.num_items = 5;
  d.user_offsets = {0, 3, 7, 12, 22};  // lengths 3, 4, 5, 10
  d.items.assign(22, 1);
  d.user_ids = {"a", "b", "c", "d"};
  d.item_ids = {"", "1", "2", "3", "4", "5"};
  d.item_metadata.resize(6);
  d.item_metadata[2].title = "Two";
  auto s = compute_stats(d);
  EXPECT_EQ(s.users, 4);
  EXPECT_EQ(s.items, 5);
  EXPECT_EQ(s.interactions, 22);
  EXPECT_EQ(s.min_seq_len, 3);
  EXPECT_DOUBLE_EQ(s.mean_seq_len, 5.5);
  EXPECT_DOUBLE_EQ(s.median_seq_len, 4.5);
  EXPECT_EQ(s.p90_seq_len, 10);
  EXPECT_EQ(s.max_seq_len, 10);
  EXPECT_DOUBLE_EQ(s.density, 22.0 / 20.0);
  EXPECT_EQ(s.items_with_metadata, 1);
  auto j = to_json(s);
  EXPECT_EQ(j["users"], 4);
  EXPECT_EQ(j["name"], "tiny");
  auto text = format_stats(s);
  EXPECT_NE(text.find("interactions  22"), std::string::npos) << text;
  EXPECT_NE(text.find("median 4.5"), std::string::npos) << text;
}

TEST(Stats, EmptyDataset) {
  auto s = compute_stats(Dataset{});
  EXPECT_EQ(s.users, 0);
  EXPECT_EQ(s.max_seq_len, 0);
  EXPECT_NE(format_stats(s).find("users         0"), std::string::npos);
}

}  // namespace
}  // namespace tessera::data
