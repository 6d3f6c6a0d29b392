#pragma once
// ItemMatrix: one dense float vector per item, the input of every semantic-ID tokenizer.
//
// Rows are indexed by dataset item ID: row 0 is padding (all zeros) and rows 1..num_items are
// the items, so a matrix is [num_items + 1, dim], row-major, compact. `kind` says what the
// vectors are ("content", "sasrec", "item2vec", "fused", ...) and `source` how they were made
// (a human-readable description: files, weights, checkpoint), so a tokenizer report can name
// its inputs. `dataset_fingerprint` ties the rows to the dataset whose item IDs they use.
//
// Files are tessera binary containers (magic "TSRIMAT"), written atomically.

#include <cstdint>
#include <string>
#include <vector>

namespace tessera::tokenize {

struct ItemMatrix {
  std::string kind;
  std::string source;
  std::string dataset_fingerprint;  // data::dataset_fingerprint() of the dataset
  std::int64_t num_items = 0;       // rows are 0..num_items
  std::int64_t dim = 0;
  std::vector<float> values;        // (num_items + 1) * dim, row-major; row 0 = zeros

  const float* row(std::int64_t item) const { return values.data() + item * dim; }
  float* row(std::int64_t item) { return values.data() + item * dim; }
};

inline constexpr std::uint32_t kItemMatrixFormatVersion = 1;

// Throws tessera::Error naming the file on I/O failure.
void save_item_matrix(const ItemMatrix& matrix, const std::string& path);
// Throws tessera::Error naming the file when it is missing, not an item matrix, newer,
// truncated, corrupted or inconsistent (values size != (num_items + 1) * dim).
ItemMatrix load_item_matrix(const std::string& path);

}  // namespace tessera::tokenize
