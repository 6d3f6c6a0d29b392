#include "tessera/bundle/item_catalog.h"

#include <fmt/format.h>

#include "tessera/core/error.h"

namespace tessera::bundle {

namespace {
const std::string kEmpty;
const std::vector<std::string> kNoAttributes;
}  // namespace

ItemCatalog ItemCatalog::from_dataset(const data::Dataset& dataset) {
  ItemCatalog catalog;
  catalog.dataset_name_ = dataset.name;
  catalog.num_items_ = dataset.num_items;
  catalog.original_ids_ = dataset.item_ids;
  catalog.metadata_ = dataset.item_metadata;
  catalog.index_original_ids();
  return catalog;
}

const std::string& ItemCatalog::title(std::int32_t item) const {
  return metadata_.empty() ? kEmpty : metadata_[static_cast<std::size_t>(item)].title;
}

const std::vector<std::string>& ItemCatalog::attributes(std::int32_t item) const {
  return metadata_.empty() ? kNoAttributes : metadata_[static_cast<std::size_t>(item)].attributes;
}

std::int32_t ItemCatalog::find_original(std::string_view original) const {
  auto it = by_original_.find(std::string(original));
  return it == by_original_.end() ? 0 : it->second;
}

void ItemCatalog::index_original_ids() {
  by_original_.clear();
  by_original_.reserve(static_cast<std::size_t>(num_items_));
  for (std::int32_t i = 1; i <= num_items_; ++i) by_original_.emplace(original_ids_[static_cast<std::size_t>(i)], i);
}

void ItemCatalog::write(BinaryWriter& w) const {
  w.put_string(dataset_name_);
  w.put<std::int32_t>(num_items_);
  w.put_strings(original_ids_);
  w.put<std::uint8_t>(metadata_.empty() ? 0 : 1);
  for (const auto& m : metadata_) {
    w.put_string(m.title);
    w.put<std::int32_t>(m.year);
    w.put_strings(m.attributes);
  }
}

ItemCatalog ItemCatalog::read(BinaryReader& r) {
  ItemCatalog catalog;
  catalog.dataset_name_ = r.get_string("items.dataset_name");
  catalog.num_items_ = r.get<std::int32_t>("items.num_items");
  if (catalog.num_items_ < 1) throw Error::at(r.path(), 0, fmt::format("item catalog has {} items", catalog.num_items_));
  catalog.original_ids_ = r.get_strings("items.original_ids");
  const auto expected = static_cast<std::size_t>(catalog.num_items_) + 1;
  if (catalog.original_ids_.size() != expected) {
    throw Error::at(r.path(), 0, fmt::format("item catalog has {} original IDs for {} items", catalog.original_ids_.size(), catalog.num_items_));
  }
  if (r.get<std::uint8_t>("items.has_metadata") != 0) {
    catalog.metadata_.resize(expected);
    for (auto& m : catalog.metadata_) {
      m.title = r.get_string("items.title");
      m.year = r.get<std::int32_t>("items.year");
      m.attributes = r.get_strings("items.attributes");
    }
  }
  catalog.index_original_ids();
  return catalog;
}

}  // namespace tessera::bundle
