#pragma once
// HSTU's attention over packed (jagged) sequences: causal, pointwise (no softmax), with a
// learned bias per relative position. Sequences of different lengths are concatenated without
// padding, so the cost is sum over sequences of n^2 / 2 rather than B * L^2.
//
// Layout: B sequences packed into T rows; sequence s is rows offsets[s] .. offsets[s+1] in time
// order (oldest first). For a query row i and a key row j of the same sequence with j <= i:
//   a_ij = silu(q_i . k_j + position_bias[i - j]) / normalizer
//   out_i = sum_j a_ij v_j
// Rows never attend across sequences, and never to later rows.

#include <cstdint>

#include <torch/torch.h>

namespace tessera::models {

// q, k: [T, H, d_qk] float; v: [T, H, d_v] float; offsets: [B + 1] int64, offsets[0] = 0,
// offsets[B] = T, non-decreasing, no sequence longer than position_bias.size(0);
// position_bias: [max_len] float. Returns [T, H, d_v] float.
// Differentiable with respect to q, k, v and position_bias (hand-written backward, parallel
// over (sequence, head) pairs; the forward keeps the pre-activation scores for backward).
torch::Tensor jagged_causal_pointwise_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                                const torch::Tensor& offsets, const torch::Tensor& position_bias,
                                                double normalizer);

// The same attention on left-padded batches with ordinary tensor ops (autograd), for the padded
// path and as the reference in tests. q, k: [B, H, L, d_qk]; v: [B, H, L, d_v];
// valid: [B, L] bool (false = padding). Returns [B, H, L, d_v]; padding rows are 0.
torch::Tensor padded_causal_pointwise_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                                const torch::Tensor& valid, const torch::Tensor& position_bias,
                                                double normalizer);

}  // namespace tessera::models
