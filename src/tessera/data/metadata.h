#pragma once
// Readers for item metadata files (titles, years, genres/categories/brands), keyed by the
// ORIGINAL item ID as it appears in the interaction file. preprocess.h attaches the result to
// the re-mapped items of a Dataset. All text is returned as UTF-8 (Latin-1 input is converted).
//
// Formats (all may be gzip-compressed):
//   movielens-movies  ML-1M movies.dat: `MovieID::Title::Genre|Genre`. Year from "(1995)" at the
//                     end of the title; genres become attributes.
//   movielens-100k    ml-100k u.item: `id|title|release date|video date|URL|19 genre flags`.
//                     Genre names come from u.genre next to it, else the standard 19 names.
//   item2attributes   S3-Rec style `{"item_id": [attribute_id, ...]}` (Beauty, Yelp). Attribute
//                     names come from `<prefix>_attribute_names.tsv` next to it (id \t name ...),
//                     else from `id2attribute` in a P5 `datamaps.json` next to it (only when that
//                     file has no `attributeid2num`, i.e. uses the S3-Rec ids, as Yelp's does),
//                     else they are "attr:<id>".
//   item-tsv          tab-separated, one item per line. With a header row whose first column is
//                     "item_id", columns are found by name: item_id, title, asin, year,
//                     attributes (attributes split on '|', trimmed; title falls back to asin
//                     when there is no title column, e.g. Beauty_item_info.tsv). Without a
//                     header the columns are `item_id \t title \t attr|attr|...` (what
//                     `tessera synth` writes).
// Errors are tessera::Error "<file>:<line>: <what is wrong>".

#include <string>
#include <unordered_map>

#include "tessera/data/dataset.h"

namespace tessera::data {

enum class MetadataFormat { kAuto, kMovieLensMovies, kMovieLens100k, kItem2Attributes, kItemTsv };

// "auto", "movielens-movies", "movielens-100k", "item2attributes", "item-tsv";
// parse_metadata_format() throws tessera::Error on anything else.
std::string metadata_format_name(MetadataFormat format);
MetadataFormat parse_metadata_format(const std::string& name);

// From the file name (a trailing ".gz" ignored): *.dat -> movielens-movies, u.item ->
// movielens-100k, *.json -> item2attributes, anything else -> item-tsv. Never returns kAuto.
MetadataFormat detect_metadata_format(const std::string& path);

// Original item ID -> metadata.
using MetadataMap = std::unordered_map<std::string, ItemMetadata>;

// Reads `path` in `format` (detected if kAuto). Throws tessera::Error on malformed input,
// duplicate item IDs, or an empty file.
MetadataMap read_item_metadata(const std::string& path, MetadataFormat format = MetadataFormat::kAuto);

}  // namespace tessera::data
