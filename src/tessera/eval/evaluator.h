#pragma once
// Full-catalogue leave-last-out evaluation, shared by every model family.
//
// For each user with at least 3 items (data/split.h), the model sees the history and ranks all
// num_items items; the metrics (metrics.h) of the held-out target's rank are averaged over users
// and given 95% bootstrap intervals over users (bootstrap.h). Score-based models go through
// evaluate() with a Scorer; models that produce ranked lists compute ranks themselves
// (ranking.h::ranks_from_lists) over select_examples() and call evaluate_ranks(). Both paths
// produce the same EvalResult, which report.h prints and writes.
//
// Metric names (keys of EvalResult::metrics): "hr@K", "recall@K" (equal to hr@K: one target per
// user), "ndcg@K" for every cutoff K, and "mrr".

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "tessera/data/dataset.h"
#include "tessera/data/split.h"
#include "tessera/eval/bootstrap.h"
#include "tessera/eval/list_recommender.h"
#include "tessera/eval/metrics.h"
#include "tessera/eval/scorer.h"

namespace tessera::eval {

struct EvalOptions {
  data::Split split = data::Split::kTest;
  std::vector<int> cutoffs = default_cutoffs();  // K of hr@K / ndcg@K
  // Mask each user's history items before ranking (ranking.h::exclude_history_). Off by default;
  // HSTU's published ML-1M numbers use it on. Always say which setting a number used.
  bool exclude_history = false;
  int batch_size = 256;          // users per Scorer::score() call
  int bootstrap_samples = 1000;  // resamples for the 95% intervals; 0 = no intervals
  std::uint64_t seed = 0;        // bootstrap seed
  // Evaluate at most this many users (0 = all). The subset is evenly spaced over the eligible
  // users in user order, deterministic and independent of the seed, for quick validation runs.
  std::int64_t max_users = 0;
};

struct EvalResult {
  std::string model;    // Scorer::name()
  std::string dataset;  // Dataset::name
  std::string split;    // "validation" / "test"
  bool exclude_history = false;
  std::int32_t num_items = 0;   // size of the ranked catalogue
  std::int64_t num_users = 0;   // users evaluated
  std::vector<int> cutoffs;
  int bootstrap_samples = 0;
  std::uint64_t seed = 0;
  std::map<std::string, MetricValue> metrics;  // see the key list at the top of this file
  std::vector<std::int64_t> users;             // evaluated users (dataset IDs), in order
  std::vector<std::int64_t> ranks;             // target rank of users[i]; kNotRanked if absent
  double seconds = 0.0;                        // wall time of ranking + metrics (s)
  std::int64_t list_length = 0;                // ranked-list models: longest list; 0 = full ranking
};

// The examples evaluation uses for these options: leave_last_out_examples() of the split,
// thinned to max_users. The histories are views into `dataset`, which must outlive them.
std::vector<data::EvalExample> select_examples(const data::Dataset& dataset, const EvalOptions& options);

// Scores every selected user with `scorer` in batches, ranks targets (pessimistic ties,
// optional history exclusion) and summarizes with evaluate_ranks(). Reports progress.
// Throws tessera::Error if no user is eligible, the options are invalid, or the scorer returns
// a tensor of the wrong shape.
EvalResult evaluate(Scorer& scorer, const data::Dataset& dataset, const EvalOptions& options);

// The same for a model that returns ranked lists: asks `recommender` for each batch of selected
// users and ranks targets with ranking.h::ranks_from_lists (history exclusion skips history
// items in the lists). Sets list_length. Reports progress.
EvalResult evaluate_lists(ListRecommender& recommender, const data::Dataset& dataset, const EvalOptions& options);

// Builds the result from precomputed ranks: ranks[i] is the rank of examples[i].target
// (typically examples = select_examples(dataset, options)). Computes metric means and bootstrap
// intervals; `seconds` is left 0 for the caller to fill. Throws tessera::Error on empty input,
// size mismatch or invalid options.
EvalResult evaluate_ranks(const std::string& model, const data::Dataset& dataset,
                          std::span<const data::EvalExample> examples, std::vector<std::int64_t> ranks,
                          const EvalOptions& options);

// One metric of a paired comparison: candidate - baseline over the same users.
struct MetricDifference {
  double baseline = 0.0;   // mean of the baseline run
  double candidate = 0.0;  // mean of the candidate run
  MetricValue difference;  // candidate - baseline, with bootstrap interval
};

// Compares two runs evaluated on the same users (same split, history setting and user list),
// for every metric of `baseline.cutoffs` (keys as in EvalResult::metrics, without recall
// aliases). Uses paired resampling: each resample draws users, and both runs' values of those
// users enter. Throws tessera::Error if the runs are not comparable.
std::map<std::string, MetricDifference> compare_results(const EvalResult& baseline, const EvalResult& candidate,
                                                        const BootstrapOptions& options);

}  // namespace tessera::eval
