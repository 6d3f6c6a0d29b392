#include "tessera/train/batching.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "tessera/data/split.h"

namespace tessera::train {

TrainingBatch make_training_batch(const data::Dataset& dataset, std::span<const std::int64_t> users, std::int64_t max_len) {
  std::vector<std::span<const std::int32_t>> sequences;
  sequences.reserve(users.size());
  for (auto u : users) sequences.push_back(data::training_sequence(dataset, u));
  return make_training_batch(sequences, max_len);
}

TrainingBatch make_training_batch(const std::vector<std::span<const std::int32_t>>& sequences, std::int64_t max_len) {
  std::int64_t longest = 1;
  for (const auto& seq : sequences) longest = std::max<std::int64_t>(longest, static_cast<std::int64_t>(seq.size()) - 1);
  const std::int64_t B = static_cast<std::int64_t>(sequences.size());
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

PackedTrainingBatch make_packed_training_batch(const std::vector<std::span<const std::int32_t>>& sequences, std::int64_t max_len) {
  const std::int64_t B = static_cast<std::int64_t>(sequences.size());
  PackedTrainingBatch batch;
  batch.offsets = torch::empty({B + 1}, torch::kLong);
  auto* off = batch.offsets.data_ptr<std::int64_t>();
  off[0] = 0;
  std::int64_t longest = 1;
  for (std::int64_t b = 0; b < B; ++b) {
    const std::int64_t n = std::clamp<std::int64_t>(static_cast<std::int64_t>(sequences[b].size()) - 1, 0, max_len);
    off[b + 1] = off[b] + n;
    longest = std::max(longest, n);
  }
  const std::int64_t T = off[B];
  batch.inputs = torch::empty({T}, torch::kLong);
  batch.targets = torch::empty({T}, torch::kLong);
  auto* in = batch.inputs.data_ptr<std::int64_t>();
  auto* out = batch.targets.data_ptr<std::int64_t>();
  for (std::int64_t b = 0; b < B; ++b) {
    const auto& seq = sequences[b];
    const std::int64_t n = off[b + 1] - off[b];
    const std::int64_t first = static_cast<std::int64_t>(seq.size()) - 1 - n;
    for (std::int64_t j = 0; j < n; ++j) {
      in[off[b] + j] = seq[first + j];
      out[off[b] + j] = seq[first + j + 1];
    }
  }
  batch.num_targets = T;
  batch.padded_tokens = B * std::min(max_len, longest);
  return batch;
}

std::vector<std::int32_t> stochastic_length(std::span<const std::int32_t> sequence, std::int64_t max_len, double alpha,
                                            std::mt19937_64& rng) {
  const auto n = std::min<std::int64_t>(static_cast<std::int64_t>(sequence.size()), max_len + 1);
  auto recent = sequence.subspan(sequence.size() - static_cast<std::size_t>(n));
  const auto keep = std::max<std::int64_t>(2, static_cast<std::int64_t>(std::pow(static_cast<double>(max_len), alpha / 2.0)));
  std::vector<std::int32_t> out(recent.begin(), recent.end());
  if (n <= keep) return out;
  const double p_cut = 1.0 - std::pow(static_cast<double>(max_len), alpha) / (static_cast<double>(n) * static_cast<double>(n));
  if (std::uniform_real_distribution<double>(0.0, 1.0)(rng) >= p_cut) return out;
  std::vector<std::int64_t> index(static_cast<std::size_t>(n));
  std::iota(index.begin(), index.end(), 0);
  std::shuffle(index.begin(), index.end(), rng);
  index.resize(static_cast<std::size_t>(keep));
  std::sort(index.begin(), index.end());
  out.clear();
  for (auto i : index) out.push_back(recent[static_cast<std::size_t>(i)]);
  return out;
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
