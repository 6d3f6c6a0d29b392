#include "tessera/infer/tiger_recommender.h"

#include <algorithm>
#include <unordered_set>

#include "tessera/core/error.h"

namespace tessera::infer {

namespace {

// The encoder memory of a batch, encoded in up to four groups of similar history length so that
// short histories are not padded to the batch's longest (the encoder's cost and the decoder's
// cross-attention both grow with the padded length). Each group's states are placed
// right-aligned in one [B, S, d] memory, S = the longest group's, with the padding masked in the
// bias (-1e9, the TigerMemory contract); attention has no positions across the memory, so the
// result equals encoding the batch padded. The history tokens are merged the same way (left
// padding with token 0, as history_tokens() pads).
models::TigerMemory encode_by_length(models::TigerImpl& model, std::span<const std::int32_t> codes,
                                     const std::vector<std::span<const std::int32_t>>& histories, const torch::Tensor& buckets) {
  const auto B = static_cast<std::int64_t>(histories.size());
  const std::int64_t groups = std::clamp<std::int64_t>(B / 8, 1, 4);
  if (groups == 1) return model.encode(model.history_tokens(codes, histories), buckets);
  auto length = [&](std::int64_t b) { return std::min<std::int64_t>(model.spec.max_items, static_cast<std::int64_t>(histories[b].size())); };
  std::vector<std::int64_t> order(static_cast<std::size_t>(B));
  for (std::int64_t b = 0; b < B; ++b) order[static_cast<std::size_t>(b)] = b;
  std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) { return length(a) < length(b); });
  std::vector<models::TigerMemory> parts;
  std::vector<torch::Tensor> rows;
  std::int64_t S = 0, T = 0;
  for (std::int64_t g = 0; g < groups; ++g) {
    const auto begin = B * g / groups, end = B * (g + 1) / groups;
    std::vector<std::span<const std::int32_t>> group;
    for (auto i = begin; i < end; ++i) group.push_back(histories[static_cast<std::size_t>(order[static_cast<std::size_t>(i)])]);
    auto index = torch::tensor(std::vector<std::int64_t>(order.begin() + begin, order.begin() + end), torch::kLong);
    parts.push_back(model.encode(model.history_tokens(codes, group), buckets.defined() ? buckets.index_select(0, index) : torch::Tensor()));
    rows.push_back(index);
    S = std::max(S, parts.back().memory.size(1));
    T = std::max(T, parts.back().history.size(1));
  }
  const auto d = parts.front().memory.size(2);
  models::TigerMemory memory{torch::zeros({B, S, d}), torch::full({B, 1, 1, S}, -1e9f), torch::zeros({B, T}, torch::kLong)};
  for (std::size_t g = 0; g < parts.size(); ++g) {
    const auto Sg = parts[g].memory.size(1), Tg = parts[g].history.size(1);
    memory.memory.narrow(1, S - Sg, Sg).index_copy_(0, rows[g], parts[g].memory);
    memory.bias.narrow(3, S - Sg, Sg).index_copy_(0, rows[g], parts[g].bias);
    memory.history.narrow(1, T - Tg, Tg).index_copy_(0, rows[g], parts[g].history);  // left-padded, as history_tokens()
  }
  return memory;
}

}  // namespace

TigerRecommender::TigerRecommender(std::shared_ptr<models::TigerImpl> model, std::shared_ptr<const tokenize::SemanticIds> ids,
                                   BeamSearchOptions options, std::string name)
    : model_(std::move(model)), ids_(std::move(ids)), trie_(*ids_), options_(options), name_(std::move(name)) {
  if (ids_->num_levels() != model_->num_levels()) {
    throw Error("tiger: the semantic IDs have " + std::to_string(ids_->num_levels()) + " levels but the model has " +
                std::to_string(model_->num_levels()));
  }
}

std::vector<GeneratedItems> TigerRecommender::generate(std::span<const std::int64_t> users,
                                                       const std::vector<std::span<const std::int32_t>>& histories,
                                                       bool exclude_history) {
  if (!users.empty() && users.size() != histories.size()) throw Error("tiger: one user per history is required");
  for (const auto& h : histories) {
    if (h.empty()) throw Error("tiger: a history must hold at least one item");
    for (auto item : h) {
      if (item < 1 || item > ids_->num_items) throw Error("tiger: unknown item " + std::to_string(item));
    }
  }
  torch::NoGradGuard no_grad;
  model_->eval();
  torch::Tensor buckets;
  if (model_->spec.user_buckets > 0) {
    std::vector<std::int64_t> b(histories.size(), 0);  // unknown users share bucket 0
    for (std::size_t i = 0; i < users.size(); ++i) b[i] = models::hashed_user_bucket(users[i], model_->spec.user_buckets);
    buckets = torch::tensor(b, torch::kLong);
  }
  auto memory = encode_by_length(*model_, ids_->codes, histories, buckets);
  auto results = constrained_beam_search(*model_, trie_, memory, options_,
                                         exclude_history ? std::span<const std::span<const std::int32_t>>(histories)
                                                         : std::span<const std::span<const std::int32_t>>());
  for (auto& r : results) {
    std::unordered_set<std::int32_t> seen;
    invalid_generated_ += r.invalid;
    for (auto item : r.items) {
      ++items_generated_;
      if (item < 1 || item > ids_->num_items || !seen.insert(item).second) ++invalid_generated_;
    }
  }
  return results;
}

std::vector<std::vector<std::int32_t>> TigerRecommender::recommend(std::span<const std::int64_t> users,
                                                                   const std::vector<std::span<const std::int32_t>>& histories,
                                                                   bool exclude_history) {
  auto generated = generate(users, histories, exclude_history);
  std::vector<std::vector<std::int32_t>> lists;
  lists.reserve(generated.size());
  for (auto& g : generated) lists.push_back(std::move(g.items));
  return lists;
}

}  // namespace tessera::infer
