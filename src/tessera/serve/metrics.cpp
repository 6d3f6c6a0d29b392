#include "tessera/serve/metrics.h"

#include <algorithm>

#include <fmt/format.h>

namespace tessera::serve {

namespace {

// Label values escape backslash, double quote and newline (the exposition format's rule).
std::string label_value(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string number(double value) { return fmt::format("{}", value); }

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  const auto bucket = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  std::lock_guard lock(mutex_);
  ++counts_[bucket];
  sum_ += value;
  ++count_;
}

std::string Histogram::render(const std::string& name, const std::string& help) const {
  std::lock_guard lock(mutex_);
  std::string out = fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b < bounds_.size(); ++b) {
    cumulative += counts_[b];
    out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, number(bounds_[b]), cumulative);
  }
  out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {}\n{}_count {}\n", name, count_, name, number(sum_), name, count_);
  return out;
}

ServerMetrics::ServerMetrics()
    : request_seconds_({0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}),
      batch_size_({1, 2, 4, 8, 16, 32, 64, 128, 256}),
      batch_seconds_({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}) {}

void ServerMetrics::count_request(const std::string& path, int status) {
  std::lock_guard lock(mutex_);
  ++requests_[{path, status}];
}

void ServerMetrics::observe_batch(std::size_t histories, double seconds) {
  batch_size_.observe(static_cast<double>(histories));
  batch_seconds_.observe(seconds);
}

std::uint64_t ServerMetrics::requests_with_status(int status) const {
  std::lock_guard lock(mutex_);
  std::uint64_t total = 0;
  for (const auto& [key, count] : requests_) {
    if (key.second == status) total += count;
  }
  return total;
}

std::string ServerMetrics::render(const std::string& model, const std::string& version, const std::string& bundle,
                                  std::size_t queue_depth) const {
  std::string out =
      "# HELP tessera_serve_requests_total HTTP requests answered, by route and status.\n"
      "# TYPE tessera_serve_requests_total counter\n";
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, count] : requests_) {
      out += fmt::format("tessera_serve_requests_total{{path=\"{}\",status=\"{}\"}} {}\n", label_value(key.first), key.second, count);
    }
  }
  out += request_seconds_.render("tessera_serve_request_duration_seconds",
                                 "POST /v1/recommend latency from arrival to answer, seconds.");
  out += batch_size_.render("tessera_serve_batch_size", "Histories per batched model call.");
  out += batch_seconds_.render("tessera_serve_batch_duration_seconds", "Model time per batch, seconds.");
  out += fmt::format(
      "# HELP tessera_serve_queue_depth Histories waiting for a batch worker.\n# TYPE tessera_serve_queue_depth gauge\n"
      "tessera_serve_queue_depth {}\n",
      queue_depth);
  out += fmt::format(
      "# HELP tessera_serve_reloads_total Model reloads, by result.\n# TYPE tessera_serve_reloads_total counter\n"
      "tessera_serve_reloads_total{{result=\"ok\"}} {}\ntessera_serve_reloads_total{{result=\"error\"}} {}\n",
      reloads_ok_.load(), reloads_failed_.load());
  out += fmt::format(
      "# HELP tessera_serve_model_info The model now serving (value 1).\n# TYPE tessera_serve_model_info gauge\n"
      "tessera_serve_model_info{{model=\"{}\",version=\"{}\",bundle=\"{}\"}} 1\n",
      label_value(model), label_value(version), label_value(bundle));
  return out;
}

}  // namespace tessera::serve
