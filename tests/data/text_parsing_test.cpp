// Tests of the small text helpers the data readers share.
#include "tessera/data/text_parsing.h"

#include <gtest/gtest.h>

namespace tessera::data {
namespace {

TEST(TextParsing, SplitOnKeepsEmptyFields) {
  std::vector<std::string_view> f;
  split_on("1::Toy Story (1995)::Animation|Comedy", "::", f);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[1], "Toy Story (1995)");
  split_on("a\t\tb\t", "\t", f);
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[1], "");
  EXPECT_EQ(f[3], "");
}

TEST(TextParsing, SplitWhitespaceSkipsRuns) {
  std::vector<std::string_view> f;
  split_whitespace("  1 2\t\t3  ", f);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[2], "3");
  split_whitespace("   ", f);
  EXPECT_TRUE(f.empty());
}

TEST(TextParsing, SplitQuoted) {
  std::vector<std::string> f;
  std::string error;
  ASSERT_TRUE(split_quoted(R"(1,"Hello, ""world""",x,)", ',', f, &error));
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[1], "Hello, \"world\"");
  EXPECT_EQ(f[2], "x");
  EXPECT_EQ(f[3], "");
  EXPECT_FALSE(split_quoted(R"(1,"open)", ',', f, &error));
  EXPECT_NE(error.find("unterminated"), std::string::npos);
  EXPECT_FALSE(split_quoted(R"("a"b,c)", ',', f, &error));
}

TEST(TextParsing, Numbers) {
  EXPECT_EQ(parse_int(" 42 "), 42);
  EXPECT_EQ(parse_int("-7"), -7);
  EXPECT_FALSE(parse_int("4x"));
  EXPECT_FALSE(parse_int(""));
  EXPECT_FALSE(parse_int("1.5"));
  EXPECT_DOUBLE_EQ(*parse_double("3.5"), 3.5);
  EXPECT_FALSE(parse_double("abc"));
}

TEST(TextParsing, Latin1BecomesUtf8) {
  EXPECT_EQ(to_utf8("plain"), "plain");
  EXPECT_EQ(to_utf8("Cit\xE9"), "Cit\xC3\xA9");       // Latin-1 é
  EXPECT_EQ(to_utf8("Cit\xC3\xA9"), "Cit\xC3\xA9");   // already UTF-8
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));            // overlong
  EXPECT_FALSE(is_valid_utf8("\xE9t\xE9"));
}

TEST(TextParsing, YearFromTitle) {
  EXPECT_EQ(year_from_title("Toy Story (1995)"), 1995);
  EXPECT_EQ(year_from_title("City of Lost Children, The (Cit\xC3\xA9 des enfants perdus, La) (1995) "), 1995);
  EXPECT_EQ(year_from_title("unknown"), 0);
  EXPECT_EQ(year_from_title("Brazil (abcd)"), 0);
}

TEST(TextParsing, FileNames) {
  EXPECT_EQ(lower_file_name("/a/b/Beauty_Item2Attributes.JSON"), "beauty_item2attributes.json");
  EXPECT_EQ(strip_gz("x.txt.gz"), "x.txt");
  EXPECT_EQ(strip_gz("x.txt"), "x.txt");
}

}  // namespace
}  // namespace tessera::data
