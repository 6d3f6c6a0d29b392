#include "tessera/data/interactions.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string_view>
#include <unordered_map>

#include "tessera/core/error.h"
#include "tessera/core/progress.h"
#include "tessera/data/line_reader.h"
#include "tessera/data/text_parsing.h"

namespace tessera::data {

namespace {

// Maps ID strings to dense indices in order of first appearance, without allocating a string
// per lookup.
class IdIndex {
 public:
  explicit IdIndex(std::vector<std::string>& ids) : ids_(ids) {}
  std::int32_t get(std::string_view id) {
    auto it = index_.find(id);
    if (it != index_.end()) return it->second;
    auto next = static_cast<std::int32_t>(ids_.size());
    ids_.emplace_back(id);
    index_.emplace(ids_.back(), next);
    return next;
  }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<std::string>& ids_;
  std::unordered_map<std::string, std::int32_t, Hash, std::equal_to<>> index_;
};

// Collects interactions into a RawInteractions.
class RawBuilder {
 public:
  RawBuilder() : users_(raw_.user_ids), items_(raw_.item_ids) {}
  std::int32_t user(std::string_view id) { return users_.get(id); }
  void add(std::int32_t user, std::string_view item) {
    raw_.users.push_back(user);
    raw_.items.push_back(items_.get(item));
  }
  void add(std::int32_t user, std::string_view item, std::int64_t timestamp) {
    add(user, item);
    raw_.timestamps.push_back(timestamp);
  }
  void drop_by_rating() { ++raw_.dropped_by_rating; }
  RawInteractions take() { return std::move(raw_); }

 private:
  RawInteractions raw_;
  IdIndex users_;
  IdIndex items_;
};

// Reports reading progress every few thousand lines (in KiB of the file on disk).
class ReadProgress {
 public:
  explicit ReadProgress(const LineReader& reader)
      : reader_(reader), progress_("read " + lower_file_name(reader.path()), reader.file_size() / 1024, "KiB") {}
  void tick() {
    if (reader_.line_number() % 16384 != 0) return;
    auto now = reader_.bytes_read() / 1024;
    progress_.advance(now - reported_);
    reported_ = now;
  }
  void finish(std::int64_t interactions) {
    progress_.advance(reader_.file_size() / 1024 - reported_);
    progress_.finish(fmt::format("{} interactions", interactions));
  }

