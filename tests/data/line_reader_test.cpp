// Tests of LineReader: line splitting, transparent gzip, and its error messages.
#include "tessera/data/line_reader.h"

#include <gtest/gtest.h>

#include "data/test_files.h"

namespace tessera::data {
namespace {

using testing::TempDir;

std::vector<std::string> read_all(const std::string& path) {
  LineReader reader(path);
  std::vector<std::string> lines;
  std::string_view line;
  while (reader.next(line)) {
    lines.emplace_back(line);
    EXPECT_EQ(reader.line_number(), lines.size());
  }
  return lines;
}

TEST(LineReader, PlainTextWithCrlfAndNoFinalNewline) {
  TempDir dir;
  auto lines = read_all(dir.write("a.txt", "\xEF\xBB\xBFone\r\ntwo\n\nlast"));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "one");  // byte-order mark dropped
  EXPECT_EQ(lines[1], "two");
  EXPECT_EQ(lines[2], "");
  EXPECT_EQ(lines[3], "last");
}

TEST(LineReader, GzipIsReadTransparently) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 100000; ++i) text += std::to_string(i) + " x y z\n";
  auto lines = read_all(dir.write_gz("big.txt.gz", text));
  ASSERT_EQ(lines.size(), 100000u);
  EXPECT_EQ(lines[99999], "99999 x y z");
  // gzip content under a plain name works too
  EXPECT_EQ(read_all(dir.write_gz("hidden.txt", "a\nb\n")).size(), 2u);
}

TEST(LineReader, LinesLongerThanTheBuffer) {
  TempDir dir;
  std::string longline(3 << 20, 'x');
  auto lines = read_all(dir.write("long.txt", "a\n" + longline + "\nb\n"));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1].size(), longline.size());
  EXPECT_EQ(lines[2], "b");
}

TEST(LineReader, EmptyFile) {
  TempDir dir;
  auto path = dir.write("empty.txt", "");
  EXPECT_ERROR_CONTAINS(LineReader{path}, path + ": file is empty");
  auto gz = dir.write_gz("empty.txt.gz", "");
  EXPECT_ERROR_CONTAINS(read_all(gz), gz + ": file is empty");
}

TEST(LineReader, MissingFile) {
  EXPECT_ERROR_CONTAINS(LineReader{"/nonexistent/x.txt"}, "/nonexistent/x.txt: cannot open");
}

TEST(LineReader, GzNameWithoutGzipData) {
  TempDir dir;
  auto path = dir.write("plain.txt.gz", "1 2 3\n");
  EXPECT_ERROR_CONTAINS(LineReader{path}, path + ": not a valid gzip file");
}

TEST(LineReader, CorruptedGzipNamesTheLine) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 200000; ++i) text += std::to_string(i * 7919 % 100003) + " " + std::to_string(i) + "\n";
  auto path = dir.write_gz("bad.txt.gz", text);
  std::string bytes = read_file(path);
  for (std::size_t i = bytes.size() / 2; i < bytes.size() / 2 + 64; ++i) bytes[i] = static_cast<char>(bytes[i] ^ 0x5A);
  dir.write("bad.txt.gz", bytes);
  std::string message = testing::error_of([&] { read_all(path); });
  EXPECT_NE(message.find(path + ":"), std::string::npos) << message;
  EXPECT_NE(message.find(": gzip stream corrupted"), std::string::npos) << message;
  // the line number is a positive integer after "path:"
  auto rest = message.substr(path.size() + 1);
  EXPECT_GT(std::stoll(rest), 1) << message;
}

TEST(LineReader, TruncatedGzip) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 50000; ++i) text += std::to_string(i) + " 1 2 3\n";
  auto path = dir.write_gz("cut.txt.gz", text);
  std::string bytes = read_file(path);
  dir.write("cut.txt.gz", bytes.substr(0, bytes.size() / 2));
  EXPECT_ERROR_CONTAINS(read_all(path), "gzip stream corrupted");
}

}  // namespace
}  // namespace tessera::data
