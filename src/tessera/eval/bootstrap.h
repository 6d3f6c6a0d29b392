#pragma once
// Percentile-bootstrap confidence intervals for means over users.
//
// Evaluation yields one value per user and metric; the reported number is their mean. To say
// how much that mean would move on another draw of users, we resample users with replacement
// B times, take the mean of each resample, and report the 2.5% and 97.5% percentiles of those
// B means (linear interpolation between order statistics). All metrics of one call share the
// same resamples, so per resample the cost is one pass over the users.
//
// Deterministic: the same values, samples and seed give the same interval on every platform,
// because indices are drawn from raw std::mt19937_64 output (std:: distributions differ between
// standard libraries). Thread-safe (no shared state).

#include <cstdint>
#include <span>
#include <vector>

namespace tessera::eval {

// A mean with its confidence interval. With no resamples (samples == 0) the interval is
// unknown and ci_low/ci_high are NaN.
struct MetricValue {
  double mean = 0.0;
  double ci_low = 0.0;
  double ci_high = 0.0;
};

struct BootstrapOptions {
  int samples = 1000;         // resamples B; 0 = no interval (NaN bounds)
  std::uint64_t seed = 0;     // seeds std::mt19937_64
  double confidence = 0.95;   // interval covers this central fraction of resampled means
};

// One MetricValue per column. columns[m][u] is metric m of user u; all columns must have the
// same, non-zero size. Throws tessera::Error on empty or ragged input or bad options.
std::vector<MetricValue> bootstrap_means(std::span<const std::vector<double>> columns, const BootstrapOptions& options);

// Single-column form of bootstrap_means().
MetricValue bootstrap_mean(std::span<const double> values, const BootstrapOptions& options);

// Paired comparison of two runs over the same users (baseline[u] and candidate[u] belong to the
// same user u): mean of candidate - baseline, with the bootstrap interval of that difference.
// An interval that excludes 0 means the difference is unlikely to be resampling noise.
MetricValue paired_difference(std::span<const double> baseline, std::span<const double> candidate,
                              const BootstrapOptions& options);

}  // namespace tessera::eval
