#pragma once
// Turns users' item sequences into left-padded int64 tensors for the sequence models
// (see models/sequence_model.h for the layout: 0 = padding, most recent item in the last column).

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include <torch/torch.h>

#include "tessera/data/dataset.h"

namespace tessera::train {

// Next-item training batch for a set of users, built from each user's training sequence
// (data::training_sequence). For a sequence s, inputs are s[0 .. n-1) and targets s[1 .. n),
// both cut to the last max_len positions.
struct TrainingBatch {
  torch::Tensor inputs;   // [B, L] int64, L = min(max_len, longest input in the batch)
  torch::Tensor targets;  // [B, L] int64, 0 where there is no target (padding)
  torch::Tensor timestamps;  // [B, L] int64, the inputs' timestamps (0 in padding); undefined without timestamps
  std::int64_t num_targets = 0;  // real (non-zero) targets, i.e. tokens that carry a loss
};
TrainingBatch make_training_batch(const data::Dataset& dataset, std::span<const std::int64_t> users, std::int64_t max_len);
// The same from the sequences themselves (one per example, each in time order), with their
// timestamps when `timestamps` is given (one span per sequence, of the same length).
using Timestamps = std::vector<std::span<const std::int64_t>>;
TrainingBatch make_training_batch(const std::vector<std::span<const std::int32_t>>& sequences, std::int64_t max_len,
                                  const Timestamps* timestamps = nullptr);

// The packed (jagged) form of the same batch: no padding; example b's inputs are rows
// offsets[b] .. offsets[b+1] of `inputs`, in time order, and targets[t] is the item after
// inputs[t] (every row carries a target).
struct PackedTrainingBatch {
  torch::Tensor inputs;   // [T] int64
  torch::Tensor targets;  // [T] int64, all in 1..num_items
  torch::Tensor offsets;  // [B + 1] int64
  torch::Tensor timestamps;  // [T] int64, the inputs' timestamps; undefined without timestamps
  std::int64_t num_targets = 0;    // = T
  std::int64_t padded_tokens = 0;  // B * L of the padded batch of the same sequences
};
PackedTrainingBatch make_packed_training_batch(const std::vector<std::span<const std::int32_t>>& sequences, std::int64_t max_len,
                                               const Timestamps* timestamps = nullptr);

// Where a training window of max_len + 1 items starts in a sequence of `length` items: 0 when the
// sequence fits; otherwise uniform over every start, so over many draws every item is a target.
// Deterministic in `rng` (one draw when the sequence is longer than the window, none otherwise).
std::size_t random_window_start(std::size_t length, std::int64_t max_len, std::mt19937_64& rng);

// HSTU's stochastic length (Zhai et al. 2024, section 3.3): a training sequence of n items
// (counting only the last max_len + 1, the ones the model would see) with
// n > m = max_len^(alpha/2) is replaced, with probability 1 - max_len^alpha / n^2, by a uniformly
// random subset of m of those items in their original order; otherwise the last max_len + 1
// items are returned unchanged. Deterministic in `rng`. alpha in (0, 2].
std::vector<std::int32_t> stochastic_length(std::span<const std::int32_t> sequence, std::int64_t max_len, double alpha,
                                            std::mt19937_64& rng);
// The positions (indices into a sequence of `length` items, increasing) that stochastic_length
// keeps; the same draws from `rng`, so items and their timestamps can be cut alike.
std::vector<std::size_t> stochastic_length_positions(std::size_t length, std::int64_t max_len, double alpha, std::mt19937_64& rng);

// Left-padded histories for inference: [B, L] int64 with L = min(max_len, longest history);
// longer histories keep their most recent max_len items.
torch::Tensor make_history_batch(const std::vector<std::span<const std::int32_t>>& histories, std::int64_t max_len);
// The histories' timestamps in the same layout (0 in padding).
torch::Tensor make_history_batch(const Timestamps& timestamps, std::int64_t max_len);

}  // namespace tessera::train
