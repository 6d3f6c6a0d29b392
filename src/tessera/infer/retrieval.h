#pragma once
// Brute-force retrieval for item-ID sequence models: score every item for the next step after
// each history (one batched matrix product against the item table), then take the top K with a
// partial sort. Shared by evaluation, `tessera recommend` and, later, serving; every
// SequenceModel (SASRec, HSTU) uses this one path.

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include <torch/torch.h>

#include "tessera/eval/scorer.h"
#include "tessera/models/sequence_model.h"

namespace tessera::infer {

// Scores of all items after each history: [B, num_items + 1] float, column 0 (padding) = -inf.
// Runs the model in eval mode without autograd. Histories longer than max_len keep their most
// recent max_len items. timestamps: one list per history (same lengths, non-decreasing),
// required by models that use time (models::SequenceModelImpl::uses_time) and ignored by the
// others; missing, mis-sized or decreasing times are a tessera::Error.
using Timestamps = std::vector<std::span<const std::int64_t>>;
torch::Tensor score_next_items(models::SequenceModelImpl& model, const std::vector<std::span<const std::int32_t>>& histories,
                               std::int64_t max_len, const Timestamps* timestamps = nullptr);

// Adapts a sequence model to the evaluator's Scorer interface.
class SequenceModelScorer : public eval::Scorer {
 public:
  SequenceModelScorer(std::shared_ptr<models::SequenceModelImpl> model, std::string name, std::int64_t max_len)
      : model_(std::move(model)), name_(std::move(name)), max_len_(max_len) {}
  std::string name() const override { return name_; }
  at::Tensor score(const std::vector<std::span<const std::int32_t>>& histories) override {
    return score_next_items(*model_, histories, max_len_);
  }
  at::Tensor score_timed(const std::vector<std::span<const std::int32_t>>& histories, const Timestamps& timestamps) override {
    return score_next_items(*model_, histories, max_len_, &timestamps);
  }

 private:
  std::shared_ptr<models::SequenceModelImpl> model_;
  std::string name_;
  std::int64_t max_len_;
};

struct ScoredItem {
  std::int32_t item = 0;  // internal item id, 1..num_items
  float score = 0;
};

// Top k items of each row of `scores` ([B, num_items + 1]), best first. If `exclude` is given,
// (*exclude)[b] lists items that must not be returned for row b (e.g. the user's history).
std::vector<std::vector<ScoredItem>> top_k_items(const torch::Tensor& scores, std::int64_t k,
                                                 const std::vector<std::span<const std::int32_t>>* exclude = nullptr);

}  // namespace tessera::infer
