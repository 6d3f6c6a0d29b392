#pragma once
// The one report format of evaluation results: JSON for files and benchmarks, a text table for
// people. Field names are stable; scripts and the bench/compare commands read them.
//
// JSON of one EvalResult (to_json):
//   {"model": "sasrec", "dataset": "ml-1m", "split": "test", "exclude_history": true,
//    "num_items": 3706, "num_users": 6040, "cutoffs": [1, 5, ...],
//    "bootstrap_samples": 1000, "seed": 0, "seconds": 12.3,
//    "metrics": {"hr@10": {"mean": 0.31, "ci95": [0.30, 0.32]}, "recall@10": ..., "mrr": ...},
//    "users": [...], "ranks": [...]}          <- only with include_ranks; kNotRanked is -1
// A missing interval (bootstrap_samples = 0) is written as "ci95": null.

#include <nlohmann/json_fwd.hpp>

#include <span>
#include <string>

#include "tessera/eval/evaluator.h"

namespace tessera::eval {

// JSON as above. include_ranks adds the per-user ranks, which compare_results() needs to pair
// two runs later (a few bytes per user).
nlohmann::json to_json(const EvalResult& result, bool include_ranks = false);

// Reads what to_json() wrote (with or without ranks). Throws tessera::Error naming the
// missing or malformed field.
EvalResult eval_result_from_json(const nlohmann::json& json);

// Flat means only, for benchmark records: {"hr@10": 0.31, "ndcg@10": 0.17, ...}.
nlohmann::json flat_metrics(const EvalResult& result);

// Several results side by side, one column per result, one row per metric (hr@K, ndcg@K, mrr),
// values "0.1234 [0.1200, 0.1270]". The header line states dataset, split, number of users and
// whether history items were excluded; a setting that differs between results is shown in the
// column names instead. Metrics a result lacks are shown as "-".
std::string format_table(std::span<const EvalResult> results);

}  // namespace tessera::eval
