#include "tessera/data/metadata.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tessera/core/error.h"
#include "tessera/data/line_reader.h"
#include "tessera/data/text_parsing.h"

namespace tessera::data {

namespace fs = std::filesystem;

namespace {

// The 19 genres of ml-100k in flag order (as listed in its u.genre and README).
const std::vector<std::string> kMovieLens100kGenres = {
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama", "Fantasy",
    "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western"};

void insert_unique(MetadataMap& out, const LineReader& reader, std::string id, ItemMetadata metadata) {
  if (id.empty()) throw reader.error("empty item ID");
  auto [it, inserted] = out.emplace(std::move(id), std::move(metadata));
  if (!inserted) throw reader.error(fmt::format("duplicate item ID '{}'", it->first));
}

// Splits "a | b|c" into {"a", "b", "c"}, dropping empty entries and repeats, as UTF-8.
std::vector<std::string> split_attributes(std::string_view text) {
  std::vector<std::string_view> parts;
  split_on(text, "|", parts);
  std::vector<std::string> attributes;
  for (auto part : parts) {
    auto name = to_utf8(trim(part));
    if (!name.empty() && std::find(attributes.begin(), attributes.end(), name) == attributes.end()) {
      attributes.push_back(std::move(name));
    }
  }
  return attributes;
}

MetadataMap read_movielens_movies(const std::string& path) {
  LineReader reader(path);
  MetadataMap out;
  std::vector<std::string_view> fields;
  std::string_view line;
  while (reader.next(line)) {
    if (trim(line).empty()) continue;
    split_on(line, "::", fields);
    if (fields.size() != 3) {
      throw reader.error(fmt::format("expected 3 fields separated by '::' (MovieID, Title, Genres), got {}", fields.size()));
    }
    auto id = trim(fields[0]);
    if (!parse_int(id)) throw reader.error(fmt::format("movie ID '{}' is not an integer", id));
    ItemMetadata m;
    m.title = to_utf8(trim(fields[1]));
    m.year = year_from_title(m.title);
    m.attributes = split_attributes(fields[2]);
    insert_unique(out, reader, std::string(id), std::move(m));
  }
  return out;
}

// Genre names in flag order from a u.genre file (`name|index` per line).
std::vector<std::string> read_movielens_genres(const std::string& path) {
  LineReader reader(path);
  std::vector<std::string> names;
  std::vector<std::string_view> fields;
  std::string_view line;
  while (reader.next(line)) {
    if (trim(line).empty()) continue;
    split_on(line, "|", fields);
    auto index = fields.size() == 2 ? parse_int(fields[1]) : std::nullopt;
    if (!index || *index < 0 || *index > 1000) throw reader.error("expected `genre name|index`");
    if (static_cast<std::size_t>(*index) >= names.size()) names.resize(static_cast<std::size_t>(*index) + 1);
    names[static_cast<std::size_t>(*index)] = to_utf8(trim(fields[0]));
  }
  return names;
}

MetadataMap read_movielens_100k(const std::string& path) {
  std::vector<std::string> genres = kMovieLens100kGenres;
  const fs::path genre_file = fs::path(path).parent_path() / "u.genre";
  if (fs::exists(genre_file)) {
    genres = read_movielens_genres(genre_file.string());
    if (genres.size() != kMovieLens100kGenres.size()) {
      throw Error::at(genre_file.string(), 0, fmt::format("expected {} genres, found {}", kMovieLens100kGenres.size(), genres.size()));
    }
  }
  const std::size_t expected_fields = 5 + genres.size();
  LineReader reader(path);
  MetadataMap out;
  std::vector<std::string_view> fields;
  std::string_view line;
  while (reader.next(line)) {
    if (trim(line).empty()) continue;
    split_on(line, "|", fields);
    if (fields.size() != expected_fields) {
      throw reader.error(fmt::format("expected {} fields separated by '|' (id, title, release date, video release date, URL, "
                                     "{} genre flags), got {}",
                                     expected_fields, genres.size(), fields.size()));
    }
    auto id = trim(fields[0]);
    if (!parse_int(id)) throw reader.error(fmt::format("movie ID '{}' is not an integer", id));
    ItemMetadata m;
    m.title = to_utf8(trim(fields[1]));
    m.year = year_from_title(m.title);
    auto date = trim(fields[2]);  // "01-Jan-1995"
    if (m.year == 0 && date.size() >= 4) {
      if (auto y = parse_int(date.substr(date.size() - 4))) m.year = static_cast<std::int32_t>(*y);
    }
    for (std::size_t g = 0; g < genres.size(); ++g) {
      auto flag = trim(fields[5 + g]);
      if (flag == "1") {
        m.attributes.push_back(genres[g]);
      } else if (flag != "0") {
        throw reader.error(fmt::format("genre flag {} ('{}') must be 0 or 1, got '{}'", g + 1, genres[g], flag));
      }
    }
    insert_unique(out, reader, std::string(id), std::move(m));
  }
  return out;
}

// The whole file as text (through LineReader, so .gz works), lines joined by '\n'.
std::string read_whole_text(const std::string& path) {
  LineReader reader(path);
  std::string text;
  std::string_view line;
  while (reader.next(line)) {
    text.append(line);
    text += '\n';
  }
  return text;
}

nlohmann::json parse_json_file(const std::string& path) {
  const std::string text = read_whole_text(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    auto byte = std::min<std::size_t>(e.byte, text.size());
    auto line = 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(byte), '\n'));
    throw Error::at(path, line, std::string("invalid JSON: ") + e.what());
  }
}

