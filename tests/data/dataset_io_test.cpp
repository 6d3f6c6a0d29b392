// Tests of the dataset file: round trip, validation, and clear failures for corrupted,
// truncated, foreign and newer files.
#include <gtest/gtest.h>

#include <cstring>

#include "data/test_files.h"
#include "tessera/core/binary_io.h"
#include "tessera/data/dataset.h"

namespace tessera::data {
namespace {

using testing::TempDir;

Dataset small_dataset(bool with_metadata, bool with_timestamps) {
  Dataset d;
  d.name = "tiny";
  d.num_items = 4;
  d.user_offsets = {0, 3, 3, 7};
  d.items = {1, 2, 3, 4, 3, 2, 1};
  if (with_timestamps) d.timestamps = {1, 2, 2, 10, 11, 12, 13};
  d.user_ids = {"alice", "bob", "carol"};
  d.item_ids = {"", "i1", "i2", "i3", "i4"};
  if (with_metadata) {
    d.item_metadata.resize(5);
    d.item_metadata[1] = {"Toy Story (1995)", 1995, {"Animation", "Comedy"}};
    d.item_metadata[3] = {"Cit\xC3\xA9", 0, {}};
  }
  return d;
}

void expect_equal(const Dataset& a, const Dataset& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.num_items, b.num_items);
  EXPECT_EQ(a.user_offsets, b.user_offsets);
  EXPECT_EQ(a.items, b.items);
  EXPECT_EQ(a.timestamps, b.timestamps);
  EXPECT_EQ(a.user_ids, b.user_ids);
  EXPECT_EQ(a.item_ids, b.item_ids);
  ASSERT_EQ(a.item_metadata.size(), b.item_metadata.size());
  for (std::size_t i = 0; i < a.item_metadata.size(); ++i) {
    EXPECT_EQ(a.item_metadata[i].title, b.item_metadata[i].title);
    EXPECT_EQ(a.item_metadata[i].year, b.item_metadata[i].year);
    EXPECT_EQ(a.item_metadata[i].attributes, b.item_metadata[i].attributes);
  }
}

TEST(DatasetFile, RoundTrip) {
  TempDir dir;
  for (bool metadata : {false, true}) {
    for (bool timestamps : {false, true}) {
      Dataset d = small_dataset(metadata, timestamps);
      save_dataset(d, dir.file("d.tsd"));
      expect_equal(load_dataset(dir.file("d.tsd")), d);
    }
  }
  Dataset empty;  // no users, no items
  empty.item_ids = {""};
  save_dataset(empty, dir.file("empty.tsd"));
  expect_equal(load_dataset(dir.file("empty.tsd")), empty);
}

TEST(DatasetFile, FlippedByteFailsChecksum) {
  TempDir dir;
  const auto path = dir.file("d.tsd");
  save_dataset(small_dataset(true, true), path);
  std::string bytes = read_file(path);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x01);
  dir.write("d.tsd", bytes);
  EXPECT_ERROR_CONTAINS(load_dataset(path), path + ": checksum mismatch");
}

TEST(DatasetFile, TruncatedFile) {
  TempDir dir;
  const auto path = dir.file("d.tsd");
  save_dataset(small_dataset(true, false), path);
  std::string bytes = read_file(path);
  dir.write("d.tsd", bytes.substr(0, bytes.size() - 10));
  EXPECT_ERROR_CONTAINS(load_dataset(path), path + ": truncated");
  dir.write("d.tsd", bytes.substr(0, 10));
  EXPECT_ERROR_CONTAINS(load_dataset(path), path + ": truncated");
}