 private:
  const LineReader& reader_;
  Progress progress_;
  std::int64_t reported_ = 0;
};

bool is_blank(std::string_view line) { return trim(line).empty(); }

std::string describe_delimiter(std::string_view delimiter) {
  if (delimiter == "\t") return "tabs";
  return fmt::format("'{}'", delimiter);
}

void check_not_empty(const LineReader& reader, std::string_view value, const char* what) {
  if (trim(value).empty()) throw reader.error(fmt::format("empty {}", what));
}

std::int64_t parse_timestamp(const LineReader& reader, std::string_view value) {
  if (auto t = parse_int(value)) return *t;
  if (auto t = parse_double(value)) return static_cast<std::int64_t>(*t);
  throw reader.error(fmt::format("timestamp '{}' is not a number", trim(value)));
}

double parse_rating(const LineReader& reader, std::string_view value) {
  if (auto r = parse_double(value)) return *r;
  throw reader.error(fmt::format("rating '{}' is not a number", trim(value)));
}

void read_sequences(LineReader& reader, RawBuilder& out, ReadProgress& progress) {
  std::vector<std::string_view> fields;
  std::string_view line;
  while (reader.next(line)) {
    progress.tick();
    split_whitespace(line, fields);
    if (fields.empty()) continue;
    std::int32_t user = out.user(fields[0]);
    for (std::size_t i = 1; i < fields.size(); ++i) out.add(user, fields[i]);
  }
}

void read_movielens(LineReader& reader, RawBuilder& out, ReadProgress& progress, double min_rating) {
  std::vector<std::string_view> fields;
  std::string_view line;
  std::string delimiter;  // decided by the first data line: "::" (ratings.dat) or tab (u.data)
  while (reader.next(line)) {
    progress.tick();
    if (is_blank(line)) continue;
    if (delimiter.empty()) delimiter = line.find("::") != std::string_view::npos ? "::" : "\t";
    split_on(line, delimiter, fields);
    if (fields.size() != 4) {
      throw reader.error(fmt::format("expected 4 fields separated by {} (user, item, rating, timestamp), got {}",
                                     describe_delimiter(delimiter), fields.size()));
    }
    auto user = trim(fields[0]);
    auto item = trim(fields[1]);
    if (!parse_int(user)) throw reader.error(fmt::format("user ID '{}' is not an integer", user));
    if (!parse_int(item)) throw reader.error(fmt::format("item ID '{}' is not an integer", item));
    double rating = parse_rating(reader, fields[2]);
    auto timestamp = parse_int(fields[3]);
    if (!timestamp) throw reader.error(fmt::format("timestamp '{}' is not an integer", trim(fields[3])));
    if (rating < min_rating) {
      out.drop_by_rating();
      continue;
    }
    out.add(out.user(user), item, *timestamp);
  }
}

char csv_delimiter(const std::string& path, char given) {
  if (given != 0) return given;
  return ends_with(strip_gz(lower_file_name(path)), ".csv") ? ',' : '\t';
}

// Index of the column named `name`, or -1.
int find_column(const std::vector<std::string>& header, const std::string& name) {
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return static_cast<int>(i);
  }
  return -1;
}

// The column for an optional field: the one named `chosen` (which must exist), or if `chosen` is
// empty the one named `fallback` if there is one, else -1.
int optional_column(const LineReader& reader, const std::vector<std::string>& header, const std::string& chosen,
                    const char* fallback) {
  if (chosen.empty()) return find_column(header, fallback);
  int c = find_column(header, chosen);
  if (c < 0) throw reader.error(fmt::format("no column named '{}' (columns: {})", chosen, join(header, ", ")));
  return c;
}

void read_csv(LineReader& reader, RawBuilder& out, ReadProgress& progress, const ReadOptions& options) {
  const char delimiter = csv_delimiter(reader.path(), options.delimiter);
  std::vector<std::string> header;
  std::vector<std::string> fields;
  std::string error;
  std::string_view line;
  while (reader.next(line) && is_blank(line)) {
  }
  if (is_blank(line)) throw Error::at(reader.path(), 0, "file is empty (only blank lines)");
  if (!split_quoted(line, delimiter, header, &error)) throw reader.error("header: " + error);
  for (auto& name : header) name = std::string(trim(name));
  if (header.size() == 1 && delimiter != '\t' && header[0].find('\t') != std::string::npos) {
    throw reader.error(fmt::format("header has one column when split on {}; is the file tab-separated? (use --delimiter tab)",
                                   describe_delimiter(std::string(1, delimiter))));
  }
  auto required = [&](const std::string& name) {
    int c = find_column(header, name);
    if (c < 0) throw reader.error(fmt::format("no column named '{}' (columns: {})", name, join(header, ", ")));
    return c;
  };
  const int user_col = required(options.user_col);
  const int item_col = required(options.item_col);
  const int time_col = optional_column(reader, header, options.time_col, "timestamp");
  const int rating_col = optional_column(reader, header, options.rating_col, "rating");
  if (options.min_rating > 0 && rating_col < 0) {
    throw reader.error(fmt::format("min_rating is set but there is no column named 'rating' (columns: {})", join(header, ", ")));
  }
  while (reader.next(line)) {
    progress.tick();
    if (is_blank(line)) continue;
    if (!split_quoted(line, delimiter, fields, &error)) throw reader.error(error);
    if (fields.size() != header.size()) {
      throw reader.error(fmt::format("expected {} fields separated by {}, got {}", header.size(),
                                     describe_delimiter(std::string(1, delimiter)), fields.size()));
    }
    auto user = trim(fields[user_col]);
    auto item = trim(fields[item_col]);
    check_not_empty(reader, user, "user ID");
    check_not_empty(reader, item, "item ID");
    if (rating_col >= 0 && parse_rating(reader, fields[rating_col]) < options.min_rating) {
      out.drop_by_rating();
      continue;
    }
    if (time_col >= 0) {
      out.add(out.user(user), item, parse_timestamp(reader, fields[time_col]));
    } else {
      out.add(out.user(user), item);
    }
  }
}

// A JSON value used as an ID: strings as they are, integers in decimal.
std::string json_id(const LineReader& reader, const nlohmann::json& object, const std::string& key) {
  auto it = object.find(key);
  if (it == object.end()) throw reader.error(fmt::format("no key '{}' in this object", key));
  if (it->is_string()) {
    auto s = it->get<std::string>();
    if (trim(s).empty()) throw reader.error(fmt::format("empty value for key '{}'", key));
    return s;
  }
  if (it->is_number_integer()) return it->dump();
  throw reader.error(fmt::format("key '{}' must be a string or an integer, got {}", key, it->dump()));
}

double json_number(const LineReader& reader, const nlohmann::json& object, const std::string& key) {
  auto it = object.find(key);
  if (it == object.end()) throw reader.error(fmt::format("no key '{}' in this object", key));
  if (it->is_number()) return it->get<double>();
  if (it->is_string()) {
    if (auto v = parse_double(it->get<std::string>())) return *v;
  }
  throw reader.error(fmt::format("'{}' is not a number: {}", key, it->dump()));
}

void read_jsonl(LineReader& reader, RawBuilder& out, ReadProgress& progress, const ReadOptions& options) {
  std::string_view line;
  bool first = true;
  std::string time_key = options.time_col;
  std::string rating_key = options.rating_col;
  while (reader.next(line)) {
    progress.tick();
    if (is_blank(line)) continue;
    nlohmann::json object;
    try {
      object = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      throw reader.error(std::string("invalid JSON: ") + e.what());
    }
    if (!object.is_object()) throw reader.error("expected a JSON object");
    if (first) {  // optional keys are used if the first record has them
      if (time_key.empty() && object.contains("timestamp")) time_key = "timestamp";
      if (rating_key.empty() && object.contains("rating")) rating_key = "rating";
      if (options.min_rating > 0 && rating_key.empty()) throw reader.error("min_rating is set but the records have no key 'rating'");
      first = false;
    }
    auto user = json_id(reader, object, options.user_col);
    auto item = json_id(reader, object, options.item_col);
    if (!rating_key.empty() && json_number(reader, object, rating_key) < options.min_rating) {
      out.drop_by_rating();
      continue;
    }
    if (!time_key.empty()) {
      out.add(out.user(user), item, static_cast<std::int64_t>(json_number(reader, object, time_key)));
    } else {
      out.add(out.user(user), item);
    }
  }
}

}  // namespace

