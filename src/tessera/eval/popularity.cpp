#include "tessera/eval/popularity.h"

#include <ATen/ATen.h>

#include "tessera/data/split.h"

namespace tessera::eval {

std::vector<std::int64_t> training_item_counts(const data::Dataset& dataset) {
  std::vector<std::int64_t> counts(static_cast<std::size_t>(dataset.num_items) + 1, 0);
  for (std::int64_t u = 0; u < dataset.num_users(); ++u) {
    for (std::int32_t item : data::training_sequence(dataset, u)) ++counts[static_cast<std::size_t>(item)];
  }
  counts[0] = 0;
  return counts;
}

PopularityScorer::PopularityScorer(const data::Dataset& dataset) {
  const std::vector<std::int64_t> counts = training_item_counts(dataset);
  counts_ = at::tensor(counts, at::TensorOptions().dtype(at::kLong)).to(at::kFloat).unsqueeze(0);
}

at::Tensor PopularityScorer::score(const std::vector<std::span<const std::int32_t>>& histories) {
  return counts_.expand({static_cast<std::int64_t>(histories.size()), counts_.size(1)}).clone();
}

}  // namespace tessera::eval
