#include "tessera/infer/retrieval.h"

#include <algorithm>
#include <functional>
#include <limits>

#include "tessera/core/error.h"
#include "tessera/train/batching.h"

namespace tessera::infer {

namespace {

// The state after the last item of each history: [B, d]. Non-empty histories are encoded packed
// (models/packing.h), so a batch costs what its real items cost: models with a jagged path
// (HSTU) skip padding entirely, SASRec runs its projections and FFN on real rows only. A batch
// with an empty history takes the padded path (its state is the padding position's).
// times: the group's timestamps, or nullptr when the model does not read time.
torch::Tensor last_states(models::SequenceModelImpl& model, const std::vector<std::span<const std::int32_t>>& group, const Timestamps* times,
                          std::int64_t max_len) {
  bool any_empty = false;
  std::int64_t total = 0;
  for (const auto& h : group) {
    any_empty = any_empty || h.empty();
    total += std::min<std::int64_t>(max_len, static_cast<std::int64_t>(h.size()));
  }
  if (any_empty) {
    auto batch = train::make_history_batch(group, max_len);
    auto batch_times = times ? train::make_history_batch(*times, max_len) : torch::Tensor();
    return model.encode(batch, batch_times).select(1, batch.size(1) - 1);
  }
  auto items = torch::empty({total}, torch::kLong);
  auto offsets = torch::empty({static_cast<std::int64_t>(group.size()) + 1}, torch::kLong);
  auto timestamps = times ? torch::empty({total}, torch::kLong) : torch::Tensor();
  auto* item = items.data_ptr<std::int64_t>();
  auto* offset = offsets.data_ptr<std::int64_t>();
  auto* time = times ? timestamps.data_ptr<std::int64_t>() : nullptr;
  offset[0] = 0;
  std::int64_t t = 0;
  for (std::size_t b = 0; b < group.size(); ++b) {
    const auto& h = group[b];
    const auto n = std::min<std::int64_t>(max_len, static_cast<std::int64_t>(h.size()));
    for (auto j = static_cast<std::int64_t>(h.size()) - n; j < static_cast<std::int64_t>(h.size()); ++j) {
      if (time) time[t] = (*times)[b][static_cast<std::size_t>(j)];
      item[t++] = h[j];
    }
    offset[b + 1] = t;
  }
  auto hidden = model.encode_packed(items, offsets, timestamps);  // [T, d]
  return hidden.index_select(0, offsets.slice(0, 1) - 1);
}

}  // namespace

torch::Tensor score_next_items(models::SequenceModelImpl& model, const std::vector<std::span<const std::int32_t>>& histories,
                               std::int64_t max_len, const Timestamps* timestamps) {
  if (model.uses_time()) {
    if (timestamps == nullptr) throw Error("this model uses time buckets, so every history needs its timestamps");
    if (timestamps->size() != histories.size()) throw Error("got timestamps for " + std::to_string(timestamps->size()) + " of " + std::to_string(histories.size()) + " histories");
    for (std::size_t b = 0; b < histories.size(); ++b) {
      const auto& times = (*timestamps)[b];
      if (times.size() != histories[b].size()) {
        throw Error("history " + std::to_string(b) + " has " + std::to_string(histories[b].size()) + " items but " +
                    std::to_string(times.size()) + " timestamps");
      }
      if (std::adjacent_find(times.begin(), times.end(), std::greater<>()) != times.end()) {
        throw Error("history " + std::to_string(b) + ": timestamps must not decrease along the history");
      }
    }
  } else {
    timestamps = nullptr;  // the model ignores them
  }
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  auto table_t = model.item_embeddings().t();  // [d, V+1]
  const auto B = static_cast<std::int64_t>(histories.size());
  auto scores = torch::empty({B, table_t.size(1)}, table_t.options());
  // Encode in groups of similar length, so short histories are not padded to the longest one.
  std::vector<std::int64_t> order(static_cast<std::size_t>(B));
  for (std::int64_t i = 0; i < B; ++i) order[static_cast<std::size_t>(i)] = i;
  auto length = [&](std::int64_t i) { return std::min<std::int64_t>(max_len, static_cast<std::int64_t>(histories[i].size())); };
  std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) { return length(a) < length(b); });
  constexpr std::int64_t kGroup = 64;
  for (std::int64_t start = 0; start < B; start += kGroup) {
    const auto end = std::min(B, start + kGroup);
    std::vector<std::span<const std::int32_t>> group;
    Timestamps group_times;
    for (auto i = start; i < end; ++i) {
      group.push_back(histories[order[i]]);
      if (timestamps) group_times.push_back((*timestamps)[order[i]]);
    }
    auto hidden = last_states(model, group, timestamps ? &group_times : nullptr, max_len);  // [b, d]: state after the last item
    auto group_scores = torch::mm(hidden, table_t);    // [b, V+1]
    auto rows = torch::from_blob(order.data() + start, {end - start}, torch::kLong);
    scores.index_copy_(0, rows, group_scores);
  }
  scores.select(1, 0).fill_(-std::numeric_limits<float>::infinity());
  if (was_training) model.train();
  return scores;
}

std::vector<std::vector<ScoredItem>> top_k_items(const torch::Tensor& scores_in, std::int64_t k,
                                                 const std::vector<std::span<const std::int32_t>>* exclude) {
  auto scores = scores_in.clone();
  const auto B = scores.size(0), V1 = scores.size(1);
  const float neg_inf = -std::numeric_limits<float>::infinity();
  if (exclude) {
    auto* p = scores.data_ptr<float>();
    for (std::int64_t b = 0; b < B; ++b) {
      for (auto item : (*exclude)[b]) {
        if (item > 0 && item < V1) p[b * V1 + item] = neg_inf;
      }
    }
  }
  k = std::min<std::int64_t>(k, V1 - 1);
  auto [values, indices] = scores.topk(k, /*dim=*/1, /*largest=*/true, /*sorted=*/true);
  std::vector<std::vector<ScoredItem>> out(B);
  auto v = values.accessor<float, 2>();
  auto ix = indices.accessor<std::int64_t, 2>();
  for (std::int64_t b = 0; b < B; ++b) {
    for (std::int64_t j = 0; j < k; ++j) {
      if (v[b][j] == neg_inf) break;  // fewer than k candidates left after exclusion
      out[b].push_back({static_cast<std::int32_t>(ix[b][j]), v[b][j]});
    }
  }
  return out;
}

}  // namespace tessera::infer
