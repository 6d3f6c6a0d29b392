#pragma once
// The in-memory form of a prepared interaction dataset, and its binary file.
//
// A Dataset is a set of users, each with one sequence of item interactions in time order.
// Items are re-mapped to dense IDs 1..num_items; 0 is reserved for padding everywhere in tessera.
// Users are re-mapped to dense IDs 0..num_users-1. The original IDs are kept so results can be
// shown with them. Sequences are stored CSR-style: user u's items are
// items[user_offsets[u] .. user_offsets[u+1]).
//
// A Dataset is a plain value: safe to read from many threads, not to modify concurrently.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tessera::data {

// What we know about one item besides its ID, for display and later content features.
struct ItemMetadata {
  std::string title;                    // human-readable name ("Toy Story (1995)"), may be empty
  std::int32_t year = 0;                // release year, 0 if unknown
  std::vector<std::string> attributes;  // genres, brand, category path entries, ... (may be empty)
};

struct Dataset {
  std::string name;                          // e.g. "ml-1m", "beauty", "synthetic"
  std::int32_t num_items = 0;                // items are 1..num_items
  std::vector<std::int64_t> user_offsets{0};  // size num_users + 1, user_offsets[0] == 0
  std::vector<std::int32_t> items;           // all sequences, concatenated, each in time order
  std::vector<std::int64_t> timestamps;      // seconds, same size as items; empty if the source has none
  std::vector<std::string> user_ids;         // original ID of each internal user, size num_users
  std::vector<std::string> item_ids;         // original ID of each internal item, size num_items + 1, [0] = ""
  std::vector<ItemMetadata> item_metadata;   // size num_items + 1 ([0] empty), or empty if none was given

  std::int64_t num_users() const { return static_cast<std::int64_t>(user_offsets.size()) - 1; }
  std::int64_t num_interactions() const { return static_cast<std::int64_t>(items.size()); }
  std::span<const std::int32_t> sequence(std::int64_t user) const {
    return {items.data() + user_offsets[user], static_cast<std::size_t>(user_offsets[user + 1] - user_offsets[user])};
  }
  bool has_timestamps() const { return !timestamps.empty(); }
  // The timestamps of sequence(user); empty if the dataset has none.
  std::span<const std::int64_t> sequence_timestamps(std::int64_t user) const {
    if (timestamps.empty()) return {};
    return {timestamps.data() + user_offsets[user], static_cast<std::size_t>(user_offsets[user + 1] - user_offsets[user])};
  }
  bool has_metadata() const { return !item_metadata.empty(); }
};

// Current version of the dataset file format (bump when the payload layout changes).
inline constexpr std::uint32_t kDatasetFormatVersion = 1;

// Writes the dataset to `path` (tessera binary container, magic "TSRDATA", checksummed, written
// atomically). Throws tessera::Error on I/O failure.
void save_dataset(const Dataset& dataset, const std::string& path);

// Loads a file written by save_dataset(). Throws tessera::Error naming the file when it is
// missing, not a dataset, from a newer tessera, truncated, corrupted, or internally inconsistent.
Dataset load_dataset(const std::string& path);

// Checks every invariant stated above (offsets start at 0, never decrease and end at
// items.size(); item IDs in 1..num_items; timestamps empty or one per item and non-decreasing
// within each user; user_ids, item_ids and item_metadata sized as documented). Throws
// tessera::Error "<where>: <what is wrong>" on the first violation. save_dataset() and
// load_dataset() call it, with the file path as `where`.
void validate_dataset(const Dataset& dataset, const std::string& where);

}  // namespace tessera::data
