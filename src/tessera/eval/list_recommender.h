#pragma once
// ListRecommender: the evaluation interface of models that produce a ranked list of items
// rather than a score for every item, such as TIGER's constrained beam search. evaluate_lists()
// (evaluator.h) turns the lists into ranks with ranking.h::ranks_from_lists, so both families
// end in the same EvalResult and the same table.
//
// A ListRecommender need not be thread-safe; evaluation calls it from one thread.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tessera::eval {

class ListRecommender {
 public:
  virtual ~ListRecommender() = default;

  virtual std::string name() const = 0;

  // Longest list recommend() returns (e.g. the beam width): metrics at cutoffs above it are
  // lower bounds.
  virtual std::int64_t max_list_length() const = 0;

  // users: B dataset user IDs (models may ignore them); histories: B item-ID sequences in time
  // order, IDs in 1..num_items, non-empty, valid only during the call. Returns B lists of
  // distinct item IDs, best first. With exclude_history, no list holds an item of its user's
  // history: the recommender leaves them out while it builds the list, so the list keeps its
  // full length (the evaluation's mask for score-based models, ranking.h::exclude_history_).
  // Called under at::NoGradGuard.
  virtual std::vector<std::vector<std::int32_t>> recommend(std::span<const std::int64_t> users,
                                                           const std::vector<std::span<const std::int32_t>>& histories,
                                                           bool exclude_history) = 0;
};

}  // namespace tessera::eval
