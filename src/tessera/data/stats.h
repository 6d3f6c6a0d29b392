#pragma once
// Summary statistics of a Dataset: what `tessera prepare` prints and what a paper's dataset
// table reports (users, items, interactions, sequence lengths, density).

#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "tessera/data/dataset.h"

namespace tessera::data {

struct DatasetStats {
  std::string name;
  std::int64_t users = 0;
  std::int64_t items = 0;
  std::int64_t interactions = 0;
  // Sequence lengths over users (0 for an empty dataset). median: mean of the two middle values
  // for an even count; p90: nearest rank (the smallest length >= that of 90% of users).
  std::int64_t min_seq_len = 0;
  double mean_seq_len = 0;
  double median_seq_len = 0;
  std::int64_t p90_seq_len = 0;
  std::int64_t max_seq_len = 0;
  double density = 0;                  // interactions / (users * items)
  bool has_timestamps = false;
  std::int64_t items_with_metadata = 0;  // items with a title, a year or an attribute
};

DatasetStats compute_stats(const Dataset& dataset);

// Multi-line, human-readable, e.g.
//   dataset       ml-1m
//   users         6,040
//   ...
std::string format_stats(const DatasetStats& stats);

// {"name": ..., "users": ..., "items": ..., "interactions": ..., "min_seq_len": ..., ...}
// with the field names of DatasetStats.
nlohmann::json to_json(const DatasetStats& stats);

}  // namespace tessera::data
