#pragma once
// A closed-loop HTTP load generator: `concurrency` client threads, each with its own keep-alive
// connection (http_client.h), send a request, wait for the answer, and send the next one at
// once. Requests answered during the warm-up are not counted; throughput and latency
// percentiles cover the measured window only. Used by `tessera bench serve`.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tessera::serve {

struct LoadOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string path = "/v1/recommend";
  int concurrency = 1;
  double warmup_seconds = 1.0;    // s, not measured
  double duration_seconds = 5.0;  // s, measured
  // POST bodies, used in turn: client c sends bodies[(c + i * concurrency) % size] as its i-th
  // request, so clients do not send the same body in lockstep.
  std::vector<std::string> bodies;
};

struct LoadResult {
  int concurrency = 0;
  double seconds = 0;                    // measured window, s
  std::uint64_t requests = 0;            // answered in the window (any status)
  std::uint64_t ok = 0;                  // of those, 200
  std::map<int, std::uint64_t> by_status;  // 0 = no response
  double requests_per_second = 0;        // ok / seconds
  double mean_ms = 0, p50_ms = 0, p95_ms = 0, p99_ms = 0, max_ms = 0;  // latency of 200 answers
  std::vector<double> latencies_ms;      // every 200 answer's latency, sorted (for merging)
};

// One result for several measurements of the same concurrency (e.g. interleaved slices):
// counts and seconds add up, percentiles are over all latencies together.
LoadResult merge(const std::vector<LoadResult>& parts);

// Runs the load and returns the measurement. Throws tessera::Error if bodies is empty or
// concurrency < 1.
LoadResult run_closed_loop(const LoadOptions& options);

// {"concurrency", "seconds", "requests", "ok", "errors", "by_status", "requests_per_second",
//  "latency_ms": {"mean", "p50", "p95", "p99", "max"}}
nlohmann::json to_json(const LoadResult& result);

}  // namespace tessera::serve
