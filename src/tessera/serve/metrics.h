#pragma once
// The server's metrics, rendered for GET /metrics in the Prometheus text exposition format
// (version 0.0.4): counters, histograms with cumulative buckets, and gauges, each with # HELP and
// # TYPE lines. Every method is thread-safe.
//
// Exposed (prefix tessera_serve_):
//   requests_total{path,status}         counter  HTTP requests answered, by route and status
//   request_duration_seconds            histogram  POST /v1/recommend, arrival to answer
//   batch_size                          histogram  histories per model call
//   batch_duration_seconds              histogram  model time per batch
//   queue_depth                         gauge    histories waiting for a worker
//   reloads_total{result}               counter  "ok" / "error"
//   model_info{model,version,bundle}    gauge    1 for the model now serving

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace tessera::serve {

// Observations counted into fixed buckets (upper bounds, ascending; +Inf is implicit).
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
  // The # TYPE line and the _bucket / _sum / _count series for metric `name`.
  std::string render(const std::string& name, const std::string& help) const;

 private:
  std::vector<double> bounds_;
  mutable std::mutex mutex_;
  std::vector<std::uint64_t> counts_;  // per bucket, not cumulative; last = above every bound
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

class ServerMetrics {
 public:
  ServerMetrics();

  void count_request(const std::string& path, int status);
  void observe_request_seconds(double seconds) { request_seconds_.observe(seconds); }
  void observe_batch(std::size_t histories, double seconds);
  void count_reload(bool ok) { (ok ? reloads_ok_ : reloads_failed_).fetch_add(1); }
  std::uint64_t requests_with_status(int status) const;  // over all paths, for tests and logs

  // The whole exposition. model/version/bundle label model_info; queue_depth is the current value.
  std::string render(const std::string& model, const std::string& version, const std::string& bundle, std::size_t queue_depth) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;  // (path, status) -> count
  Histogram request_seconds_, batch_size_, batch_seconds_;
  std::atomic<std::uint64_t> reloads_ok_{0}, reloads_failed_{0};
};

}  // namespace tessera::serve
