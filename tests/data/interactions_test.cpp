// Tests of the interaction readers: every format, auto-detection, and every malformed input
// reported as "file:line: what is wrong".
#include "tessera/data/interactions.h"

#include <gtest/gtest.h>

#include "data/test_files.h"

namespace tessera::data {
namespace {

using testing::TempDir;

// "user:item" of every interaction in file order, with original IDs.
std::vector<std::string> pairs(const RawInteractions& raw) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < raw.items.size(); ++i) out.push_back(raw.user_ids[raw.users[i]] + ":" + raw.item_ids[raw.items[i]]);
  return out;
}

TEST(Interactions, SequenceLines) {
  TempDir dir;
  auto path = dir.write("seq.txt", "u1 a b c\n\nu2\tb  d\nu1 e\n");
  auto raw = read_interactions(path);
  EXPECT_EQ(raw.format, InteractionFormat::kSequences);
  EXPECT_EQ(pairs(raw), (std::vector<std::string>{"u1:a", "u1:b", "u1:c", "u2:b", "u2:d", "u1:e"}));
  EXPECT_EQ(raw.user_ids, (std::vector<std::string>{"u1", "u2"}));
  EXPECT_EQ(raw.item_ids, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_FALSE(raw.has_timestamps());
}

TEST(Interactions, SequenceLinesGzip) {
  TempDir dir;
  auto raw = read_interactions(dir.write_gz("seq.txt.gz", "1 5 6\n2 6 7\n"));
  EXPECT_EQ(raw.size(), 4);
}

TEST(Interactions, MovieLensRatingsDat) {
  TempDir dir;
  auto path = dir.write("ratings.dat", "1::10::5::978300760\n1::20::3::978300761\n2::10::4::978300000\n");
  auto raw = read_interactions(path);
  EXPECT_EQ(raw.format, InteractionFormat::kMovieLens);
  EXPECT_EQ(pairs(raw), (std::vector<std::string>{"1:10", "1:20", "2:10"}));
  EXPECT_EQ(raw.timestamps, (std::vector<std::int64_t>{978300760, 978300761, 978300000}));
}

TEST(Interactions, MovieLensUDataAndMinRating) {
  TempDir dir;
  auto path = dir.write("u.data", "196\t242\t3\t881250949\n186\t302\t3\t891717742\n22\t377\t1\t878887116\n");
  auto raw = read_interactions(path);
  EXPECT_EQ(raw.format, InteractionFormat::kMovieLens);
  EXPECT_EQ(raw.size(), 3);
  ReadOptions options;
  options.min_rating = 2;
  raw = read_interactions(path, options);
  EXPECT_EQ(raw.size(), 2);
  EXPECT_EQ(raw.dropped_by_rating, 1);
  options.min_rating = 4;
  EXPECT_ERROR_CONTAINS(read_interactions(path, options), path + ": no interactions left: all 3 have rating < 4");
}

TEST(Interactions, MovieLensWrongFieldCount) {
  TempDir dir;
  auto path = dir.write("ratings.dat", "1::10::5::978300760\n1::20::3\n");
  EXPECT_ERROR_CONTAINS(read_interactions(path), path + ":2: expected 4 fields separated by '::'");
  EXPECT_ERROR_CONTAINS(read_interactions(path), "got 3");
  auto tab = dir.write("u.data", "1\t2\t3\t4\n1\t2\t3\n");
  EXPECT_ERROR_CONTAINS(read_interactions(tab), tab + ":2: expected 4 fields separated by tabs");
}

TEST(Interactions, MovieLensNonNumericFields) {
  TempDir dir;
  auto ts = dir.write("a.dat", "1::10::5::978300760\n\n1::20::3::yesterday\n");
  EXPECT_ERROR_CONTAINS(read_interactions(ts), ts + ":3: timestamp 'yesterday' is not an integer");
  auto user = dir.write("b.dat", "x1::10::5::978300760\n");
  EXPECT_ERROR_CONTAINS(read_interactions(user), user + ":1: user ID 'x1' is not an integer");
  auto item = dir.write("c.dat", "1::i10::5::978300760\n");
  EXPECT_ERROR_CONTAINS(read_interactions(item), item + ":1: item ID 'i10' is not an integer");
  auto rating = dir.write("d.dat", "1::10::five::978300760\n");
  EXPECT_ERROR_CONTAINS(read_interactions(rating), rating + ":1: rating 'five' is not a number");
}

TEST(Interactions, CsvWithHeaderQuotesAndNamedColumns) {
  TempDir dir;
  auto path = dir.write("log.csv", "ts,item,\"user\",note\n5,\"b\",u1,\"x, y\"\n3,a,u1,\n9,a,u2,z\n");
  ReadOptions options;
  options.user_col = "user";
  options.item_col = "item";
  options.time_col = "ts";
  auto raw = read_interactions(path, options);
  EXPECT_EQ(raw.format, InteractionFormat::kCsv);
  EXPECT_EQ(pairs(raw), (std::vector<std::string>{"u1:b", "u1:a", "u2:a"}));
  EXPECT_EQ(raw.timestamps, (std::vector<std::int64_t>{5, 3, 9}));
}

TEST(Interactions, TsvDefaultColumnsAndOptionalTimestamp) {
  TempDir dir;
  auto path = dir.write("log.tsv", "user_id\titem_id\tother\n1\t2\tq\n1\t3\tr\n");
  auto raw = read_interactions(path);
  EXPECT_FALSE(raw.has_timestamps());
  EXPECT_EQ(raw.size(), 2);
  auto with_ts = dir.write("log2.tsv", "user_id\titem_id\ttimestamp\trating\n1\t2\t100\t4.5\n1\t3\t99.7\t2\n");
  ReadOptions options;
  options.min_rating = 3;
  raw = read_interactions(with_ts, options);
  EXPECT_EQ(raw.timestamps, (std::vector<std::int64_t>{100}));
  EXPECT_EQ(raw.dropped_by_rating, 1);
}

TEST(Interactions, CsvErrors) {
  TempDir dir;
  auto missing = dir.write("a.csv", "user_id,product,timestamp\n1,2,3\n");
  EXPECT_ERROR_CONTAINS(read_interactions(missing), missing + ":1: no column named 'item_id' (columns: user_id, product, timestamp)");
  ReadOptions time;
  time.time_col = "time";
  auto no_time = dir.write("a2.csv", "user_id,item_id,timestamp\n1,2,3\n");
  EXPECT_ERROR_CONTAINS(read_interactions(no_time, time), no_time + ":1: no column named 'time' (columns: user_id, item_id, timestamp)");

  auto count = dir.write("b.csv", "user_id,item_id,timestamp\n1,2,3\n1,2\n");
  EXPECT_ERROR_CONTAINS(read_interactions(count), count + ":3: expected 3 fields separated by ',', got 2");
  auto ts = dir.write("c.csv", "user_id,item_id,timestamp\n1,2,3\n1,2,noon\n");
  EXPECT_ERROR_CONTAINS(read_interactions(ts), ts + ":3: timestamp 'noon' is not a number");
  auto quote = dir.write("d.csv", "user_id,item_id\n1,\"2\n");
  EXPECT_ERROR_CONTAINS(read_interactions(quote), quote + ":2: unterminated quoted field 2");
  auto empty_id = dir.write("e.csv", "user_id,item_id\n1,\n");
  EXPECT_ERROR_CONTAINS(read_interactions(empty_id), empty_id + ":2: empty item ID");
  auto header_only = dir.write("f.csv", "user_id,item_id\n");
  EXPECT_ERROR_CONTAINS(read_interactions(header_only), header_only + ": no interactions found");
  auto tabs = dir.write("g.csv", "user_id\titem_id\n1\t2\n");
  EXPECT_ERROR_CONTAINS(read_interactions(tabs), "is the file tab-separated?");
  ReadOptions tab;
  tab.delimiter = '\t';
  EXPECT_EQ(read_interactions(tabs, tab).size(), 1);
  ReadOptions rating;
  rating.min_rating = 3;
  EXPECT_ERROR_CONTAINS(read_interactions(count, rating), count + ":1: min_rating is set but there is no column named 'rating'");
}

TEST(Interactions, Jsonl) {
  TempDir dir;
  auto path = dir.write("log.jsonl", "{\"user_id\": \"a\", \"item_id\": 7, \"timestamp\": 20}\n\n{\"user_id\": \"a\", \"item_id\": \"x\", \"timestamp\": 10}\n");
  auto raw = read_interactions(path);
  EXPECT_EQ(raw.format, InteractionFormat::kJsonl);
  EXPECT_EQ(pairs(raw), (std::vector<std::string>{"a:7", "a:x"}));
  EXPECT_EQ(raw.timestamps, (std::vector<std::int64_t>{20, 10}));

  auto bad = dir.write("bad.jsonl", "{\"user_id\": 1, \"item_id\": 2}\n{\"user_id\": 1,\n");
  EXPECT_ERROR_CONTAINS(read_interactions(bad), bad + ":2: invalid JSON");
  auto key = dir.write("key.jsonl", "{\"user_id\": 1, \"item\": 2}\n");
  EXPECT_ERROR_CONTAINS(read_interactions(key), key + ":1: no key 'item_id'");
  auto ts = dir.write("ts.jsonl", "{\"user_id\": 1, \"item_id\": 2, \"timestamp\": 1}\n{\"user_id\": 1, \"item_id\": 2, \"timestamp\": \"later\"}\n");
  EXPECT_ERROR_CONTAINS(read_interactions(ts), ts + ":2: 'timestamp' is not a number");
}

TEST(Interactions, EmptyFileAndOnlyBlankLines) {
  TempDir dir;
  auto empty = dir.write("empty.txt", "");
  EXPECT_ERROR_CONTAINS(read_interactions(empty), empty + ": file is empty");
  auto blank = dir.write("blank.txt", "\n \n");
  EXPECT_ERROR_CONTAINS(read_interactions(blank), blank + ": no interactions found");
  auto empty_csv = dir.write("empty.csv", "");
  EXPECT_ERROR_CONTAINS(read_interactions(empty_csv), empty_csv + ": file is empty");
}

TEST(Interactions, BadGzip) {
  TempDir dir;
  auto fake = dir.write("seq.txt.gz", "1 2 3\n");
  EXPECT_ERROR_CONTAINS(read_interactions(fake), fake + ": not a valid gzip file");
}

TEST(Interactions, FormatDetection) {
  TempDir dir;
  EXPECT_EQ(detect_interaction_format(dir.write("x.dat", "1::2::3::4\n")), InteractionFormat::kMovieLens);
  EXPECT_EQ(detect_interaction_format(dir.write("ratings.txt", "1::2::3::4\n")), InteractionFormat::kMovieLens);
  EXPECT_EQ(detect_interaction_format(dir.write("u.data", "1\t2\t3\t4\n")), InteractionFormat::kMovieLens);
  EXPECT_EQ(detect_interaction_format(dir.write("x.csv", "a,b\n")), InteractionFormat::kCsv);
  EXPECT_EQ(detect_interaction_format(dir.write_gz("x.tsv.gz", "a\tb\n")), InteractionFormat::kCsv);
  EXPECT_EQ(detect_interaction_format(dir.write("x.jsonl", "{}\n")), InteractionFormat::kJsonl);
  EXPECT_EQ(detect_interaction_format(dir.write("Beauty.txt", "1 2 3\n")), InteractionFormat::kSequences);
  EXPECT_EQ(detect_interaction_format(dir.write_gz("s.txt.gz", "1 2 3\n")), InteractionFormat::kSequences);
  EXPECT_EQ(parse_interaction_format("movielens"), InteractionFormat::kMovieLens);
  EXPECT_ERROR_CONTAINS(parse_interaction_format("xml"), "unknown interaction format 'xml'");
}

TEST(Interactions, MinRatingNeedsRatings) {
  TempDir dir;
  ReadOptions options;
  options.min_rating = 4;
  auto path = dir.write("seq.txt", "1 2 3\n");
  EXPECT_ERROR_CONTAINS(read_interactions(path, options), path + ": min_rating is set but the sequences format has no ratings");
}

}  // namespace
}  // namespace tessera::data
