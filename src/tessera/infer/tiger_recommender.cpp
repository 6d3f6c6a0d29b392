#include "tessera/infer/tiger_recommender.h"

#include <unordered_set>

#include "tessera/core/error.h"

namespace tessera::infer {

TigerRecommender::TigerRecommender(std::shared_ptr<models::TigerImpl> model, std::shared_ptr<const tokenize::SemanticIds> ids,
                                   BeamSearchOptions options, std::string name)
    : model_(std::move(model)), ids_(std::move(ids)), trie_(*ids_), options_(options), name_(std::move(name)) {
  if (ids_->num_levels() != model_->num_levels()) {
    throw Error("tiger: the semantic IDs have " + std::to_string(ids_->num_levels()) + " levels but the model has " +
                std::to_string(model_->num_levels()));
  }
}

std::vector<GeneratedItems> TigerRecommender::generate(std::span<const std::int64_t> users,
                                                       const std::vector<std::span<const std::int32_t>>& histories) {
  if (!users.empty() && users.size() != histories.size()) throw Error("tiger: one user per history is required");
  for (const auto& h : histories) {
    if (h.empty()) throw Error("tiger: a history must hold at least one item");
    for (auto item : h) {
      if (item < 1 || item > ids_->num_items) throw Error("tiger: unknown item " + std::to_string(item));
    }
  }
  torch::NoGradGuard no_grad;
  model_->eval();
  auto tokens = model_->history_tokens(ids_->codes, histories);
  torch::Tensor buckets;
  if (model_->spec.user_buckets > 0) {
    std::vector<std::int64_t> b(histories.size(), 0);  // unknown users share bucket 0
    for (std::size_t i = 0; i < users.size(); ++i) b[i] = models::hashed_user_bucket(users[i], model_->spec.user_buckets);
    buckets = torch::tensor(b, torch::kLong);
  }
  auto memory = model_->encode(tokens, buckets);
  auto results = constrained_beam_search(*model_, trie_, memory, options_);
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
                                                                   const std::vector<std::span<const std::int32_t>>& histories) {
  auto generated = generate(users, histories);
  std::vector<std::vector<std::int32_t>> lists;
  lists.reserve(generated.size());
  for (auto& g : generated) lists.push_back(std::move(g.items));
  return lists;
}

}  // namespace tessera::infer
