#pragma once
// Next-item losses. The item-ID losses score a tied item table and take only the positions that
// have a target (padding positions are dropped before the loss), so their cost scales with real
// tokens; code_cross_entropy is TIGER's loss over the codes of the next item's semantic ID.

#include <torch/torch.h>

#include <vector>

namespace tessera::train {

// Mean softmax cross-entropy over ALL items, computed in row chunks without ever materialising
// the [N, num_items] logits matrix for the whole batch or keeping it for backward: each chunk's
// logits are turned into gradients right away (softmax minus one-hot), and backward only scales
// the stored gradients. Row 0 of `item_table` (padding) is never a candidate.
//   hidden:     [N, d] float   (requires grad)
//   item_table: [V + 1, d] float (requires grad)
//   targets:    [N] int64 in 1..V
// Returns a scalar. chunk_rows = 0 picks a chunk of about 1M logits (4 MiB).
torch::Tensor full_softmax_cross_entropy(const torch::Tensor& hidden, const torch::Tensor& item_table,
                                         const torch::Tensor& targets, std::int64_t chunk_rows = 0);

// Sampled softmax with negatives drawn for every row (position), as HSTU's public setup does:
// row r's softmax runs over its target and negatives[r] (accidental hits removed), every logit
// corrected by minus log_expected[id] (logQ). Computed like full_softmax_cross_entropy, in row
// chunks of all logits that are turned straight into gradients, so it costs as much as the full
// softmax but never holds an [N, M, d] block of gathered negatives.
//   negatives:    [N, M] int64 item ids
//   log_expected: [V + 1] float, log of each item's expected number of draws per row
torch::Tensor position_sampled_softmax_cross_entropy(const torch::Tensor& hidden, const torch::Tensor& item_table,
                                                     const torch::Tensor& targets, const torch::Tensor& negatives,
                                                     const torch::Tensor& log_expected, std::int64_t chunk_rows = 0);

// Sampled softmax: the target against `negatives` shared by every row, with logQ correction
// (log of each candidate's sampling probability subtracted from its logit) and accidental hits
// (a negative equal to the row's target) removed.
//   negatives:      [M] int64 item ids
//   log_q_negative: [M] float, log sampling probability of each negative
//   log_q_target:   [N] float, log sampling probability of each row's target
torch::Tensor sampled_softmax_cross_entropy(const torch::Tensor& hidden, const torch::Tensor& item_table,
                                            const torch::Tensor& targets, const torch::Tensor& negatives,
                                            const torch::Tensor& log_q_negative, const torch::Tensor& log_q_target);

// Sampled softmax where each sequence has its own catalogue negatives (as HSTU's public setup
// draws negatives for each position rather than once per batch), plus negatives shared by every
// row. Rows are grouped by sequence: sequence b owns rows offsets[b] .. offsets[b+1].
//   offsets:          [B + 1] int64
//   seq_negatives:    [B, M] int64 item ids (M may be 0)
//   shared_negatives: [S] int64 item ids (S may be 0)
//   log_expected:     [V + 1] float, log of each item's expected number of draws (the logQ
//                     correction, subtracted from targets and negatives alike)
// Accidental hits are removed as above.
torch::Tensor grouped_sampled_softmax_cross_entropy(const torch::Tensor& hidden, const torch::Tensor& item_table,
                                                    const torch::Tensor& targets, const torch::Tensor& offsets,
                                                    const torch::Tensor& seq_negatives, const torch::Tensor& shared_negatives,
                                                    const torch::Tensor& log_expected);

// TIGER's code loss: the mean over levels of each level's softmax cross-entropy over its codebook,
// with label smoothing eps: the target of each level is (1 - eps) on its code and eps spread
// evenly over all K codes of the level (eps = 0: plain cross-entropy).
//   level_logits: L tensors [N, K] float
//   targets:      [N, L] int64 codes in 0..K-1
torch::Tensor code_cross_entropy(const std::vector<torch::Tensor>& level_logits, const torch::Tensor& targets,
                                 double label_smoothing = 0.0);

// Log-likelihood of each row's whole semantic ID: the sum over levels of log_softmax(logits)[code].
//   level_logits: L tensors [N, K] float;  codes: [N, L] int64.  Returns [N].
torch::Tensor code_log_likelihood(const std::vector<torch::Tensor>& level_logits, const torch::Tensor& codes);

// Pairwise logistic loss that ranks each row's positive above its negatives: the mean of
// softplus(negative - positive) over the pairs with valid = true (0 when there are none).
//   positive: [B] float;  negative, valid: [B, M] float and bool.
torch::Tensor ranked_above_loss(const torch::Tensor& positive, const torch::Tensor& negative, const torch::Tensor& valid);

// Unlikelihood loss that pushes down negatives the model already finds likely: the mean of
// -log(1 - p) over the valid entries, with p = exp(log_likelihood) (0 when none is valid). It
// is about p for unlikely items and grows without bound as p nears 1.
//   log_likelihood: [B, M] float (<= 0);  valid: [B, M] bool.
torch::Tensor unlikelihood_loss(const torch::Tensor& log_likelihood, const torch::Tensor& valid);

}  // namespace tessera::train
