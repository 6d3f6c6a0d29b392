#include "tessera/tokenize/item_matrix.h"

#include <fmt/format.h>

#include <cmath>

#include "tessera/core/binary_io.h"
#include "tessera/core/error.h"

namespace tessera::tokenize {

namespace {

constexpr std::string_view kMagic = "TSRIMAT";

// Largest matrix a file may claim: guards the size arithmetic below against corrupt headers.
constexpr std::int64_t kMaxRows = std::int64_t{1} << 31;
constexpr std::int64_t kMaxDim = std::int64_t{1} << 20;

void check_consistent(const ItemMatrix& m, const std::string& where) {
  if (m.num_items < 0 || m.num_items >= kMaxRows) throw Error::at(where, 0, fmt::format("field 'num_items' out of range: {}", m.num_items));
  if (m.dim <= 0 || m.dim > kMaxDim) throw Error::at(where, 0, fmt::format("field 'dim' out of range: {}", m.dim));
  const auto expected = static_cast<std::uint64_t>(m.num_items + 1) * static_cast<std::uint64_t>(m.dim);
  if (m.values.size() != expected) {
    throw Error::at(where, 0, fmt::format("field 'values' has {} floats, expected (num_items + 1) * dim = ({} + 1) * {} = {}",
                                          m.values.size(), m.num_items, m.dim, expected));
  }
  for (std::size_t i = 0; i < m.values.size(); ++i) {
    if (!std::isfinite(m.values[i])) {
      throw Error::at(where, 0, fmt::format("field 'values': item {} column {} is not finite", static_cast<std::int64_t>(i) / m.dim,
                                            static_cast<std::int64_t>(i) % m.dim));
    }
  }
  for (std::int64_t c = 0; c < m.dim; ++c) {
    if (m.values[static_cast<std::size_t>(c)] != 0.0f) throw Error::at(where, 0, "field 'values': row 0 (padding) is not all zeros");
  }
}

}  // namespace

void save_item_matrix(const ItemMatrix& matrix, const std::string& path) {
  check_consistent(matrix, path);
  BinaryWriter w;
  w.put_string(matrix.kind);
  w.put_string(matrix.source);
  w.put_string(matrix.dataset_fingerprint);
  w.put<std::int64_t>(matrix.num_items);
  w.put<std::int64_t>(matrix.dim);
  w.put_vector(matrix.values);
  write_container(path, kMagic, kItemMatrixFormatVersion, w.bytes());
}

ItemMatrix load_item_matrix(const std::string& path) {
  const std::string payload = read_container(path, kMagic, kItemMatrixFormatVersion);
  BinaryReader r(payload, path);
  ItemMatrix m;
  m.kind = r.get_string("kind");
  m.source = r.get_string("source");
  m.dataset_fingerprint = r.get_string("dataset_fingerprint");
  m.num_items = r.get<std::int64_t>("num_items");
  m.dim = r.get<std::int64_t>("dim");
  m.values = r.get_vector<float>("values");
  if (!r.at_end()) throw Error::at(path, 0, "unexpected bytes after field 'values'");
  if (m.kind.empty()) throw Error::at(path, 0, "field 'kind' is empty");
  check_consistent(m, path);
  return m;
}

}  // namespace tessera::tokenize
