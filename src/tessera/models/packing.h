#pragma once
// Conversions between the two batch layouts of item-ID sequence models:
//   padded: [B, L, ...], left-padded, each row's most recent item in column L-1 (sequence_model.h);
//   packed: [T, ...], the B sequences concatenated without padding, each in time order, with
//           offsets [B + 1] int64 (sequence s is rows offsets[s] .. offsets[s+1]).
// Both conversions are differentiable (index_select / index_copy).

#include <cstdint>

#include <torch/torch.h>

namespace tessera::models {

// For each packed row, its index in its own sequence counted from the oldest item (from_start)
// or its distance from the most recent one (0 = most recent): [T] int64.
torch::Tensor sequence_positions(const torch::Tensor& offsets, bool from_start);

// For each packed row, its flat index b * L + column in the left-padded [B, L] layout: [T] int64.
// Throws if a sequence is longer than L.
torch::Tensor padded_index(const torch::Tensor& offsets, std::int64_t L);

// packed [T, ...] -> padded [B, L, ...] with zeros in the padding.
torch::Tensor pad_packed(const torch::Tensor& packed, const torch::Tensor& offsets, std::int64_t L);

// padded [B, L, ...] -> packed [T, ...] (the real rows only).
torch::Tensor unpad(const torch::Tensor& padded, const torch::Tensor& offsets);

}  // namespace tessera::models
