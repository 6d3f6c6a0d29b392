// Tests of preprocessing: time ordering, k-core and minimum-length filtering, dense re-mapping,
// metadata attachment and dataset naming.
#include "tessera/data/preprocess.h"

#include <gtest/gtest.h>

#include "data/test_files.h"
#include "tessera/data/dataset.h"

namespace tessera::data {
namespace {

using testing::TempDir;

// Each user's sequence as original item IDs, "user: a b c".
std::vector<std::string> sequences(const Dataset& d) {
  std::vector<std::string> out;
  for (std::int64_t u = 0; u < d.num_users(); ++u) {
    std::string line = d.user_ids[u] + ":";
    for (auto item : d.sequence(u)) line += " " + d.item_ids[item];
    out.push_back(line);
  }
  return out;
}

Dataset prepare_text(const TempDir& dir, const std::string& name, const std::string& text, std::int32_t kcore,
                     std::int32_t min_seq_len) {
  PrepareOptions options;
  options.input = dir.write(name, text);
  options.kcore = kcore;
  options.min_seq_len = min_seq_len;
  return prepare_dataset(options);
}

TEST(Preprocess, KCoreIteratesUntilStable) {
  TempDir dir;
  const std::string text = "u1 a b c d\nu2 a b c\nu3 a b e\nu4 a f\n";
  // k = 2: d, e, f go (1 interaction each); then u4 has only "a" left and goes.
  PrepareReport report;
  PrepareOptions options;
  options.input = dir.write("k.txt", text);
  options.kcore = 2;
  options.min_seq_len = 0;
  Dataset d = prepare_dataset(options, &report);
  EXPECT_EQ(sequences(d), (std::vector<std::string>{"u1: a b c", "u2: a b c", "u3: a b"}));
  EXPECT_EQ(d.num_items, 3);
  EXPECT_EQ(report.filter_rounds, 3);
  EXPECT_EQ(report.raw_interactions, 12);
  validate_dataset(d, "k-core result");
  // k = 3 removes everything.
  EXPECT_ERROR_CONTAINS(prepare_text(dir, "k3.txt", text, 3, 0), "k3.txt: no interactions left after filtering");
  // k = 0: no item filter; min_seq_len 3 drops u4 only.
  d = prepare_text(dir, "k0.txt", text, 0, 3);
  EXPECT_EQ(sequences(d), (std::vector<std::string>{"u1: a b c d", "u2: a b c", "u3: a b e"}));
  EXPECT_EQ(d.num_items, 5);  // f is gone with u4
}

TEST(Preprocess, MinSeqLenCountsTowardsTheCore) {
  TempDir dir;
  // With kcore 2 and min_seq_len 3, u3 (2 items) goes, which leaves x with 1 interaction.
  Dataset d = prepare_text(dir, "m.txt", "u1 a b x\nu2 a b c\nu3 x c\nu4 c a b\n", 2, 3);
  EXPECT_EQ(sequences(d), (std::vector<std::string>{"u2: a b c", "u4: c a b"}));
}

TEST(Preprocess, NumericItemIdsAreSortedNumerically) {
  TempDir dir;
  Dataset d = prepare_text(dir, "n.txt", "7 100 9 10\n3 10 9 2\n", 0, 3);
  EXPECT_EQ(d.item_ids, (std::vector<std::string>{"", "2", "9", "10", "100"}));
  EXPECT_EQ(d.user_ids, (std::vector<std::string>{"7", "3"}));  // users in order of appearance
  EXPECT_EQ(std::vector<std::int32_t>(d.sequence(0).begin(), d.sequence(0).end()), (std::vector<std::int32_t>{4, 2, 3}));
}

TEST(Preprocess, ContiguousOneBasedIdsMapToThemselves) {
  TempDir dir;
  Dataset d = prepare_text(dir, "c.txt", "1 3 1 2\n2 2 4 3\n", 0, 3);
  for (std::int32_t i = 1; i <= d.num_items; ++i) EXPECT_EQ(d.item_ids[i], std::to_string(i));
}

TEST(Preprocess, NonNumericItemIdsKeepFirstAppearance) {
  TempDir dir;
  Dataset d = prepare_text(dir, "s.txt", "u z y 5\nv y x z\n", 0, 3);
  EXPECT_EQ(d.item_ids, (std::vector<std::string>{"", "z", "y", "5", "x"}));
}

TEST(Preprocess, SortsByTimestampStably) {
  TempDir dir;
  PrepareOptions options;
  options.input = dir.write("t.csv", "user_id,item_id,timestamp\nu,a,30\nu,b,10\nu,c,30\nu,d,20\nv,a,5\nv,b,5\nv,c,1\n");
  Dataset d = prepare_dataset(options);
  EXPECT_EQ(sequences(d), (std::vector<std::string>{"u: b d a c", "v: c a b"}));
  EXPECT_EQ(d.timestamps, (std::vector<std::int64_t>{10, 20, 30, 30, 1, 5, 5}));
  EXPECT_EQ(d.name, "t");
}

TEST(Preprocess, AttachesMetadataByOriginalId) {
  TempDir dir;
  PrepareOptions options;
  options.input = dir.write("seq.txt", "1 10 20 30\n2 20 30 40\n");
  options.metadata = dir.write("items.tsv", "10\tTen (1990)\ta|b\n30\tThirty\t\n99\tUnused\tz\n");
  PrepareReport report;
  Dataset d = prepare_dataset(options, &report);
  ASSERT_TRUE(d.has_metadata());
  ASSERT_EQ(d.item_metadata.size(), 5u);
  EXPECT_EQ(d.item_metadata[1].title, "Ten (1990)");  // item "10"
  EXPECT_EQ(d.item_metadata[1].year, 1990);
  EXPECT_EQ(d.item_metadata[2].title, "");  // "20" has none
  EXPECT_EQ(d.item_metadata[3].title, "Thirty");
  EXPECT_EQ(report.items_with_metadata, 2);
  EXPECT_EQ(report.metadata_entries, 3);
}

TEST(Preprocess, FailedPrepareLeavesNoFile) {
  TempDir dir;
  const std::string out = dir.file("out.tsd");
  PrepareOptions options;
  options.input = dir.write("bad.dat", "1::2::5::100\n1::3::5\n");
  EXPECT_ERROR_CONTAINS(save_dataset(prepare_dataset(options), out), "bad.dat:2:");
  EXPECT_FALSE(std::filesystem::exists(out));
  options.input = dir.write("good.txt", "1 2 3 4\n");
  options.metadata = dir.write("bad_items.tsv", "2\n");
  EXPECT_ERROR_CONTAINS(save_dataset(prepare_dataset(options), out), "bad_items.tsv:1:");
  EXPECT_FALSE(std::filesystem::exists(out));
  // nothing else was written either
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().string().find(".tmp"), std::string::npos) << entry.path();
  }
}

TEST(Preprocess, DatasetNames) {
  EXPECT_EQ(dataset_name_from_path("/d/Beauty/Beauty.txt"), "beauty");
  EXPECT_EQ(dataset_name_from_path("/d/ml-1m/ml-1m_sequences.txt.gz"), "ml-1m");
  EXPECT_EQ(dataset_name_from_path("/d/ml-100k/u.data"), "ml-100k");
  EXPECT_EQ(dataset_name_from_path("/d/ml-1m/ratings.dat"), "ml-1m");
  EXPECT_EQ(dataset_name_from_path("out/synthetic.txt"), "synthetic");
}

}  // namespace
}  // namespace tessera::data
