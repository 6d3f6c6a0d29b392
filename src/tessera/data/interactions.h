#pragma once
// Readers for user-item interaction logs. Every supported format is read into one raw form,
// RawInteractions, which keeps the original user and item IDs and the order of the file;
// preprocess.h turns it into a Dataset.
//
// Formats (all may be gzip-compressed; see line_reader.h):
//   sequences  one user per line: `user item item ...` separated by spaces or tabs, items in time
//              order (Beauty.txt, Yelp.txt, ml-1m_sequences.txt.gz). No timestamps. A user on
//              several lines gets the lines' items in file order.
//   movielens  `user::item::rating::timestamp` (ratings.dat) or the same four fields separated by
//              tabs (ml-100k u.data). IDs and timestamp must be integers, rating a number.
//   csv        a header row, then one interaction per row; the user, item, and optional
//              timestamp and rating columns are chosen by name. Delimiter ',' for *.csv, tab
//              for *.tsv and *.txt, or given. Simple "quoted" fields are supported.
//   jsonl      one JSON object per line with the same named keys (values: strings or numbers).
// Every malformed input is reported as tessera::Error "<file>:<line>: <what is wrong>".

#include <cstdint>
#include <string>
#include <vector>

namespace tessera::data {

enum class InteractionFormat { kAuto, kSequences, kMovieLens, kCsv, kJsonl };

// "auto", "sequences", "movielens", "csv", "jsonl"; parse_interaction_format() throws
// tessera::Error on anything else.
std::string interaction_format_name(InteractionFormat format);
InteractionFormat parse_interaction_format(const std::string& name);

// Guesses the format of `path` from its name and first line (never returns kAuto):
// *.jsonl / *.ndjson -> jsonl; "u.data" -> movielens; *.dat whose first line contains "::" ->
// movielens; *.csv / *.tsv -> csv; any other file whose first line has exactly four
// "::"-separated fields -> movielens; everything else -> sequences. A trailing ".gz" is ignored.
InteractionFormat detect_interaction_format(const std::string& path);

struct ReadOptions {
  InteractionFormat format = InteractionFormat::kAuto;
  // csv / jsonl: column (key) names.
  std::string user_col = "user_id";
  std::string item_col = "item_id";
  std::string time_col;    // empty: use a column named "timestamp" if there is one, else no timestamps
  std::string rating_col;  // empty: use a column named "rating" if there is one
  char delimiter = 0;      // csv: 0 = from the file extension (',' for .csv, tab otherwise)
  // Keep only interactions with rating >= min_rating. 0 keeps everything; a positive value
  // needs a format with ratings (movielens, or csv/jsonl with a rating column).
  double min_rating = 0;
};

// Interactions as read, in file order (position i = the i-th interaction read), before any
// filtering or re-mapping. Users and items get raw indices in order of first appearance.
struct RawInteractions {
  std::vector<std::string> user_ids;     // original ID of raw user index u
  std::vector<std::string> item_ids;     // original ID of raw item index i
  std::vector<std::int32_t> users;       // raw user index of each interaction
  std::vector<std::int32_t> items;       // raw item index of each interaction, same size
  std::vector<std::int64_t> timestamps;  // same size as items, or empty if the source has none
  std::int64_t dropped_by_rating = 0;    // interactions skipped because rating < min_rating
  InteractionFormat format = InteractionFormat::kAuto;  // the format actually read

  std::int64_t size() const { return static_cast<std::int64_t>(items.size()); }
  bool has_timestamps() const { return !timestamps.empty(); }
};

// Reads `path` in options.format (detected if kAuto). Throws tessera::Error "<path>:<line>: ..."
// for malformed lines, "<path>: file is empty" for an empty file, "<path>: no interactions
// found" if nothing was read, and on bad gzip data. Prints progress for large files.
RawInteractions read_interactions(const std::string& path, const ReadOptions& options = {});

}  // namespace tessera::data
