#pragma once
// HSTU's attention over packed (jagged) sequences: causal, pointwise (no softmax), with a
// learned bias per relative position and, optionally, per time bucket. Sequences of different
// lengths are concatenated without padding, so the cost is sum over sequences of n^2 / 2 rather
// than B * L^2.
//
// Layout: B sequences packed into T rows; sequence s is rows offsets[s] .. offsets[s+1] in time
// order (oldest first). For a query row i and a key row j of the same sequence with j <= i:
//   a_ij = silu(q_i . k_j + position_bias[i - j] + time_bias[bucket(t_i - t_j)]) / normalizer
//   out_i = sum_j a_ij v_j
// Rows never attend across sequences, and never to later rows. The time term is present only
// when a TimeBias is given.

#include <cstdint>

#include <torch/torch.h>

namespace tessera::models {

// The time bucket of a gap of dt seconds: log-spaced, floor(ln(max(dt, 1)) / 0.301) (each bucket
// spans a factor of e^0.301 = 1.35, as in HSTU's public code), capped at num_buckets - 1.
// dt = 0 and 1 s fall in bucket 0; one day is bucket 37, one year 57.
std::int64_t time_bucket(std::int64_t dt, std::int64_t num_buckets);

// Time buckets of every causal (query, key) pair of packed sequences: for sequence s of n rows,
// an n x n row-major block (query i, key j; entries with j > i are unused) holding
// time_bucket(t_i - t_j), blocks in sequence order. timestamps: [T] int64 (seconds, non-decreasing
// within a sequence); offsets as below. Returns uint8 [sum of n^2]; num_buckets <= 256.
torch::Tensor packed_pair_time_buckets(const torch::Tensor& timestamps, const torch::Tensor& offsets, std::int64_t num_buckets);

// The same for left-padded [B, L] timestamps (each row's real entries are its last ones, as
// `valid` says): int64 [B, L, L], entry (b, i, j) = time_bucket(t_bi - t_bj), 0 where either
// row is padding or j > i.
torch::Tensor padded_pair_time_buckets(const torch::Tensor& timestamps, const torch::Tensor& valid, std::int64_t num_buckets);

// The optional time term: the pair buckets of the batch (packed_pair_time_buckets) and the
// learned bias per bucket [num_buckets] float.
struct TimeBias {
  torch::Tensor pair_buckets;
  torch::Tensor bias;
};

// q, k: [T, H, d_qk] float; v: [T, H, d_v] float; offsets: [B + 1] int64, offsets[0] = 0,
// offsets[B] = T, non-decreasing, no sequence longer than position_bias.size(0);
// position_bias: [max_len] float. Returns [T, H, d_v] float.
// Differentiable with respect to q, k, v, position_bias and time->bias (hand-written backward,
// parallel over (sequence, head) pairs; the forward keeps the pre-activation scores for backward).
torch::Tensor jagged_causal_pointwise_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                                const torch::Tensor& offsets, const torch::Tensor& position_bias,
                                                double normalizer, const TimeBias* time = nullptr);

// The same attention on left-padded batches with ordinary tensor ops (autograd), for the padded
// path and as the reference in tests. q, k: [B, H, L, d_qk]; v: [B, H, L, d_v];
// valid: [B, L] bool (false = padding); time, if given, holds padded_pair_time_buckets [B, L, L].
// Returns [B, H, L, d_v]; padding rows are 0.
torch::Tensor padded_causal_pointwise_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                                const torch::Tensor& valid, const torch::Tensor& position_bias,
                                                double normalizer, const TimeBias* time = nullptr);

}  // namespace tessera::models
