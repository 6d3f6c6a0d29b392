#include "tessera/serve/load_generator.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>

#include "tessera/core/error.h"
#include "tessera/serve/http_client.h"

namespace tessera::serve {

namespace {

using Clock = std::chrono::steady_clock;

// The q-quantile of sorted values (nearest rank).
double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

// Sorts latencies_ms and fills ok, requests_per_second and the latency statistics from it and
// from seconds.
void summarise(LoadResult& result) {
  auto& latencies = result.latencies_ms;
  std::sort(latencies.begin(), latencies.end());
  result.ok = latencies.size();
  result.requests_per_second = result.seconds > 0 ? static_cast<double>(result.ok) / result.seconds : 0;
  if (latencies.empty()) return;
  double sum = 0;
  for (double v : latencies) sum += v;
  result.mean_ms = sum / static_cast<double>(latencies.size());
  result.p50_ms = quantile(latencies, 0.50);
  result.p95_ms = quantile(latencies, 0.95);
  result.p99_ms = quantile(latencies, 0.99);
  result.max_ms = latencies.back();
}

struct ClientRecord {
  std::vector<double> latencies_ms;  // 200 answers in the window
  std::map<int, std::uint64_t> by_status;
};

}  // namespace

LoadResult run_closed_loop(const LoadOptions& options) {
  if (options.bodies.empty()) throw Error("load generator: no request bodies");
  if (options.concurrency < 1) throw Error("load generator: concurrency must be at least 1");
  const auto start = Clock::now();
  const auto window_start = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.warmup_seconds));
  const auto window_end = window_start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.duration_seconds));
  std::vector<ClientRecord> records(static_cast<std::size_t>(options.concurrency));
  std::vector<std::thread> clients;
  for (int c = 0; c < options.concurrency; ++c) {
    clients.emplace_back([&, c] {
      HttpClient client(options.host, options.port);
      auto& record = records[static_cast<std::size_t>(c)];
      for (std::size_t i = 0;; ++i) {
        const auto sent = Clock::now();
        if (sent >= window_end) return;
        const auto& body = options.bodies[(static_cast<std::size_t>(c) + i * static_cast<std::size_t>(options.concurrency)) % options.bodies.size()];
        const auto response = client.post(options.path, body);
        const auto answered = Clock::now();
        if (answered < window_start || answered >= window_end) continue;
        ++record.by_status[response.status];
        if (response.status == 200) record.latencies_ms.push_back(std::chrono::duration<double, std::milli>(answered - sent).count());
      }
    });
  }
  for (auto& t : clients) t.join();

  LoadResult result;
  result.concurrency = options.concurrency;
  result.seconds = options.duration_seconds;
  for (const auto& r : records) {
    result.latencies_ms.insert(result.latencies_ms.end(), r.latencies_ms.begin(), r.latencies_ms.end());
    for (const auto& [status, count] : r.by_status) {
      result.by_status[status] += count;
      result.requests += count;
    }
  }
  summarise(result);
  return result;
}

LoadResult merge(const std::vector<LoadResult>& parts) {
  if (parts.empty()) throw Error("load generator: nothing to merge");
  LoadResult result;
  result.concurrency = parts.front().concurrency;
  for (const auto& p : parts) {
    result.seconds += p.seconds;
    result.requests += p.requests;
    for (const auto& [status, count] : p.by_status) result.by_status[status] += count;
    result.latencies_ms.insert(result.latencies_ms.end(), p.latencies_ms.begin(), p.latencies_ms.end());
  }
  summarise(result);
  return result;
}

nlohmann::json to_json(const LoadResult& r) {
  nlohmann::json by_status = nlohmann::json::object();
  for (const auto& [status, count] : r.by_status) by_status[std::to_string(status)] = count;
  return {{"concurrency", r.concurrency},
          {"seconds", r.seconds},
          {"requests", r.requests},
          {"ok", r.ok},
          {"errors", r.requests - r.ok},
          {"by_status", by_status},
          {"requests_per_second", r.requests_per_second},
          {"latency_ms", {{"mean", r.mean_ms}, {"p50", r.p50_ms}, {"p95", r.p95_ms}, {"p99", r.p99_ms}, {"max", r.max_ms}}}};
}

}  // namespace tessera::serve
