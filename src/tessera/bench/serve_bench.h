#pragma once
// `tessera bench serve`: HTTP serving throughput and latency of a model bundle, measured over
// real loopback HTTP. The server (serve/service.h + serve/http_server.h) runs in this process on
// a free port; a closed-loop load generator (serve/load_generator.h) drives it at each
// concurrency in turn. Variants, each with its own server, all started first; at each
// concurrency the variants are measured in alternating slices (A B C A B C ...) that are merged
// per variant, so the numbers compared come from the same seconds of a machine whose background
// load drifts:
//   batched             dynamic batching (max_batch_size, max_wait)
//   unbatched           max_batch_size 1: one history per model call
//   batched-no-kv-cache TIGER only: batched, beam search re-running the decoder over the prefix
// Writes <results_dir>/serve-<name>.json with every measurement, the ratios
// (batching_speedup / kv_cache_speedup at each concurrency) and the issue-5 targets.
//
// The load generator shares the machine with the server, as any loopback benchmark does; the
// result records the load average before and after so a busy machine is visible.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tessera::bench {

struct ServeBenchOptions {
  std::string bundle;                      // model bundle (tessera export)
  std::string dataset;                     // optional .tsd: request histories are test-split inputs; else random
  std::string name;                        // serve-<name>.json; "" = <model>-<dataset name>
  std::string results_dir = "bench/results";
  std::vector<int> concurrency = {1, 8, 32, 64};
  double warmup_seconds = 0.5;             // before each slice, s
  double duration_seconds = 6.0;           // measured per concurrency level and variant, s, in `rounds` slices
  int rounds = 3;                          // slices per level: variants alternate slice by slice
  std::int64_t k = 10;
  bool exclude_history = false;
  std::size_t max_batch_size = 32;
  std::chrono::microseconds max_wait{2000};
  int workers = 1;                         // batch workers (model replicas) per server
  std::size_t num_histories = 2000;        // distinct request bodies
  std::vector<std::string> variants;       // subset of the labels above; empty = all that apply
  std::string command_line;                // recorded in the result
};

// Runs every variant and writes the result (atomically). Throws tessera::Error if the bundle does
// not load, or the dataset is not the one the model was trained on.
nlohmann::json run_serve_benchmark(const ServeBenchOptions& options);

}  // namespace tessera::bench
