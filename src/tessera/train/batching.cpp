#include "tessera/train/batching.h"

#include <algorithm>

#include "tessera/data/split.h"

namespace tessera::train {

TrainingBatch make_training_batch(const data::Dataset& dataset, std::span<const std::int64_t> users, std::int64_t max_len) {
  std::vector<std::span<const std::int32_t>> sequences;
  sequences.reserve(users.size());
  std::int64_t longest = 1;
  for (auto u : users) {
    auto seq = data::training_sequence(dataset, u);
    sequences.push_back(seq);
    longest = std::max<std::int64_t>(longest, static_cast<std::int64_t>(seq.size()) - 1);
  }
  const std::int64_t B = static_cast<std::int64_t>(users.size());
  const std::int64_t L = std::min(max_len, longest);
  TrainingBatch batch;
  batch.inputs = torch::zeros({B, L}, torch::kLong);
  batch.targets = torch::zeros({B, L}, torch::kLong);
  auto* in = batch.inputs.data_ptr<std::int64_t>();
  auto* out = batch.targets.data_ptr<std::int64_t>();
  for (std::int64_t b = 0; b < B; ++b) {
    const auto& seq = sequences[b];
    if (seq.size() < 2) continue;
    const std::int64_t n = std::min<std::int64_t>(L, static_cast<std::int64_t>(seq.size()) - 1);
    const std::int64_t first = static_cast<std::int64_t>(seq.size()) - 1 - n;  // first input index used
    for (std::int64_t j = 0; j < n; ++j) {
      in[b * L + (L - n) + j] = seq[first + j];
      out[b * L + (L - n) + j] = seq[first + j + 1];
    }
    batch.num_targets += n;
  }
  return batch;
}

torch::Tensor make_history_batch(const std::vector<std::span<const std::int32_t>>& histories, std::int64_t max_len) {
  std::int64_t longest = 1;
  for (const auto& h : histories) longest = std::max<std::int64_t>(longest, static_cast<std::int64_t>(h.size()));
  const std::int64_t B = static_cast<std::int64_t>(histories.size());
  const std::int64_t L = std::min(max_len, longest);
  auto batch = torch::zeros({B, L}, torch::kLong);
  auto* p = batch.data_ptr<std::int64_t>();
  for (std::int64_t b = 0; b < B; ++b) {
    const auto& h = histories[b];
    const std::int64_t n = std::min<std::int64_t>(L, static_cast<std::int64_t>(h.size()));
    const std::int64_t first = static_cast<std::int64_t>(h.size()) - n;
    for (std::int64_t j = 0; j < n; ++j) p[b * L + (L - n) + j] = h[first + j];
  }
  return batch;
}

}  // namespace tessera::train
