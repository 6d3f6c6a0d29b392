#include "tessera/data/dataset.h"

#include <fmt/format.h>

#include "tessera/core/binary_io.h"
#include "tessera/core/error.h"

namespace tessera::data {

namespace {

constexpr const char* kDatasetMagic = "TSRDATA";

// Payload layout, version 1 (all through BinaryWriter, little-endian):
//   name                 string
//   num_items            i32
//   user_offsets         vector<i64>
//   items                vector<i32>
//   timestamps           vector<i64>
//   user_ids             strings
//   item_ids             strings
//   has_metadata         u8 (0/1); if 1, for each of the num_items + 1 items:
//     title string, year i32, attributes strings

void write_metadata(BinaryWriter& out, const std::vector<ItemMetadata>& metadata) {
  out.put<std::uint8_t>(metadata.empty() ? 0 : 1);
  for (const auto& m : metadata) {
    out.put_string(m.title);
    out.put<std::int32_t>(m.year);
    out.put_strings(m.attributes);
  }
}

std::vector<ItemMetadata> read_metadata(BinaryReader& in, std::int32_t num_items) {
  auto flag = in.get<std::uint8_t>("has_metadata");
  if (flag > 1) throw Error::at(in.path(), 0, "corrupt field 'has_metadata'");
  std::vector<ItemMetadata> metadata;
  if (flag == 0) return metadata;
  metadata.resize(static_cast<std::size_t>(num_items) + 1);
  for (auto& m : metadata) {
    m.title = in.get_string("item title");
    m.year = in.get<std::int32_t>("item year");
    m.attributes = in.get_strings("item attributes");
  }
  return metadata;
}

}  // namespace

void validate_dataset(const Dataset& d, const std::string& where) {
  auto fail = [&](const std::string& what) { return Error::at(where, 0, "invalid dataset: " + what); };
  if (d.num_items < 0) throw fail(fmt::format("num_items is {}", d.num_items));
  if (d.user_offsets.empty() || d.user_offsets.front() != 0) throw fail("user_offsets must start with 0");
  const auto num_users = d.num_users();
  for (std::int64_t u = 0; u < num_users; ++u) {
    if (d.user_offsets[u + 1] < d.user_offsets[u]) throw fail(fmt::format("user_offsets decrease at user {}", u));
  }
  if (d.user_offsets.back() != d.num_interactions()) {
    throw fail(fmt::format("user_offsets end at {} but there are {} items", d.user_offsets.back(), d.num_interactions()));
  }
  for (std::size_t i = 0; i < d.items.size(); ++i) {
    if (d.items[i] < 1 || d.items[i] > d.num_items) {
      throw fail(fmt::format("item ID {} at position {} is outside 1..{}", d.items[i], i, d.num_items));
    }
  }
  if (!d.timestamps.empty()) {
    if (d.timestamps.size() != d.items.size()) {
      throw fail(fmt::format("{} timestamps for {} items", d.timestamps.size(), d.items.size()));
    }
    for (std::int64_t u = 0; u < num_users; ++u) {
      for (auto i = d.user_offsets[u] + 1; i < d.user_offsets[u + 1]; ++i) {
        if (d.timestamps[i] < d.timestamps[i - 1]) throw fail(fmt::format("timestamps of user {} are not in time order", u));
      }
    }
  }
  if (static_cast<std::int64_t>(d.user_ids.size()) != num_users) {
    throw fail(fmt::format("{} user IDs for {} users", d.user_ids.size(), num_users));
  }
  const auto expected_items = static_cast<std::size_t>(d.num_items) + 1;
  if (d.item_ids.size() != expected_items) {
    throw fail(fmt::format("{} item IDs, expected num_items + 1 = {}", d.item_ids.size(), expected_items));
  }
  if (!d.item_ids[0].empty()) throw fail("item_ids[0] (padding) must be empty");
  if (!d.item_metadata.empty() && d.item_metadata.size() != expected_items) {
    throw fail(fmt::format("{} metadata entries, expected num_items + 1 = {}", d.item_metadata.size(), expected_items));
  }
}

void save_dataset(const Dataset& dataset, const std::string& path) {
  validate_dataset(dataset, path);
  BinaryWriter out;
  out.put_string(dataset.name);
  out.put<std::int32_t>(dataset.num_items);
  out.put_vector(dataset.user_offsets);
  out.put_vector(dataset.items);
  out.put_vector(dataset.timestamps);
  out.put_strings(dataset.user_ids);
  out.put_strings(dataset.item_ids);
  write_metadata(out, dataset.item_metadata);
  write_container(path, kDatasetMagic, kDatasetFormatVersion, out.bytes());
}

Dataset load_dataset(const std::string& path) {
  const std::string payload = read_container(path, kDatasetMagic, kDatasetFormatVersion);
  BinaryReader in(payload, path);
  Dataset d;
  d.name = in.get_string("name");
  d.num_items = in.get<std::int32_t>("num_items");
  if (d.num_items < 0) throw Error::at(path, 0, "corrupt field 'num_items'");
  d.user_offsets = in.get_vector<std::int64_t>("user_offsets");
  d.items = in.get_vector<std::int32_t>("items");
  d.timestamps = in.get_vector<std::int64_t>("timestamps");
  d.user_ids = in.get_strings("user_ids");
  d.item_ids = in.get_strings("item_ids");
  d.item_metadata = read_metadata(in, d.num_items);
  if (!in.at_end()) throw Error::at(path, 0, "unexpected bytes after the dataset payload");
  validate_dataset(d, path);
  return d;
}

}  // namespace tessera::data
