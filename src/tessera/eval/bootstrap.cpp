#include "tessera/eval/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "tessera/core/error.h"

namespace tessera::eval {

namespace {

// Uniform in [0, n): rejects the top partial block of 2^64 so every residue is equally likely.
std::uint64_t uniform_index(std::mt19937_64& rng, std::uint64_t n) {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  const std::uint64_t limit = kMax - kMax % n;  // a multiple of n
  std::uint64_t x;
  do {
    x = rng();
  } while (x >= limit);
  return x % n;
}

// Quantile q of sorted values, linear interpolation between order statistics.
double quantile_of_sorted(const std::vector<double>& sorted, double q) {
  const double h = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

void check_options(const BootstrapOptions& options) {
  if (options.samples < 0) throw Error("bootstrap samples must be >= 0, got " + std::to_string(options.samples));
  if (!(options.confidence > 0.0 && options.confidence < 1.0)) {
    throw Error("bootstrap confidence must be in (0, 1), got " + std::to_string(options.confidence));
  }
}

}  // namespace

std::vector<MetricValue> bootstrap_means(std::span<const std::vector<double>> columns, const BootstrapOptions& options) {
  check_options(options);
  if (columns.empty()) return {};
  const std::size_t n = columns[0].size();
  if (n == 0) throw Error("cannot bootstrap a mean over zero users");
  const std::size_t m = columns.size();
  for (const auto& column : columns) {
    if (column.size() != n) throw Error("bootstrap columns differ in size: " + std::to_string(n) + " vs " + std::to_string(column.size()));
  }

  // Row-major copy (user-major): each drawn user then adds one contiguous row.
  std::vector<double> rows(n * m);
  std::vector<MetricValue> result(m);
  for (std::size_t j = 0; j < m; ++j) {
    double sum = 0.0;
    for (std::size_t u = 0; u < n; ++u) {
      rows[u * m + j] = columns[j][u];
      sum += columns[j][u];
    }
    result[j].mean = sum / static_cast<double>(n);
  }

  const auto samples = static_cast<std::size_t>(options.samples);
  if (samples == 0) {
    for (auto& value : result) value.ci_low = value.ci_high = std::numeric_limits<double>::quiet_NaN();
    return result;
  }

  std::mt19937_64 rng(options.seed);
  std::vector<std::vector<double>> means(m, std::vector<double>(samples));  // means[j][b]
  std::vector<double> sums(m);
  for (std::size_t b = 0; b < samples; ++b) {
    std::fill(sums.begin(), sums.end(), 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      const double* row = rows.data() + uniform_index(rng, n) * m;
      for (std::size_t j = 0; j < m; ++j) sums[j] += row[j];
    }
    for (std::size_t j = 0; j < m; ++j) means[j][b] = sums[j] / static_cast<double>(n);
  }

  const double tail = (1.0 - options.confidence) / 2.0;
  for (std::size_t j = 0; j < m; ++j) {
    std::sort(means[j].begin(), means[j].end());
    result[j].ci_low = quantile_of_sorted(means[j], tail);
    result[j].ci_high = quantile_of_sorted(means[j], 1.0 - tail);
  }
  return result;
}

MetricValue bootstrap_mean(std::span<const double> values, const BootstrapOptions& options) {
  std::vector<double> column(values.begin(), values.end());
  return bootstrap_means(std::span<const std::vector<double>>(&column, 1), options)[0];
}

MetricValue paired_difference(std::span<const double> baseline, std::span<const double> candidate,
                              const BootstrapOptions& options) {
  if (baseline.size() != candidate.size()) {
    throw Error("paired comparison needs the same users in both runs, got " + std::to_string(baseline.size()) +
                " and " + std::to_string(candidate.size()) + " values");
  }
  std::vector<double> difference(baseline.size());
  for (std::size_t u = 0; u < baseline.size(); ++u) difference[u] = candidate[u] - baseline[u];
  return bootstrap_mean(difference, options);
}

}  // namespace tessera::eval
