#pragma once
// Which validation result the trainer keeps as best.ckpt (and counts toward early stopping).
//
// Validation runs on a sample of users (config.eval_users), and a metric such as Recall@10 on
// 2,000 users moves in steps of 1/2,000, so two epochs often tie. A tie says nothing about which
// model is better; the task's tie-break metric (NDCG@10 for TIGER, which also weighs where the
// hits rank) then decides. Without a tie-break metric, or when that ties too, the earlier epoch
// stays, as before.

#include <limits>

namespace tessera::train {

struct ValidationScore {
  double metric = -1;  // what early stopping maximises
  double tiebreak = -std::numeric_limits<double>::infinity();  // decides equal metrics; -inf = none
};

// True when `candidate` should replace `best`: a higher metric, or the same metric and a higher
// tie-break value.
inline bool improves_on(const ValidationScore& candidate, const ValidationScore& best) {
  if (candidate.metric != best.metric) return candidate.metric > best.metric;
  return candidate.tiebreak > best.tiebreak;
}

}  // namespace tessera::train