// Attribute names of an S3-Rec item2attributes file: id -> name (see the header comment).
std::unordered_map<std::int64_t, std::string> attribute_names_for(const std::string& item2attributes_path) {
  std::unordered_map<std::int64_t, std::string> names;
  const fs::path file(item2attributes_path);
  std::string stem = strip_gz(file.filename().string());
  const std::string suffix = "_item2attributes.json";
  if (ends_with(stem, suffix)) {
    const fs::path names_file = file.parent_path() / (stem.substr(0, stem.size() - suffix.size()) + "_attribute_names.tsv");
    if (fs::exists(names_file)) {
      LineReader reader(names_file.string());
      std::vector<std::string_view> fields;
      std::string_view line;
      while (reader.next(line)) {
        if (trim(line).empty()) continue;
        split_on(line, "\t", fields);
        auto id = parse_int(fields[0]);
        if (!id) {
          if (reader.line_number() == 1) continue;  // header row
          throw reader.error(fmt::format("attribute ID '{}' is not an integer", trim(fields[0])));
        }
        if (fields.size() < 2) throw reader.error("expected `attribute_id \\t name ...`");
        names[*id] = to_utf8(trim(fields[1]));
      }
      return names;
    }
  }
  const fs::path datamaps = file.parent_path() / "datamaps.json";
  if (fs::exists(datamaps)) {
    auto maps = parse_json_file(datamaps.string());
    // P5's full vocabulary (with attributeid2num) uses other IDs than S3-Rec's files; see metadata.h.
    if (maps.is_object() && maps.contains("id2attribute") && !maps.contains("attributeid2num") && maps["id2attribute"].is_object()) {
      for (const auto& [key, value] : maps["id2attribute"].items()) {
        auto id = parse_int(key);
        if (id && value.is_string()) names[*id] = to_utf8(value.get<std::string>());
      }
    }
  }
  return names;
}

MetadataMap read_item2attributes(const std::string& path) {
  const auto json = parse_json_file(path);
  if (!json.is_object()) throw Error::at(path, 0, "expected a JSON object {\"item_id\": [attribute_id, ...]}");
  const auto names = attribute_names_for(path);
  MetadataMap out;
  for (const auto& [item, attributes] : json.items()) {
    if (!attributes.is_array()) throw Error::at(path, 0, fmt::format("item '{}': expected an array of attribute IDs", item));
    ItemMetadata m;
    for (const auto& a : attributes) {
      std::string name;
      if (a.is_number_integer()) {
        auto it = names.find(a.get<std::int64_t>());
        name = it != names.end() ? it->second : "attr:" + a.dump();
      } else if (a.is_string()) {
        name = to_utf8(a.get<std::string>());
      } else {
        throw Error::at(path, 0, fmt::format("item '{}': attribute {} is neither an integer ID nor a name", item, a.dump()));
      }
      if (std::find(m.attributes.begin(), m.attributes.end(), name) == m.attributes.end()) m.attributes.push_back(std::move(name));
    }
    out.emplace(item, std::move(m));
  }
  if (out.empty()) throw Error::at(path, 0, "no items found");
  return out;
}

