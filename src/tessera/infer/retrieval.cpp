#include "tessera/infer/retrieval.h"

#include <limits>

#include "tessera/train/batching.h"

namespace tessera::infer {

torch::Tensor score_next_items(models::SequenceModelImpl& model, const std::vector<std::span<const std::int32_t>>& histories,
                               std::int64_t max_len) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  auto batch = train::make_history_batch(histories, max_len);
  auto hidden = model.encode(batch).select(1, batch.size(1) - 1);  // [B, d]: state after the last item
  auto scores = torch::mm(hidden, model.item_embeddings().t());     // [B, V+1]
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
