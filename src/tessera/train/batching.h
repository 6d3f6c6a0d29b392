#pragma once
// Turns users' item sequences into left-padded int64 tensors for the sequence models
// (see models/sequence_model.h for the layout: 0 = padding, most recent item in the last column).

#include <cstdint>
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
  std::int64_t num_targets = 0;  // real (non-zero) targets, i.e. tokens that carry a loss
};
TrainingBatch make_training_batch(const data::Dataset& dataset, std::span<const std::int64_t> users, std::int64_t max_len);

// Left-padded histories for inference: [B, L] int64 with L = min(max_len, longest history);
// longer histories keep their most recent max_len items.
torch::Tensor make_history_batch(const std::vector<std::span<const std::int32_t>>& histories, std::int64_t max_len);

}  // namespace tessera::train
