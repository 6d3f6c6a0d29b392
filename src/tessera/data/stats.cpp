#include "tessera/data/stats.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace tessera::data {

namespace {
// 1234567 -> "1,234,567"
std::string with_commas(std::int64_t value) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return value < 0 ? "-" + out : out;
}
}  // namespace

DatasetStats compute_stats(const Dataset& dataset) {
  DatasetStats s;
  s.name = dataset.name;
  s.users = dataset.num_users();
  s.items = dataset.num_items;
  s.interactions = dataset.num_interactions();
  s.has_timestamps = !dataset.timestamps.empty();
  for (std::size_t i = 1; i < dataset.item_metadata.size(); ++i) {
    const auto& m = dataset.item_metadata[i];
    if (!m.title.empty() || m.year != 0 || !m.attributes.empty()) ++s.items_with_metadata;
  }
  if (s.users == 0) return s;
  std::vector<std::int64_t> lengths(static_cast<std::size_t>(s.users));
  for (std::int64_t u = 0; u < s.users; ++u) lengths[u] = dataset.user_offsets[u + 1] - dataset.user_offsets[u];
  std::sort(lengths.begin(), lengths.end());
  const auto n = lengths.size();
  s.min_seq_len = lengths.front();
  s.max_seq_len = lengths.back();
  s.mean_seq_len = static_cast<double>(s.interactions) / static_cast<double>(s.users);
  s.median_seq_len = n % 2 == 1 ? static_cast<double>(lengths[n / 2]) : 0.5 * static_cast<double>(lengths[n / 2 - 1] + lengths[n / 2]);
  const auto rank = (9 * n + 9) / 10;  // ceil(0.9 n), 1-based
  s.p90_seq_len = lengths[std::max<std::size_t>(rank, 1) - 1];
  if (s.items > 0) s.density = static_cast<double>(s.interactions) / (static_cast<double>(s.users) * static_cast<double>(s.items));
  return s;
}

std::string format_stats(const DatasetStats& s) {
  std::string out;
  out += fmt::format("dataset       {}\n", s.name);
  out += fmt::format("users         {}\n", with_commas(s.users));
  out += fmt::format("items         {}\n", with_commas(s.items));
  out += fmt::format("interactions  {}\n", with_commas(s.interactions));
  out += fmt::format("sequence len  min {}  mean {:.2f}  median {:g}  p90 {}  max {}\n", s.min_seq_len, s.mean_seq_len,
                     s.median_seq_len, s.p90_seq_len, s.max_seq_len);
  out += fmt::format("density       {:.4f} %\n", 100.0 * s.density);
  out += fmt::format("timestamps    {}\n", s.has_timestamps ? "yes" : "no");
  out += fmt::format("metadata      {} of {} items\n", with_commas(s.items_with_metadata), with_commas(s.items));
  return out;
}

nlohmann::json to_json(const DatasetStats& s) {
  return nlohmann::json{{"name", s.name},
                        {"users", s.users},
                        {"items", s.items},
                        {"interactions", s.interactions},
                        {"min_seq_len", s.min_seq_len},
                        {"mean_seq_len", s.mean_seq_len},
                        {"median_seq_len", s.median_seq_len},
                        {"p90_seq_len", s.p90_seq_len},
                        {"max_seq_len", s.max_seq_len},
                        {"density", s.density},
                        {"has_timestamps", s.has_timestamps},
                        {"items_with_metadata", s.items_with_metadata}};
}

}  // namespace tessera::data