MetadataMap read_item_tsv(const std::string& path) {
  LineReader reader(path);
  MetadataMap out;
  std::vector<std::string_view> fields;
  std::string_view line;
  // Column positions; -1 = absent. Defaults are the headerless layout.
  int id_col = 0, title_col = 1, asin_col = -1, year_col = -1, attr_col = 2;
  std::size_t header_size = 0;  // 0 = no header
  while (reader.next(line)) {
    if (trim(line).empty()) continue;
    split_on(line, "\t", fields);
    if (header_size == 0 && out.empty() && trim(fields[0]) == "item_id") {
      header_size = fields.size();
      title_col = asin_col = year_col = attr_col = -1;
      for (std::size_t i = 0; i < fields.size(); ++i) {
        auto name = trim(fields[i]);
        int c = static_cast<int>(i);
        if (name == "title") title_col = c;
        else if (name == "asin") asin_col = c;
        else if (name == "year") year_col = c;
        else if (name == "attributes" || name == "categories" || name == "genres") attr_col = c;
      }
      continue;
    }
    if (header_size > 0 && fields.size() != header_size) {
      throw reader.error(fmt::format("expected {} tab-separated fields, got {}", header_size, fields.size()));
    }
    if (header_size == 0 && (fields.size() < 2 || fields.size() > 3)) {
      throw reader.error(fmt::format("expected 2 or 3 tab-separated fields (item_id, title, attributes), got {}", fields.size()));
    }
    auto field = [&](int c) { return c >= 0 && static_cast<std::size_t>(c) < fields.size() ? trim(fields[c]) : std::string_view(); };
    ItemMetadata m;
    m.title = to_utf8(field(title_col));
    if (m.title.empty()) m.title = to_utf8(field(asin_col));
    if (year_col >= 0 && !field(year_col).empty()) {
      auto y = parse_int(field(year_col));
      if (!y) throw reader.error(fmt::format("year '{}' is not an integer", field(year_col)));
      m.year = static_cast<std::int32_t>(*y);
    } else {
      m.year = year_from_title(m.title);
    }
    m.attributes = split_attributes(field(attr_col));
    insert_unique(out, reader, std::string(field(id_col)), std::move(m));
  }
  if (out.empty()) throw Error::at(path, 0, "no items found");
  return out;
}

}  // namespace

std::string metadata_format_name(MetadataFormat format) {
  switch (format) {
    case MetadataFormat::kAuto: return "auto";
    case MetadataFormat::kMovieLensMovies: return "movielens-movies";
    case MetadataFormat::kMovieLens100k: return "movielens-100k";
    case MetadataFormat::kItem2Attributes: return "item2attributes";
    case MetadataFormat::kItemTsv: return "item-tsv";
  }
  return "?";
}

MetadataFormat parse_metadata_format(const std::string& name) {
  for (auto f : {MetadataFormat::kAuto, MetadataFormat::kMovieLensMovies, MetadataFormat::kMovieLens100k,
                 MetadataFormat::kItem2Attributes, MetadataFormat::kItemTsv}) {
    if (metadata_format_name(f) == name) return f;
  }
  throw Error("unknown metadata format '" + name + "' (expected auto, movielens-movies, movielens-100k, item2attributes or item-tsv)");
}

MetadataFormat detect_metadata_format(const std::string& path) {
  const std::string name = strip_gz(lower_file_name(path));
  if (name == "u.item") return MetadataFormat::kMovieLens100k;
  if (ends_with(name, ".dat")) return MetadataFormat::kMovieLensMovies;
  if (ends_with(name, ".json")) return MetadataFormat::kItem2Attributes;
  return MetadataFormat::kItemTsv;
}

MetadataMap read_item_metadata(const std::string& path, MetadataFormat format) {
  if (format == MetadataFormat::kAuto) format = detect_metadata_format(path);
  switch (format) {
    case MetadataFormat::kMovieLensMovies: return read_movielens_movies(path);
    case MetadataFormat::kMovieLens100k: return read_movielens_100k(path);
    case MetadataFormat::kItem2Attributes: return read_item2attributes(path);
    case MetadataFormat::kItemTsv:
    case MetadataFormat::kAuto: break;
  }
  return read_item_tsv(path);
}

}  // namespace tessera::data