std::string interaction_format_name(InteractionFormat format) {
  switch (format) {
    case InteractionFormat::kAuto: return "auto";
    case InteractionFormat::kSequences: return "sequences";
    case InteractionFormat::kMovieLens: return "movielens";
    case InteractionFormat::kCsv: return "csv";
    case InteractionFormat::kJsonl: return "jsonl";
  }
  return "?";
}

InteractionFormat parse_interaction_format(const std::string& name) {
  for (auto f : {InteractionFormat::kAuto, InteractionFormat::kSequences, InteractionFormat::kMovieLens, InteractionFormat::kCsv,
                 InteractionFormat::kJsonl}) {
    if (interaction_format_name(f) == name) return f;
  }
  if (name == "tsv") return InteractionFormat::kCsv;
  throw Error("unknown interaction format '" + name + "' (expected auto, sequences, movielens, csv or jsonl)");
}

InteractionFormat detect_interaction_format(const std::string& path) {
  const std::string name = strip_gz(lower_file_name(path));
  if (ends_with(name, ".jsonl") || ends_with(name, ".ndjson")) return InteractionFormat::kJsonl;
  if (name == "u.data") return InteractionFormat::kMovieLens;
  if (ends_with(name, ".csv") || ends_with(name, ".tsv")) return InteractionFormat::kCsv;
  LineReader reader(path);
  std::string_view line;
  while (reader.next(line) && is_blank(line)) {
  }
  std::vector<std::string_view> fields;
  split_on(line, "::", fields);
  if (ends_with(name, ".dat") && fields.size() > 1) return InteractionFormat::kMovieLens;
  if (fields.size() == 4) return InteractionFormat::kMovieLens;
  return InteractionFormat::kSequences;
}

RawInteractions read_interactions(const std::string& path, const ReadOptions& options) {
  InteractionFormat format = options.format == InteractionFormat::kAuto ? detect_interaction_format(path) : options.format;
  if (options.min_rating > 0 && format == InteractionFormat::kSequences) {
    throw Error::at(path, 0, "min_rating is set but the sequences format has no ratings");
  }
  LineReader reader(path);
  ReadProgress progress(reader);
  RawBuilder out;
  switch (format) {
    case InteractionFormat::kSequences: read_sequences(reader, out, progress); break;
    case InteractionFormat::kMovieLens: read_movielens(reader, out, progress, options.min_rating); break;
    case InteractionFormat::kCsv: read_csv(reader, out, progress, options); break;
    case InteractionFormat::kJsonl: read_jsonl(reader, out, progress, options); break;
    case InteractionFormat::kAuto: break;
  }
  RawInteractions raw = out.take();
  raw.format = format;
  progress.finish(raw.size());
  if (raw.size() == 0) {
    if (raw.dropped_by_rating > 0) {
      throw Error::at(path, 0, fmt::format("no interactions left: all {} have rating < {}", raw.dropped_by_rating, options.min_rating));
    }
    throw Error::at(path, 0, "no interactions found");
  }
  return raw;
}

}  // namespace tessera::data
