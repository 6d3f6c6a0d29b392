#include <gtest/gtest.h>

#include "test_util.h"

#include <filesystem>
#include <fstream>

#include "tessera/core/atomic_file.h"
#include "tessera/core/binary_io.h"
#include "tessera/core/error.h"
#include "tessera/core/progress.h"

namespace tessera {
namespace {

namespace fs = std::filesystem;

std::string temp_path(const std::string& name) { return testing::temp_path("core", name); }
using testing::message_of;

TEST(Error, NamesFileAndLine) {
  EXPECT_STREQ(Error::at("data/ratings.csv", 1432, "expected 4 columns, got 3").what(),
               "data/ratings.csv:1432: expected 4 columns, got 3");
  EXPECT_STREQ(Error::at("x.tsd", 0, "truncated").what(), "x.tsd: truncated");
}

TEST(AtomicFile, FailedWriteLeavesNeitherTargetNorTemporary) {
  const auto dir = temp_path("atomic");
  fs::create_directories(dir);
  const auto target = dir + "/out.txt";
  EXPECT_THROW(write_file_atomically(target, [](std::ostream& out) {
                 out << "half";
                 throw Error("writer failed");
               }),
               Error);
  EXPECT_FALSE(fs::exists(target));
  EXPECT_TRUE(fs::is_empty(dir)) << "temporary file left behind";
  write_text_atomically(target, "whole");
  EXPECT_EQ(read_file(target), "whole");
  fs::remove_all(dir);
}

TEST(BinaryContainer, RoundTripAndEveryKindOfDamage) {
  const auto path = temp_path("container.bin");
  BinaryWriter w;
  w.put<std::int32_t>(7);
  w.put_string("hello");
  w.put_vector(std::vector<double>{1.5, 2.5});
  write_container(path, "TSRTEST", 2, w.bytes());

  std::uint32_t version = 0;
  auto payload = read_container(path, "TSRTEST", 2, &version);
  EXPECT_EQ(version, 2u);
  BinaryReader r(payload, path);
  EXPECT_EQ(r.get<std::int32_t>("a"), 7);
  EXPECT_EQ(r.get_string("b"), "hello");
  EXPECT_EQ(r.get_vector<double>("c"), (std::vector<double>{1.5, 2.5}));
  EXPECT_TRUE(r.at_end());
  EXPECT_NE(message_of([&] { r.get<std::int32_t>("past_end"); }).find("truncated field 'past_end'"), std::string::npos);

  EXPECT_NE(message_of([&] { read_container(path, "TSROTHER", 2); }).find("wrong magic"), std::string::npos);
  EXPECT_NE(message_of([&] { read_container(path, "TSRTEST", 1); }).find("newer"), std::string::npos);

  const std::string bytes = read_file(path);
  auto damaged = bytes;
  damaged[damaged.size() / 2] ^= 0x01;
  write_text_atomically(path, damaged);
  EXPECT_NE(message_of([&] { read_container(path, "TSRTEST", 2); }).find(path + ": checksum mismatch"), std::string::npos);
  write_text_atomically(path, bytes.substr(0, bytes.size() - 3));
  EXPECT_NE(message_of([&] { read_container(path, "TSRTEST", 2); }).find("truncated"), std::string::npos);
  write_text_atomically(path, bytes.substr(0, 10));
  EXPECT_NE(message_of([&] { read_container(path, "TSRTEST", 2); }).find("truncated header"), std::string::npos);
  fs::remove(path);
  EXPECT_NE(message_of([&] { read_container(path, "TSRTEST", 2); }).find("cannot open"), std::string::npos);
}

TEST(Progress, FormatsDurations) {
  EXPECT_EQ(format_duration(0), "00:00:00");
  EXPECT_EQ(format_duration(3725.4), "01:02:05");
}

}  // namespace
}  // namespace tessera
