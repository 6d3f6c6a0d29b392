// Tests of the item metadata readers and their error messages.
#include "tessera/data/metadata.h"

#include <gtest/gtest.h>

#include "data/test_files.h"

namespace tessera::data {
namespace {

using testing::TempDir;
using Attributes = std::vector<std::string>;

TEST(Metadata, MovieLensMoviesDatLatin1) {
  TempDir dir;
  auto path = dir.write("movies.dat", "1::Toy Story (1995)::Animation|Children's|Comedy\n"
                                      "2::Cit\xE9 des enfants perdus, La (1995)::Drama\n");
  auto m = read_item_metadata(path);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m["1"].title, "Toy Story (1995)");
  EXPECT_EQ(m["1"].year, 1995);
  EXPECT_EQ(m["1"].attributes, (Attributes{"Animation", "Children's", "Comedy"}));
  EXPECT_EQ(m["2"].title, "Cit\xC3\xA9 des enfants perdus, La (1995)");
}

TEST(Metadata, MovieLensMoviesErrors) {
  TempDir dir;
  auto fields = dir.write("movies.dat", "1::Toy Story (1995)::Animation\n2::Jumanji (1995)\n");
  EXPECT_ERROR_CONTAINS(read_item_metadata(fields), fields + ":2: expected 3 fields separated by '::'");
  auto id = dir.write("m2.dat", "one::Toy Story (1995)::Animation\n");
  EXPECT_ERROR_CONTAINS(read_item_metadata(id), id + ":1: movie ID 'one' is not an integer");
  auto dup = dir.write("m3.dat", "1::A::B\n1::C::D\n");
  EXPECT_ERROR_CONTAINS(read_item_metadata(dup), dup + ":2: duplicate item ID '1'");
  auto empty = dir.write("m4.dat", "");
  EXPECT_ERROR_CONTAINS(read_item_metadata(empty), empty + ": file is empty");
}

std::string u_item_line(const std::string& id, const std::string& title, const std::string& date, int genre_on) {
  std::string line = id + "|" + title + "|" + date + "||http://x";
  for (int g = 0; g < 19; ++g) line += g == genre_on ? "|1" : "|0";
  return line + "\n";
}

TEST(Metadata, MovieLens100kItems) {
  TempDir dir;
  auto path = dir.write("u.item", u_item_line("1", "Toy Story (1995)", "01-Jan-1995", 3) + u_item_line("267", "unknown", "", 0) +
                                      u_item_line("5", "No Year", "01-Jan-1994", 18));
  auto m = read_item_metadata(path);
  EXPECT_EQ(m["1"].year, 1995);
  EXPECT_EQ(m["1"].attributes, (Attributes{"Animation"}));
  EXPECT_EQ(m["267"].year, 0);
  EXPECT_EQ(m["267"].attributes, (Attributes{"unknown"}));
  EXPECT_EQ(m["5"].year, 1994);  // from the release date
  EXPECT_EQ(m["5"].attributes, (Attributes{"Western"}));

  // Genre names from u.genre beside it.
  std::string genres;
  for (int g = 0; g < 19; ++g) genres += "G" + std::to_string(g) + "|" + std::to_string(g) + "\n";
  dir.write("u.genre", genres);
  EXPECT_EQ(read_item_metadata(path)["1"].attributes, (Attributes{"G3"}));
}

TEST(Metadata, MovieLens100kErrors) {
  TempDir dir;
  auto path = dir.write("u.item", u_item_line("1", "A (1995)", "", 1) + "2|B (1996)|x|y|z|0|1\n");
  EXPECT_ERROR_CONTAINS(read_item_metadata(path), path + ":2: expected 24 fields separated by '|'");
  std::string bad_flag = u_item_line("1", "A (1995)", "", 1);
  bad_flag.replace(bad_flag.size() - 2, 1, "x");
  auto flag = dir.write("u.item", bad_flag);
  EXPECT_ERROR_CONTAINS(read_item_metadata(flag), flag + ":1: genre flag 19 ('Western') must be 0 or 1, got 'x'");
}

TEST(Metadata, Item2AttributesWithNamesTsv) {
  TempDir dir;
  auto path = dir.write("Toy_item2attributes.json", "{\"1\": [1, 2, 2], \"2\": [3], \"3\": []}");
  dir.write("Toy_attribute_names.tsv", "s3rec_attribute_id\tname\tnum\n1\tOPI\t9\n2\tNail Polish\t3\n");
  auto m = read_item_metadata(path);
  EXPECT_EQ(m["1"].attributes, (Attributes{"OPI", "Nail Polish"}));  // duplicate dropped
  EXPECT_EQ(m["2"].attributes, (Attributes{"attr:3"}));              // no name known
  EXPECT_TRUE(m["3"].attributes.empty());
  EXPECT_EQ(m["1"].title, "");
}

TEST(Metadata, Item2AttributesNamesFromDatamaps) {
  TempDir dir;
  auto path = dir.write("Yelp_item2attributes.json", "{\"1\": [2, 1]}");
  dir.write("datamaps.json", "{\"id2attribute\": {\"1\": \"Restaurants\", \"2\": \"Greek\"}}");
  EXPECT_EQ(read_item_metadata(path)["1"].attributes, (Attributes{"Greek", "Restaurants"}));
  // P5's full vocabulary (with attributeid2num) uses other IDs: not used.
  dir.write("datamaps.json", "{\"id2attribute\": {\"1\": \"A\", \"2\": \"B\"}, \"attributeid2num\": {}}");
  EXPECT_EQ(read_item_metadata(path)["1"].attributes, (Attributes{"attr:2", "attr:1"}));
}

TEST(Metadata, Item2AttributesErrors) {
  TempDir dir;
  auto json = dir.write("X_item2attributes.json", "{\"1\": [1],\n \"2\": [2,}\n");
  EXPECT_ERROR_CONTAINS(read_item_metadata(json), json + ":2: invalid JSON");
  auto shape = dir.write("Y_item2attributes.json", "[1, 2]");
  EXPECT_ERROR_CONTAINS(read_item_metadata(shape), shape + ": expected a JSON object");
}

TEST(Metadata, ItemTsvWithHeaderAsinFallback) {
  TempDir dir;
  auto path = dir.write("Toy_item_info.tsv", "item_id\tasin\tattributes\n1\tB004756YJA\tOPI | Makeup | Nails\n2\tB0020YLEYK\t\n");
  auto m = read_item_metadata(path);
  EXPECT_EQ(m["1"].title, "B004756YJA");
  EXPECT_EQ(m["1"].attributes, (Attributes{"OPI", "Makeup", "Nails"}));
  EXPECT_TRUE(m["2"].attributes.empty());
}

TEST(Metadata, ItemTsvHeaderless) {
  TempDir dir;
  auto path = dir.write("items.tsv", "17\tItem 17 (2001)\tc3|c3.1|c3.1.2\n18\tItem 18\n");
  auto m = read_item_metadata(path);
  EXPECT_EQ(m["17"].title, "Item 17 (2001)");
  EXPECT_EQ(m["17"].year, 2001);
  EXPECT_EQ(m["17"].attributes, (Attributes{"c3", "c3.1", "c3.1.2"}));
  EXPECT_TRUE(m["18"].attributes.empty());
  auto bad = dir.write("bad.tsv", "17\tItem 17\n18\n");
  EXPECT_ERROR_CONTAINS(read_item_metadata(bad), bad + ":2: expected 2 or 3 tab-separated fields");
  auto header = dir.write("h.tsv", "item_id\ttitle\tyear\n1\tA\tnineteen\n");
  EXPECT_ERROR_CONTAINS(read_item_metadata(header), header + ":2: year 'nineteen' is not an integer");
  auto count = dir.write("c.tsv", "item_id\ttitle\n1\tA\tB\n");
  EXPECT_ERROR_CONTAINS(read_item_metadata(count), count + ":2: expected 2 tab-separated fields, got 3");
}

TEST(Metadata, FormatDetection) {
  EXPECT_EQ(detect_metadata_format("/x/movies.dat"), MetadataFormat::kMovieLensMovies);
  EXPECT_EQ(detect_metadata_format("/x/u.item"), MetadataFormat::kMovieLens100k);
  EXPECT_EQ(detect_metadata_format("/x/Beauty_item2attributes.json"), MetadataFormat::kItem2Attributes);
  EXPECT_EQ(detect_metadata_format("/x/Beauty_item_info.tsv"), MetadataFormat::kItemTsv);
  EXPECT_EQ(parse_metadata_format("item-tsv"), MetadataFormat::kItemTsv);
  EXPECT_ERROR_CONTAINS(parse_metadata_format("csv"), "unknown metadata format 'csv'");
}

}  // namespace
}  // namespace tessera::data