TEST(DatasetFile, NewerVersionAndForeignFiles) {
  TempDir dir;
  const auto path = dir.file("d.tsd");
  save_dataset(small_dataset(false, false), path);
  std::string bytes = read_file(path);
  const std::uint32_t newer = kDatasetFormatVersion + 1;
  std::memcpy(bytes.data() + 8, &newer, sizeof(newer));
  dir.write("d.tsd", bytes);
  EXPECT_ERROR_CONTAINS(load_dataset(path), path + ": format version 2 is newer than this tessera supports");
  auto text = dir.write("x.tsd", "1 2 3\n");
  EXPECT_ERROR_CONTAINS(load_dataset(text), text + ": not a tessera 'TSRDATA' file");
  EXPECT_ERROR_CONTAINS(load_dataset(dir.file("missing.tsd")), "missing.tsd: cannot open");
}

TEST(DatasetFile, InconsistentPayloadIsRejectedOnLoad) {
  // A well-formed container whose payload breaks the Dataset invariants (item 9 > num_items).
  TempDir dir;
  BinaryWriter out;
  out.put_string("bad");
  out.put<std::int32_t>(2);
  out.put_vector(std::vector<std::int64_t>{0, 2});
  out.put_vector(std::vector<std::int32_t>{1, 9});
  out.put_vector(std::vector<std::int64_t>{});
  out.put_strings({"u"});
  out.put_strings({"", "a", "b"});
  out.put<std::uint8_t>(0);
  write_container(dir.file("bad.tsd"), "TSRDATA", kDatasetFormatVersion, out.bytes());
  EXPECT_ERROR_CONTAINS(load_dataset(dir.file("bad.tsd")), "bad.tsd: invalid dataset: item ID 9 at position 1 is outside 1..2");
}

TEST(DatasetFile, ValidateCatchesEachInvariant) {
  auto broken = [](auto&& edit) {
    Dataset d = small_dataset(true, true);
    edit(d);
    return testing::error_of([&] { validate_dataset(d, "here"); });
  };
  EXPECT_NE(broken([](Dataset& d) { d.user_offsets[1] = 8; }).find("decrease"), std::string::npos);
  EXPECT_NE(broken([](Dataset& d) { d.user_offsets.back() = 6; }).find("user_offsets end at 6"), std::string::npos);
  EXPECT_NE(broken([](Dataset& d) { d.items[0] = 0; }).find("outside 1..4"), std::string::npos);
  EXPECT_NE(broken([](Dataset& d) { d.timestamps.pop_back(); }).find("6 timestamps for 7 items"), std::string::npos);
  EXPECT_NE(broken([](Dataset& d) { d.timestamps[1] = 0; }).find("not in time order"), std::string::npos);
  EXPECT_NE(broken([](Dataset& d) { d.user_ids.pop_back(); }).find("2 user IDs for 3 users"), std::string::npos);
  EXPECT_NE(broken([](Dataset& d) { d.item_ids.pop_back(); }).find("4 item IDs"), std::string::npos);
  EXPECT_NE(broken([](Dataset& d) { d.item_ids[0] = "x"; }).find("padding"), std::string::npos);
  EXPECT_NE(broken([](Dataset& d) { d.item_metadata.pop_back(); }).find("4 metadata entries"), std::string::npos);
  EXPECT_NE(broken([](Dataset& d) { d.user_offsets[0] = 1; }).find("start with 0"), std::string::npos);
}

TEST(DatasetFile, SaveRefusesInvalidDatasetAndLeavesNoFile) {
  TempDir dir;
  Dataset d = small_dataset(false, false);
  d.items[0] = 99;
  EXPECT_ERROR_CONTAINS(save_dataset(d, dir.file("d.tsd")), "invalid dataset");
  EXPECT_FALSE(std::filesystem::exists(dir.file("d.tsd")));
  // A destination that cannot be replaced (a directory): the temporary file is cleaned up.
  std::filesystem::create_directories(dir.file("taken.tsd"));
  EXPECT_ERROR_CONTAINS(save_dataset(small_dataset(false, false), dir.file("taken.tsd")), "taken.tsd");
  int files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1);
}

}  // namespace
}  // namespace tessera::data
