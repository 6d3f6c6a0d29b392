#pragma once
// Ranking metrics of one evaluation case, computed from the rank of its target.
//
// Every model family reduces to the same thing: where did the one held-out target land?
// Score-based models (SASRec, HSTU) get a rank from ranking.h::target_ranks(); generative ones
// (TIGER) from ranking.h::ranks_from_lists(). A rank is 0-based (0 = recommended first);
// kNotRanked means the target did not appear at all (e.g. it was not in a generated list).
// With one target per user, Recall@K equals HR@K; results report both names.
//
// All functions here are pure and thread-safe.

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace tessera::eval {

// Rank of a target that is missing from a ranked list. Counts as a miss at every cutoff.
inline constexpr std::int64_t kNotRanked = std::numeric_limits<std::int64_t>::max();

// The cutoffs K reported unless a caller chooses others: {1, 5, 10, 20, 50, 200}. They cover
// the HSTU protocol (10, 50, 200) and the TIGER protocol (5, 10).
std::vector<int> default_cutoffs();

// 1 if rank < k, else 0. Also Recall@K, since there is one target.
double hr_at_k(std::int64_t rank, int k);

// 1 / log2(rank + 2) if rank < k, else 0 (one relevant item, so the ideal DCG is 1).
double ndcg_at_k(std::int64_t rank, int k);

// 1 / (rank + 1); 0 if the target was not ranked. Its mean over users is MRR (no cutoff).
double reciprocal_rank(std::int64_t rank);

// Metric names, in display order, for the given cutoffs: "hr@K" for every K, then "ndcg@K" for
// every K, then "mrr". Recall aliases ("recall@K") are not in this list; evaluator adds them.
std::vector<std::string> metric_names(std::span<const int> cutoffs);

// Per-user values of every metric of metric_names(cutoffs): result[m][u] is metric m of user u,
// each row of size ranks.size(). Throws tessera::Error if a cutoff is < 1 or a rank is negative.
std::vector<std::vector<double>> per_user_metrics(std::span<const std::int64_t> ranks, std::span<const int> cutoffs);

}  // namespace tessera::eval
