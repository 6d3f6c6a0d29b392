// Prepares the real datasets in ../shared/data and checks the statistics their PROVENANCE.md
// files state, and that metadata is attached. Each test is skipped, loudly, when its folder is
// missing.
#include <gtest/gtest.h>

#include <algorithm>

#include "data/test_files.h"
#include "tessera/data/preprocess.h"
#include "tessera/data/stats.h"
#include "tessera/data/text_parsing.h"

namespace tessera::data {
namespace {

using testing::TempDir;

// Dense ID of the item with original ID `original` (0 if absent).
std::int32_t dense_item(const Dataset& d, const std::string& original) {
  auto it = std::find(d.item_ids.begin(), d.item_ids.end(), original);
  return it == d.item_ids.end() ? 0 : static_cast<std::int32_t>(it - d.item_ids.begin());
}

bool has_attribute(const ItemMetadata& m, const std::string& name) {
  return std::find(m.attributes.begin(), m.attributes.end(), name) != m.attributes.end();
}

TEST(RealData, MovieLens1M) {
  REQUIRE_SHARED_DATA(dir, "ml-1m");
  PrepareOptions options;
  options.input = dir + "/ml-1m_sequences.txt.gz";
  options.metadata = dir + "/movies.dat";
  PrepareReport report;
  Dataset d = prepare_dataset(options, &report);
  auto s = compute_stats(d);
  EXPECT_EQ(d.name, "ml-1m");
  EXPECT_EQ(report.format, "sequences");
  EXPECT_EQ(s.users, 6040);
  EXPECT_EQ(s.items, 3706);
  EXPECT_EQ(s.interactions, 1000209);
  EXPECT_EQ(s.min_seq_len, 20);
  EXPECT_EQ(s.max_seq_len, 2314);
  EXPECT_FALSE(s.has_timestamps);
  EXPECT_EQ(s.items_with_metadata, 3706);
  EXPECT_EQ(report.metadata_entries, 3883);
  ASSERT_EQ(dense_item(d, "1"), 1);
  const auto& toy = d.item_metadata[1];
  EXPECT_EQ(toy.title, "Toy Story (1995)");
  EXPECT_EQ(toy.year, 1995);
  EXPECT_TRUE(has_attribute(toy, "Animation"));
  EXPECT_EQ(d.user_ids[0], "1");
  // Latin-1 titles come out as UTF-8.
  for (std::int32_t i = 1; i <= d.num_items; ++i) ASSERT_TRUE(is_valid_utf8(d.item_metadata[i].title)) << d.item_ids[i];

  TempDir tmp;
  save_dataset(d, tmp.file("ml-1m.tsd"));
  Dataset back = load_dataset(tmp.file("ml-1m.tsd"));
  EXPECT_EQ(back.items, d.items);
  EXPECT_EQ(back.user_offsets, d.user_offsets);
  EXPECT_EQ(back.item_metadata[1].title, "Toy Story (1995)");
}

TEST(RealData, Beauty) {
  REQUIRE_SHARED_DATA(dir, "Beauty");
  PrepareOptions options;
  options.input = dir + "/Beauty.txt";
  options.metadata = dir + "/Beauty_item2attributes.json";
  Dataset d = prepare_dataset(options);
  auto s = compute_stats(d);
  EXPECT_EQ(d.name, "beauty");
  EXPECT_EQ(s.users, 22363);
  EXPECT_EQ(s.items, 12101);
  EXPECT_EQ(s.interactions, 198502);
  EXPECT_EQ(s.min_seq_len, 5);
  EXPECT_EQ(s.max_seq_len, 204);
  EXPECT_NEAR(s.mean_seq_len, 8.88, 0.005);
  for (std::int32_t i = 1; i <= d.num_items; ++i) ASSERT_EQ(d.item_ids[i], std::to_string(i));  // 1-based IDs kept
  for (std::int64_t u = 0; u < s.users; ++u) ASSERT_EQ(d.user_ids[u], std::to_string(u + 1));   // line order
  EXPECT_EQ(s.items_with_metadata, 12101);
  EXPECT_TRUE(has_attribute(d.item_metadata[2], "OPI"));
  EXPECT_TRUE(has_attribute(d.item_metadata[2], "Nail Polish"));

  // The same attributes from the derived item_info TSV, with the ASIN as title.
  options.metadata = dir + "/Beauty_item_info.tsv";
  Dataset info = prepare_dataset(options);
  EXPECT_EQ(info.item_metadata[2].title, "B004ZT0SSG");
  EXPECT_EQ(info.item_metadata[2].attributes, (std::vector<std::string>{"OPI", "Makeup", "Nails", "Nail Polish"}));
  EXPECT_EQ(info.item_metadata[3].attributes, (std::vector<std::string>{"Unknown", "Skin Care", "Face", "Creams & Moisturizers"}));
}

TEST(RealData, MovieLens100k) {
  REQUIRE_SHARED_DATA(dir, "ml-100k");
  PrepareOptions options;
  options.input = dir + "/u.data";
  options.metadata = dir + "/u.item";
  PrepareReport report;
  Dataset d = prepare_dataset(options, &report);
  auto s = compute_stats(d);
  EXPECT_EQ(d.name, "ml-100k");
  EXPECT_EQ(report.format, "movielens");
  EXPECT_EQ(s.users, 943);
  EXPECT_EQ(s.items, 1682);
  EXPECT_EQ(s.interactions, 100000);
  EXPECT_EQ(s.min_seq_len, 20);
  EXPECT_TRUE(s.has_timestamps);
  EXPECT_EQ(s.items_with_metadata, 1682);
  const auto& toy = d.item_metadata[dense_item(d, "1")];
  EXPECT_EQ(toy.title, "Toy Story (1995)");
  EXPECT_EQ(toy.year, 1995);
  EXPECT_EQ(toy.attributes, (std::vector<std::string>{"Animation", "Children's", "Comedy"}));
  validate_dataset(d, "ml-100k");  // timestamps non-decreasing within every user

  // Ratings 4 and 5 only: 34,174 + 21,201 interactions (PROVENANCE.md).
  options.read.min_rating = 4;
  d = prepare_dataset(options, &report);
  EXPECT_EQ(report.raw_interactions, 34174 + 21201);
  EXPECT_EQ(report.dropped_by_rating, 100000 - 34174 - 21201);
}

TEST(RealData, Yelp) {
  REQUIRE_SHARED_DATA(dir, "Yelp");
  PrepareOptions options;
  options.input = dir + "/Yelp.txt";
  options.metadata = dir + "/Yelp_item2attributes.json";
  Dataset d = prepare_dataset(options);
  auto s = compute_stats(d);
  EXPECT_EQ(s.users, 30431);
  EXPECT_EQ(s.items, 20033);
  EXPECT_EQ(s.interactions, 316354);
  EXPECT_EQ(s.min_seq_len, 5);
  EXPECT_EQ(s.max_seq_len, 350);
  const auto& first = d.item_metadata[1];
  EXPECT_TRUE(has_attribute(first, "Greek"));
  EXPECT_TRUE(has_attribute(first, "Restaurants"));
}

}  // namespace
}  // namespace tessera::data
