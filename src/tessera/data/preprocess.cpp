#include "tessera/data/preprocess.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <numeric>

#include "tessera/core/error.h"
#include "tessera/data/text_parsing.h"

namespace tessera::data {

namespace {

// Interaction indices of raw user u, in time order: order[offsets[u] .. offsets[u+1]).
struct GroupedByUser {
  std::vector<std::int64_t> offsets;
  std::vector<std::int64_t> order;
};

GroupedByUser group_by_user(const RawInteractions& raw) {
  const auto num_users = raw.user_ids.size();
  GroupedByUser g;
  g.offsets.assign(num_users + 1, 0);
  for (auto u : raw.users) ++g.offsets[static_cast<std::size_t>(u) + 1];
  std::partial_sum(g.offsets.begin(), g.offsets.end(), g.offsets.begin());
  g.order.resize(raw.items.size());
  std::vector<std::int64_t> fill(g.offsets.begin(), g.offsets.end() - 1);
  for (std::size_t i = 0; i < raw.users.size(); ++i) g.order[fill[raw.users[i]]++] = static_cast<std::int64_t>(i);
  if (raw.has_timestamps()) {
    for (std::size_t u = 0; u < num_users; ++u) {
      std::stable_sort(g.order.begin() + g.offsets[u], g.order.begin() + g.offsets[u + 1],
                       [&](std::int64_t a, std::int64_t b) { return raw.timestamps[a] < raw.timestamps[b]; });
    }
  }
  return g;
}

// A non-empty string of at most 18 decimal digits (so it fits an int64).
bool is_small_number(const std::string& s) {
  return !s.empty() && s.size() <= 18 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

Dataset dataset_from_interactions(const RawInteractions& raw, std::int32_t kcore, std::int32_t min_seq_len,
                                  PrepareReport* report) {
  if (kcore < 0 || min_seq_len < 0) throw Error("kcore and min_seq_len must be >= 0");
  const GroupedByUser g = group_by_user(raw);
  const auto num_users = raw.user_ids.size();
  const auto num_items = raw.item_ids.size();
  const std::int64_t user_min = std::max(kcore, min_seq_len);
  const std::int64_t item_min = std::max(kcore, 1);

  // Step 2: drop users and items below their minimum until nothing changes.
  std::vector<char> user_alive(num_users, 1), item_alive(num_items, 1);
  std::vector<std::int64_t> user_count(num_users), item_count(num_items);
  std::int32_t rounds = 0;
  while (true) {
    ++rounds;
    std::fill(user_count.begin(), user_count.end(), 0);
    std::fill(item_count.begin(), item_count.end(), 0);
    for (std::size_t i = 0; i < raw.items.size(); ++i) {
      if (user_alive[raw.users[i]] && item_alive[raw.items[i]]) {
        ++user_count[raw.users[i]];
        ++item_count[raw.items[i]];
      }
    }
    bool changed = false;
    for (std::size_t u = 0; u < num_users; ++u) {
      if (user_alive[u] && user_count[u] < user_min) user_alive[u] = 0, changed = true;
    }
    for (std::size_t i = 0; i < num_items; ++i) {
      if (item_alive[i] && item_count[i] < item_min) item_alive[i] = 0, changed = true;
    }
    if (!changed) break;
  }

  // Step 3: dense IDs.
  std::vector<std::int32_t> kept_items;
  for (std::size_t i = 0; i < num_items; ++i) {
    if (item_alive[i]) kept_items.push_back(static_cast<std::int32_t>(i));
  }
  if (kept_items.empty() || std::none_of(user_alive.begin(), user_alive.end(), [](char a) { return a != 0; })) {
    throw Error(fmt::format("no interactions left after filtering ({} users, {} items read; every user needs >= {} and every "
                            "item >= {} interactions)",
                            num_users, num_items, user_min, item_min));
  }
  const bool numeric = std::all_of(kept_items.begin(), kept_items.end(), [&](std::int32_t i) { return is_small_number(raw.item_ids[i]); });
  if (numeric) {
    std::vector<std::int64_t> value(num_items, 0);
    for (auto i : kept_items) value[i] = std::stoll(raw.item_ids[i]);
    std::stable_sort(kept_items.begin(), kept_items.end(), [&](std::int32_t a, std::int32_t b) {
      return value[a] != value[b] ? value[a] < value[b] : raw.item_ids[a] < raw.item_ids[b];
    });
  }
  std::vector<std::int32_t> dense_item(num_items, 0);
  Dataset d;
  d.num_items = static_cast<std::int32_t>(kept_items.size());
  d.item_ids.reserve(kept_items.size() + 1);
  d.item_ids.emplace_back();
  for (std::size_t k = 0; k < kept_items.size(); ++k) {
    dense_item[kept_items[k]] = static_cast<std::int32_t>(k + 1);
    d.item_ids.push_back(raw.item_ids[kept_items[k]]);
  }
  std::int64_t total = 0;
  for (std::size_t u = 0; u < num_users; ++u) total += user_alive[u] ? user_count[u] : 0;
  d.items.reserve(static_cast<std::size_t>(total));
  if (raw.has_timestamps()) d.timestamps.reserve(static_cast<std::size_t>(total));
  for (std::size_t u = 0; u < num_users; ++u) {
    if (!user_alive[u]) continue;
    for (auto k = g.offsets[u]; k < g.offsets[u + 1]; ++k) {
      const auto i = g.order[k];
      if (!item_alive[raw.items[i]]) continue;
      d.items.push_back(dense_item[raw.items[i]]);
      if (raw.has_timestamps()) d.timestamps.push_back(raw.timestamps[i]);
    }
    d.user_offsets.push_back(static_cast<std::int64_t>(d.items.size()));
    d.user_ids.push_back(raw.user_ids[u]);
  }
  if (report) {
    report->format = interaction_format_name(raw.format);
    report->raw_interactions = raw.size();
    report->raw_users = static_cast<std::int64_t>(num_users);
    report->raw_items = static_cast<std::int64_t>(num_items);
    report->dropped_by_rating = raw.dropped_by_rating;
    report->filter_rounds = rounds;
  }
  return d;
}

std::int64_t attach_metadata(Dataset& dataset, const MetadataMap& metadata) {
  dataset.item_metadata.assign(static_cast<std::size_t>(dataset.num_items) + 1, ItemMetadata{});
  std::int64_t found = 0;
  for (std::int32_t i = 1; i <= dataset.num_items; ++i) {
    auto it = metadata.find(dataset.item_ids[i]);
    if (it == metadata.end()) continue;
    dataset.item_metadata[i] = it->second;
    ++found;
  }
  return found;
}

Dataset prepare_dataset(const PrepareOptions& options, PrepareReport* report) {
  if (options.input.empty()) throw Error("prepare: no input file given");
  // Read metadata first: a bad metadata file should fail before minutes of parsing.
  MetadataMap metadata;
  if (!options.metadata.empty()) metadata = read_item_metadata(options.metadata, options.metadata_format);
  const RawInteractions raw = read_interactions(options.input, options.read);
  Dataset d;
  try {
    d = dataset_from_interactions(raw, options.kcore, options.min_seq_len, report);
  } catch (const Error& e) {
    throw Error::at(options.input, 0, e.what());
  }
  d.name = options.name.empty() ? dataset_name_from_path(options.input) : options.name;
  if (!options.metadata.empty()) {
    auto found = attach_metadata(d, metadata);
    if (report) {
      report->items_with_metadata = found;
      report->metadata_entries = static_cast<std::int64_t>(metadata.size());
    }
  }
  return d;
}

std::string dataset_name_from_path(const std::string& path) {
  std::string base = strip_gz(lower_file_name(path));
  if (auto dot = base.rfind('.'); dot != std::string::npos && dot > 0) base = base.substr(0, dot);
  for (const char* suffix : {"_sequences", "_sequence", "_interactions", "_ratings"}) {
    if (ends_with(base, suffix) && base.size() > std::string_view(suffix).size()) {
      base = base.substr(0, base.size() - std::string_view(suffix).size());
    }
  }
  static const std::vector<std::string> generic = {"u", "ratings", "interactions", "data", "train", "sequences", "sequential_data"};
  if (std::find(generic.begin(), generic.end(), base) != generic.end()) {
    auto folder = std::filesystem::absolute(path).parent_path().filename().string();
    if (!folder.empty()) base = lower_file_name(folder);
  }
  return base;
}

}  // namespace tessera::data
