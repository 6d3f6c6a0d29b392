#pragma once
// From model output to the rank of each user's target over the full item catalogue.
//
// Score matrices follow one layout everywhere in tessera: scores [B, num_items + 1], any
// floating dtype, row b belongs to user b of the batch, column i is item i, and column 0
// (padding) is never ranked. Higher score = recommended earlier.
//
// Ties are broken pessimistically: a target's rank is the number of *other* real items whose
// score is >= the target's score. A model that gives every item the same score therefore gets
// rank num_items - 1 (last), never 0; without this, a degenerate model would look perfect.
// NaN scores are treated as worse for the target, too: a NaN item outranks the target, and a
// NaN target is ranked last.
//
// Functions here are thread-safe; exclude_history_() modifies its argument.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <span>
#include <vector>

#include "tessera/data/split.h"

namespace tessera::eval {

// scores: [B, num_items + 1] floating, column 0 = padding; targets: [B] integer item IDs in
// 1..num_items. Returns [B] int64 ranks (0-based, pessimistic ties as described above), on the
// device of `scores`. Throws tessera::Error on bad shapes, dtypes or target IDs.
at::Tensor target_ranks(const at::Tensor& scores, const at::Tensor& targets);

// History exclusion ("masking"): sets scores[b, i] = -inf for every item i in histories[b],
// except targets[b] itself, which is never masked even if it occurs in the history. Masked items
// then can never outrank the target. This is the protocol of HSTU's public evaluation and of
// S3-Rec-style full ranking (see shared/data/README.md), off by default in EvalOptions.
// scores: [B, num_items + 1] floating, modified in place (must not be a broadcast view);
// histories: B item-ID sequences; targets: [B] integer item IDs.
void exclude_history_(at::Tensor& scores, const std::vector<std::span<const std::int32_t>>& histories,
                      const at::Tensor& targets);

// Ranks for models that produce a ranked list instead of scores (e.g. TIGER's beam search).
// lists[b] is user b's recommendation list, best first; examples[b] gives the user's target and
// history. rank = number of distinct real items (ID > 0) listed before the first occurrence of
// the target; kNotRanked if the target is not in the list. With exclude_history, items of the
// user's history (other than the target) are skipped, as if they had been masked before the
// list was made. Since a list of length L can only place targets at ranks < L, metrics at
// cutoffs K > L are lower bounds. Throws tessera::Error if the sizes differ.
std::vector<std::int64_t> ranks_from_lists(std::span<const std::vector<std::int32_t>> lists,
                                           std::span<const data::EvalExample> examples, bool exclude_history = false);

}  // namespace tessera::eval
