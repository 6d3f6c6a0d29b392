#pragma once
// SemanticIds: every item's short code sequence (its semantic ID), the vocabulary that TIGER
// reads and generates, and the file that carries it from `tessera tokenize` to training,
// evaluation and serving.
//
// An item's ID is `num_levels()` codes. The first `num_quantizer_levels` come from a residual
// quantizer (RQ-KMeans, RQ-VAE, or random for ablations); code c at level l is in
// [0, level_sizes[l]). The last level is the disambiguation code: 0 for the first item with a
// given quantizer prefix, 1, 2, ... for items that collide with it (in item-ID order), so every
// item's full ID is unique. That level is always present, so every ID has the same length.
//
// Codes are stored row-major in `codes`, [(num_items + 1) * num_levels()], row 0 unused
// (all zeros). A SemanticIds value is plain data: safe to read from many threads.
//
// Files are tessera binary containers (magic "TSRSIDS"), written atomically; the quality report
// (a JSON object, see tokenizer.h) travels with the codes.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tessera::tokenize {

struct SemanticIds {
  std::string method;                     // "rq-kmeans", "rq-vae", "random"
  std::string dataset_fingerprint;        // data::dataset_fingerprint() of the dataset
  std::int64_t num_items = 0;             // items 1..num_items
  std::int32_t num_quantizer_levels = 0;  // L
  std::vector<std::int32_t> level_sizes;  // size L + 1: codebook sizes, then max collisions + 1
  std::vector<std::int32_t> codes;        // (num_items + 1) * (L + 1), row-major, row 0 unused
  nlohmann::json report;                  // quality report (tokenizer.h)

  std::int32_t num_levels() const { return num_quantizer_levels + 1; }
  std::span<const std::int32_t> code(std::int64_t item) const {
    return {codes.data() + item * num_levels(), static_cast<std::size_t>(num_levels())};
  }
};

inline constexpr std::uint32_t kSemanticIdsFormatVersion = 1;

// Appends the disambiguation level to quantizer codes: `quantizer_codes` is
// (num_items + 1) * L row-major (row 0 ignored). Items sharing all L codes get 0, 1, 2, ... in
// item-ID order. Fills codes, level_sizes (codebook_sizes + {max collisions + 1}),
// num_quantizer_levels and num_items of `ids`.
void assign_with_disambiguation(SemanticIds& ids, std::span<const std::int32_t> quantizer_codes,
                                std::span<const std::int32_t> codebook_sizes, std::int64_t num_items);

// Checks the contract above: level sizes positive, codes sized (num_items + 1) * num_levels(),
// row 0 all zeros, every code in its level's range, every item's full ID distinct. Throws
// tessera::Error "<where>: <what>" on the first violation. save/load call it.
void validate_semantic_ids(const SemanticIds& ids, const std::string& where);

// Throws tessera::Error naming the file on I/O failure.
void save_semantic_ids(const SemanticIds& ids, const std::string& path);
// Throws tessera::Error naming the file when it is missing, not a semantic-ID file, newer,
// truncated, corrupted, or inconsistent (a code out of its level's range, two items with the
// same full ID).
SemanticIds load_semantic_ids(const std::string& path);

}  // namespace tessera::tokenize
