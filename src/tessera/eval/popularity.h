#pragma once
// The popularity baseline: recommends the items with the most training interactions, the same
// list for every user. Any learned model has to beat it; on long-tail data it is surprisingly
// strong.
//
// Counts come from every user's training sequence only (data/split.h::training_sequence, i.e.
// without the validation and test items), so neither split's targets leak into the counts.
// For the test split this ignores the validation items, which are part of the test histories;
// the difference is one interaction per user and keeps one set of counts for both splits.

#include <cstdint>
#include <vector>

#include "tessera/data/dataset.h"
#include "tessera/eval/scorer.h"

namespace tessera::eval {

// counts[i] = number of interactions with item i over all training sequences; size
// num_items + 1, counts[0] = 0.
std::vector<std::int64_t> training_item_counts(const data::Dataset& dataset);

// Scores every item by its training count (as float), whatever the history. Items with equal
// counts tie, and ties count against the target (ranking.h). Keeps a copy of the counts, so the
// dataset need not outlive it.
class PopularityScorer : public Scorer {
 public:
  explicit PopularityScorer(const data::Dataset& dataset);

  std::string name() const override { return "popularity"; }
  // Returns [B, num_items + 1] float, every row equal to the counts.
  at::Tensor score(const std::vector<std::span<const std::int32_t>>& histories) override;

 private:
  at::Tensor counts_;  // [1, num_items + 1] float
};

}  // namespace tessera::eval
