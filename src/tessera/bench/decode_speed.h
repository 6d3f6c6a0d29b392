#pragma once
// Decoding speed of TIGER's constrained beam search with and without the decoder's KV cache,
// measured in one process on the same users, so the two numbers share the machine's state
// (issue 3: decoding with the cache must be at least 3x faster than re-running the decoder over
// the whole prefix, cross-attention key/value projections of the encoder memory included, at
// every step). Used by the TIGER benchmarks (benchmarks.h) and by `tessera bench decode`.
//
// Not thread-safe: it switches the recommender's kv_cache option while it runs.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "tessera/data/dataset.h"
#include "tessera/data/split.h"
#include "tessera/infer/tiger_recommender.h"

namespace tessera::bench {

struct DecodeSpeedOptions {
  data::Split split = data::Split::kTest;
  // Users to decode: evenly spaced over the split's eligible users, as eval::EvalOptions::max_users
  // selects them (0 = all).
  std::int64_t max_users = 1000;
  int batch_size = 256;  // users per generate() call; evaluation's batch size (eval::EvalOptions)
};

struct DecodeSpeed {
  std::int64_t users = 0;       // users decoded in each mode
  std::int64_t beam_width = 0;  // the recommender's beam width
  int batch_size = 0;
  double kv_cache_seconds = 0;     // wall time of all batches with the cache (encoder included), s
  double no_kv_cache_seconds = 0;  // the same with the decoder re-run over the whole prefix, s
  double users_per_second_kv_cache = 0;
  double users_per_second_no_kv_cache = 0;
  double speedup = 0;                // no_kv_cache_seconds / kv_cache_seconds
  std::int64_t lists_differing = 0;  // users whose generated lists differ between the modes (0 expected)
};

// Decodes the selected users batch by batch, each batch with the KV cache on and then off (so
// both modes see the same machine load), after one untimed warm-up batch; the recommender's
// options are restored afterwards. Throws tessera::Error if no user is eligible or the options
// are invalid.
DecodeSpeed measure_decode_speed(infer::TigerRecommender& recommender, const data::Dataset& dataset,
                                 const DecodeSpeedOptions& options);

// {"decode_users": ..., "decode_batch_size": ..., "beam_width": ..., "decode_seconds_kv_cache": ...,
//  "decode_seconds_no_kv_cache": ..., "decode_users_per_second_kv_cache": ...,
//  "decode_users_per_second_no_kv_cache": ..., "kv_cache_speedup": ..., "kv_cache_lists_differing": ...}
nlohmann::json to_json(const DecodeSpeed& speed);

struct DecodeBenchOptions {
  std::string checkpoint;    // a TIGER checkpoint (e.g. runs/bench/tiger-beauty/fused-seed42/best.ckpt)
  std::string dataset;       // the prepared dataset (.tsd) it was trained on
  std::string name;          // result file decode-<name>.json; empty = "<model>-<dataset name>"
  std::string results_dir = "bench/results";
  DecodeSpeedOptions speed;
  std::string command_line;  // the exact command, recorded in the result
};

// `tessera bench decode`: loads the checkpoint and dataset, measures decoding speed on the test
// split without retraining, and writes <results_dir>/decode-<name>.json (atomically) with the
// fields of to_json() plus benchmark, checkpoint, dataset, model and the fields every result has
// (benchmarks.h::write_result). Returns the result. Throws tessera::Error if the checkpoint is not
// a TIGER model or was trained on another dataset.
nlohmann::json run_decode_benchmark(const DecodeBenchOptions& options);

}  // namespace tessera::bench
