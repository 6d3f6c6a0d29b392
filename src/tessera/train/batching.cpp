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

namespace {

void check_timestamps(const std::vector<std::span<const std::int32_t>>& sequences, const Timestamps* timestamps) {
  if (timestamps == nullptr) return;
  TORCH_CHECK(timestamps->size() == sequences.size(), "batching: ", timestamps->size(), " timestamp lists for ", sequences.size(), " sequences");
  for (std::size_t b = 0; b < sequences.size(); ++b) {
    TORCH_CHECK((*timestamps)[b].size() == sequences[b].size(), "batching: sequence ", b, " has ", sequences[b].size(), " items but ",
                (*timestamps)[b].size(), " timestamps");
  }
}

// Left-pads the most recent min(L, size) entries of each list into a [B, L] int64 tensor.
template <typename T>
torch::Tensor left_pad(const std::vector<std::span<const T>>& lists, std::int64_t max_len) {
  std::int64_t longest = 1;
  for (const auto& h : lists) longest = std::max<std::int64_t>(longest, static_cast<std::int64_t>(h.size()));
  const std::int64_t B = static_cast<std::int64_t>(lists.size());
  const std::int64_t L = std::min(max_len, longest);
  auto batch = torch::zeros({B, L}, torch::kLong);
  auto* p = batch.data_ptr<std::int64_t>();
  for (std::int64_t b = 0; b < B; ++b) {
    const auto& h = lists[b];
    const std::int64_t n = std::min<std::int64_t>(L, static_cast<std::int64_t>(h.size()));
    const std::int64_t first = static_cast<std::int64_t>(h.size()) - n;
    for (std::int64_t j = 0; j < n; ++j) p[b * L + (L - n) + j] = h[first + j];
  }
  return batch;
}

}  // namespace

TrainingBatch make_training_batch(const std::vector<std::span<const std::int32_t>>& sequences, std::int64_t max_len,
                                  const Timestamps* timestamps) {
  check_timestamps(sequences, timestamps);
  std::int64_t longest = 1;
  for (const auto& seq : sequences) longest = std::max<std::int64_t>(longest, static_cast<std::int64_t>(seq.size()) - 1);
  const std::int64_t B = static_cast<std::int64_t>(sequences.size());
  const std::int64_t L = std::min(max_len, longest);
  TrainingBatch batch;
  batch.inputs = torch::zeros({B, L}, torch::kLong);
  batch.targets = torch::zeros({B, L}, torch::kLong);
  if (timestamps) batch.timestamps = torch::zeros({B, L}, torch::kLong);
  auto* in = batch.inputs.data_ptr<std::int64_t>();
  auto* out = batch.targets.data_ptr<std::int64_t>();
  auto* time = timestamps ? batch.timestamps.data_ptr<std::int64_t>() : nullptr;
  for (std::int64_t b = 0; b < B; ++b) {
    const auto& seq = sequences[b];
    if (seq.size() < 2) continue;
    const std::int64_t n = std::min<std::int64_t>(L, static_cast<std::int64_t>(seq.size()) - 1);
    const std::int64_t first = static_cast<std::int64_t>(seq.size()) - 1 - n;  // first input index used
    for (std::int64_t j = 0; j < n; ++j) {
      in[b * L + (L - n) + j] = seq[first + j];
      out[b * L + (L - n) + j] = seq[first + j + 1];
      if (time) time[b * L + (L - n) + j] = (*timestamps)[b][first + j];
    }
    batch.num_targets += n;
  }
  return batch;
}

PackedTrainingBatch make_packed_training_batch(const std::vector<std::span<const std::int32_t>>& sequences, std::int64_t max_len,
                                               const Timestamps* timestamps) {
  check_timestamps(sequences, timestamps);
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
  if (timestamps) batch.timestamps = torch::empty({T}, torch::kLong);
  auto* in = batch.inputs.data_ptr<std::int64_t>();
  auto* out = batch.targets.data_ptr<std::int64_t>();
  auto* time = timestamps ? batch.timestamps.data_ptr<std::int64_t>() : nullptr;
  for (std::int64_t b = 0; b < B; ++b) {
    const auto& seq = sequences[b];
    const std::int64_t n = off[b + 1] - off[b];
    const std::int64_t first = static_cast<std::int64_t>(seq.size()) - 1 - n;
    for (std::int64_t j = 0; j < n; ++j) {
      in[off[b] + j] = seq[first + j];
      out[off[b] + j] = seq[first + j + 1];
      if (time) time[off[b] + j] = (*timestamps)[b][first + j];
    }
  }
  batch.num_targets = T;
  batch.padded_tokens = B * std::min(max_len, longest);
  return batch;
}

std::size_t random_window_start(std::size_t length, std::int64_t max_len, std::mt19937_64& rng) {
  const auto window = static_cast<std::size_t>(max_len + 1);
  if (length <= window) return 0;
  return std::uniform_int_distribution<std::size_t>(0, length - window)(rng);
}

std::vector<std::size_t> stochastic_length_positions(std::size_t length, std::int64_t max_len, double alpha, std::mt19937_64& rng) {
  const auto n = std::min<std::int64_t>(static_cast<std::int64_t>(length), max_len + 1);
  const auto first = length - static_cast<std::size_t>(n);  // the last n items are the ones the model would see
  const auto keep = std::max<std::int64_t>(2, static_cast<std::int64_t>(std::pow(static_cast<double>(max_len), alpha / 2.0)));
  std::vector<std::size_t> positions(static_cast<std::size_t>(n));
  std::iota(positions.begin(), positions.end(), first);
  if (n <= keep) return positions;
  const double p_cut = 1.0 - std::pow(static_cast<double>(max_len), alpha) / (static_cast<double>(n) * static_cast<double>(n));
  if (std::uniform_real_distribution<double>(0.0, 1.0)(rng) >= p_cut) return positions;
  std::shuffle(positions.begin(), positions.end(), rng);
  positions.resize(static_cast<std::size_t>(keep));
  std::sort(positions.begin(), positions.end());
  return positions;
}

std::vector<std::int32_t> stochastic_length(std::span<const std::int32_t> sequence, std::int64_t max_len, double alpha,
                                            std::mt19937_64& rng) {
  std::vector<std::int32_t> out;
  for (auto i : stochastic_length_positions(sequence.size(), max_len, alpha, rng)) out.push_back(sequence[i]);
  return out;
}

torch::Tensor make_history_batch(const std::vector<std::span<const std::int32_t>>& histories, std::int64_t max_len) {
  return left_pad(histories, max_len);
}

torch::Tensor make_history_batch(const Timestamps& timestamps, std::int64_t max_len) { return left_pad(timestamps, max_len); }

}  // namespace tessera::train
