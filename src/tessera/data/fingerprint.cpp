#include "tessera/data/fingerprint.h"

#include <zlib.h>

#include <fmt/format.h>

namespace tessera::data {

std::string dataset_fingerprint(const Dataset& dataset) {
  uLong crc = crc32(0L, Z_NULL, 0);
  auto add = [&](const void* p, std::size_t n) { crc = crc32(crc, static_cast<const Bytef*>(p), static_cast<uInt>(n)); };
  add(&dataset.num_items, sizeof(dataset.num_items));
  add(dataset.user_offsets.data(), dataset.user_offsets.size() * sizeof(std::int64_t));
  add(dataset.items.data(), dataset.items.size() * sizeof(std::int32_t));
  for (const auto& id : dataset.item_ids) add(id.data(), id.size() + 1);
  return fmt::format("{:08x}", static_cast<std::uint32_t>(crc));
}

}  // namespace tessera::data
