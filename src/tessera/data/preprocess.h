#pragma once
// Turns an interaction log (interactions.h) and optional item metadata (metadata.h) into a
// Dataset: per-user time ordering, k-core and minimum-length filtering, dense re-mapping.
//
// Steps, in order:
//   1. group interactions by user; within a user sort by timestamp, stable (ties keep file
//      order); without timestamps the file order is the time order;
//   2. filter: drop users with fewer than max(kcore, min_seq_len) interactions and items with
//      fewer than kcore, repeating until nothing changes (k-core; kcore = 0 means no item
//      filter and a single user pass);
//   3. re-map: users 0..U-1 in order of first appearance in the file; items 1..N sorted by
//      original ID as a number when every item ID is a non-negative integer (so data with
//      1-based contiguous IDs, like Beauty, keeps its IDs), else in order of first appearance;
//   4. attach metadata by original item ID (items without an entry get an empty ItemMetadata).

#include <cstdint>
#include <string>

#include "tessera/data/dataset.h"
#include "tessera/data/interactions.h"
#include "tessera/data/metadata.h"

namespace tessera::data {

struct PrepareOptions {
  std::string input;              // interaction file
  ReadOptions read;               // format, column names, min_rating
  std::string metadata;           // item metadata file; empty = none
  MetadataFormat metadata_format = MetadataFormat::kAuto;
  std::int32_t kcore = 0;         // every user and item keeps >= kcore interactions; 0 = off
  std::int32_t min_seq_len = 3;   // users with fewer interactions are dropped (3 = leave-last-out minimum)
  std::string name;               // dataset name; empty = derived from the input file name
};

// What prepare did, for the report printed by `tessera prepare`.
struct PrepareReport {
  std::string format;                     // interaction format read
  std::int64_t raw_interactions = 0;      // interactions read (after min_rating)
  std::int64_t raw_users = 0;
  std::int64_t raw_items = 0;
  std::int64_t dropped_by_rating = 0;
  std::int32_t filter_rounds = 0;         // passes of step 2
  std::int64_t items_with_metadata = 0;   // items of the dataset found in the metadata file
  std::int64_t metadata_entries = 0;      // entries in the metadata file
};

// Steps 1-3 on already-read interactions. The result has no metadata and name "".
// Throws tessera::Error if nothing is left after filtering.
Dataset dataset_from_interactions(const RawInteractions& raw, std::int32_t kcore, std::int32_t min_seq_len,
                                  PrepareReport* report = nullptr);

// Step 4: sets dataset.item_metadata from `metadata` (keyed by original item ID). Returns how
// many of the dataset's items had an entry.
std::int64_t attach_metadata(Dataset& dataset, const MetadataMap& metadata);

// Reads options.input (and options.metadata), runs steps 1-4, names the dataset. Throws
// tessera::Error naming the file and line for malformed input. Writes nothing.
Dataset prepare_dataset(const PrepareOptions& options, PrepareReport* report = nullptr);

// "beauty" for ".../Beauty.txt", "ml-1m" for ".../ml-1m_sequences.txt.gz", "ml-100k" for
// ".../ml-100k/u.data" (a generic file name like u.data or ratings.dat is replaced by its
// folder's name), lower-cased.
std::string dataset_name_from_path(const std::string& path);

}  // namespace tessera::data
