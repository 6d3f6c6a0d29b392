#include "tessera/tokenize/semantic_ids.h"

#include <algorithm>
#include <map>
#include <vector>

#include <fmt/format.h>

#include "tessera/core/binary_io.h"
#include "tessera/core/error.h"

namespace tessera::tokenize {

namespace {

constexpr const char* kMagic = "TSRSIDS";

}  // namespace

// Throws "<where>: <what>" on the first broken invariant of the header contract: level sizes
// positive, codes sized (num_items + 1) * (L + 1), row 0 all zeros, every code in its level's
// range, every item's full ID distinct.
void validate_semantic_ids(const SemanticIds& ids, const std::string& where) {
  auto fail = [&](const std::string& what) { throw Error::at(where, 0, what); };
  if (ids.num_items < 0) fail(fmt::format("field 'num_items' is negative ({})", ids.num_items));
  if (ids.num_quantizer_levels < 1) fail(fmt::format("field 'num_quantizer_levels' must be >= 1, got {}", ids.num_quantizer_levels));
  const std::int64_t levels = ids.num_levels();
  if (static_cast<std::int64_t>(ids.level_sizes.size()) != levels) {
    fail(fmt::format("field 'level_sizes' has {} entries, expected {} (num_quantizer_levels + 1)", ids.level_sizes.size(), levels));
  }
  for (std::int64_t l = 0; l < levels; ++l) {
    if (ids.level_sizes[l] < 1) fail(fmt::format("field 'level_sizes'[{}] must be >= 1, got {}", l, ids.level_sizes[l]));
  }
  if (static_cast<std::int64_t>(ids.codes.size()) != (ids.num_items + 1) * levels) {
    fail(fmt::format("field 'codes' has {} entries, expected {} ((num_items + 1) * {})", ids.codes.size(),
                     (ids.num_items + 1) * levels, levels));
  }
  for (std::int64_t l = 0; l < levels; ++l) {
    if (ids.codes[l] != 0) fail("field 'codes': row 0 (padding) must be all zeros");
  }
  for (std::int64_t item = 1; item <= ids.num_items; ++item) {
    const auto code = ids.code(item);
    for (std::int64_t l = 0; l < levels; ++l) {
      if (code[l] < 0 || code[l] >= ids.level_sizes[l]) {
        fail(fmt::format("field 'codes': item {} has code {} at level {}, outside [0, {})", item, code[l], l, ids.level_sizes[l]));
      }
    }
  }
  // Unique full IDs: sort item numbers by their code rows and compare neighbours.
  std::vector<std::int64_t> order(static_cast<std::size_t>(ids.num_items));
  for (std::int64_t i = 0; i < ids.num_items; ++i) order[i] = i + 1;
  auto less = [&](std::int64_t a, std::int64_t b) {
    const auto ca = ids.code(a), cb = ids.code(b);
    return std::lexicographical_compare(ca.begin(), ca.end(), cb.begin(), cb.end());
  };
  std::sort(order.begin(), order.end(), less);
  for (std::size_t i = 1; i < order.size(); ++i) {
    const auto a = ids.code(order[i - 1]), b = ids.code(order[i]);
    if (std::equal(a.begin(), a.end(), b.begin())) {
      fail(fmt::format("field 'codes': items {} and {} have the same semantic ID", std::min(order[i - 1], order[i]),
                       std::max(order[i - 1], order[i])));
    }
  }
}

void assign_with_disambiguation(SemanticIds& ids, std::span<const std::int32_t> quantizer_codes,
                                std::span<const std::int32_t> codebook_sizes, std::int64_t num_items) {
  const auto L = static_cast<std::int64_t>(codebook_sizes.size());
  if (L < 1) throw Error("assign_with_disambiguation: at least one codebook is needed");
  if (num_items < 0) throw Error("assign_with_disambiguation: num_items is negative");
  if (static_cast<std::int64_t>(quantizer_codes.size()) != (num_items + 1) * L) {
    throw Error(fmt::format("assign_with_disambiguation: {} quantizer codes, expected {} ((num_items + 1) * {})",
                            quantizer_codes.size(), (num_items + 1) * L, L));
  }
  const std::int64_t levels = L + 1;
  ids.num_items = num_items;
  ids.num_quantizer_levels = static_cast<std::int32_t>(L);
  ids.codes.assign(static_cast<std::size_t>((num_items + 1) * levels), 0);

  // Items visited in ID order; the n-th item seen with a prefix gets disambiguation code n.
  std::map<std::vector<std::int32_t>, std::int32_t> seen;
  std::int32_t max_code = 0;
  for (std::int64_t item = 1; item <= num_items; ++item) {
    std::vector<std::int32_t> prefix(quantizer_codes.begin() + item * L, quantizer_codes.begin() + (item + 1) * L);
    for (std::int64_t l = 0; l < L; ++l) {
      if (prefix[l] < 0 || prefix[l] >= codebook_sizes[l]) {
        throw Error(fmt::format("assign_with_disambiguation: item {} has code {} at level {}, outside [0, {})", item, prefix[l],
                                l, codebook_sizes[l]));
      }
    }
    std::int32_t& count = seen[prefix];
    const std::int32_t code = count++;
    max_code = std::max(max_code, code);
    std::int32_t* row = ids.codes.data() + item * levels;
    std::copy(prefix.begin(), prefix.end(), row);
    row[L] = code;
  }
  ids.level_sizes.assign(codebook_sizes.begin(), codebook_sizes.end());
  ids.level_sizes.push_back(max_code + 1);
}

void save_semantic_ids(const SemanticIds& ids, const std::string& path) {
  validate_semantic_ids(ids, path);
  BinaryWriter w;
  w.put_string(ids.method);
  w.put_string(ids.dataset_fingerprint);
  w.put<std::int64_t>(ids.num_items);
  w.put<std::int32_t>(ids.num_quantizer_levels);
  w.put_vector(ids.level_sizes);
  w.put_vector(ids.codes);
  w.put_string(ids.report.is_null() ? std::string("{}") : ids.report.dump());
  write_container(path, kMagic, kSemanticIdsFormatVersion, w.bytes());
}

SemanticIds load_semantic_ids(const std::string& path) {
  const std::string payload = read_container(path, kMagic, kSemanticIdsFormatVersion);
  BinaryReader r(payload, path);
  SemanticIds ids;
  ids.method = r.get_string("method");
  ids.dataset_fingerprint = r.get_string("dataset_fingerprint");
  ids.num_items = r.get<std::int64_t>("num_items");
  ids.num_quantizer_levels = r.get<std::int32_t>("num_quantizer_levels");
  ids.level_sizes = r.get_vector<std::int32_t>("level_sizes");
  ids.codes = r.get_vector<std::int32_t>("codes");
  const std::string report = r.get_string("report");
  if (!r.at_end()) throw Error::at(path, 0, "unexpected bytes after field 'report'");
  try {
    ids.report = nlohmann::json::parse(report);
  } catch (const nlohmann::json::exception& e) {
    throw Error::at(path, 0, std::string("field 'report' is not valid JSON: ") + e.what());
  }
  validate_semantic_ids(ids, path);
  return ids;
}

}  // namespace tessera::tokenize
