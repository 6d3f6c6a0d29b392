#pragma once
// ItemCatalog: what serving needs to know about the items besides the model. Internal item IDs
// are 1..num_items (0 is padding, as everywhere in tessera); each has the dataset's original ID
// and display metadata (title, year, attributes such as genres or brand). Built from a prepared
// dataset when a model is exported, stored inside the model bundle (bundle.h), so a server never
// needs the dataset file.
//
// Immutable once built: safe to read from many threads.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tessera/core/binary_io.h"
#include "tessera/data/dataset.h"

namespace tessera::bundle {

class ItemCatalog {
 public:
  ItemCatalog() = default;

  // Copies the item ID map and metadata of `dataset` (users and sequences are not kept).
  static ItemCatalog from_dataset(const data::Dataset& dataset);

  const std::string& dataset_name() const { return dataset_name_; }
  std::int32_t num_items() const { return num_items_; }
  bool contains(std::int64_t item) const { return item >= 1 && item <= num_items_; }

  // item must satisfy contains(item).
  const std::string& original_id(std::int32_t item) const { return original_ids_[static_cast<std::size_t>(item)]; }
  // The item's title, or "" when the dataset had no metadata or no title for it.
  const std::string& title(std::int32_t item) const;
  // Attributes (genres, brand, categories, ...), possibly empty.
  const std::vector<std::string>& attributes(std::int32_t item) const;

  // The internal ID of the dataset's original ID `original`, or 0 if there is no such item.
  std::int32_t find_original(std::string_view original) const;

  // Appends the catalog to / reads it back from a binary payload (core/binary_io.h). read()
  // throws tessera::Error naming reader.path() if the bytes are truncated or inconsistent.
  void write(BinaryWriter& writer) const;
  static ItemCatalog read(BinaryReader& reader);

 private:
  void index_original_ids();

  std::string dataset_name_;
  std::int32_t num_items_ = 0;
  std::vector<std::string> original_ids_;       // size num_items + 1, [0] = ""
  std::vector<data::ItemMetadata> metadata_;    // size num_items + 1, or empty when there is none
  std::unordered_map<std::string, std::int32_t> by_original_;
};

}  // namespace tessera::bundle
