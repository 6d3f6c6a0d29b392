#include "tessera/eval/evaluator.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>

#include "tessera/core/error.h"
#include "tessera/core/progress.h"
#include "tessera/eval/metrics.h"
#include "tessera/eval/ranking.h"

namespace tessera::eval {

namespace {

void check_options(const EvalOptions& options) {
  if (options.cutoffs.empty()) throw Error("evaluation needs at least one metric cutoff");
  for (int k : options.cutoffs) {
    if (k < 1) throw Error("metric cutoff must be at least 1, got " + std::to_string(k));
  }
  if (options.batch_size < 1) throw Error("evaluation batch size must be at least 1, got " + std::to_string(options.batch_size));
  if (options.bootstrap_samples < 0) {
    throw Error("bootstrap samples must be >= 0, got " + std::to_string(options.bootstrap_samples));
  }
  if (options.max_users < 0) throw Error("max_users must be >= 0 (0 = all), got " + std::to_string(options.max_users));
}

std::string shape_of(const at::Tensor& t) {
  std::string s = "[";
  for (std::int64_t d = 0; d < t.dim(); ++d) s += (d ? ", " : "") + std::to_string(t.size(d));
  return s + "]";
}

}  // namespace

std::vector<data::EvalExample> select_examples(const data::Dataset& dataset, const EvalOptions& options) {
  check_options(options);
  std::vector<data::EvalExample> all = data::leave_last_out_examples(dataset, options.split);
  const auto n = static_cast<std::int64_t>(all.size());
  if (options.max_users == 0 || options.max_users >= n) return all;
  std::vector<data::EvalExample> subset;
  subset.reserve(static_cast<std::size_t>(options.max_users));
  // i * n / max_users is strictly increasing in i because n > max_users.
  for (std::int64_t i = 0; i < options.max_users; ++i) subset.push_back(all[static_cast<std::size_t>(i * n / options.max_users)]);
  return subset;
}

EvalResult evaluate(Scorer& scorer, const data::Dataset& dataset, const EvalOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<data::EvalExample> examples = select_examples(dataset, options);
  const auto n = static_cast<std::int64_t>(examples.size());
  if (n == 0) throw Error("dataset '" + dataset.name + "' has no user with at least 3 items to evaluate");
  const std::string model = scorer.name();

  at::NoGradGuard no_grad;
  std::vector<std::int64_t> ranks(static_cast<std::size_t>(n));
  Progress progress("eval " + model, n, "users");
  std::vector<std::span<const std::int32_t>> histories;
  std::vector<std::span<const std::int64_t>> timestamps;
  std::vector<std::int64_t> targets;
  for (std::int64_t begin = 0; begin < n; begin += options.batch_size) {
    const std::int64_t end = std::min(n, begin + options.batch_size);
    histories.clear();
    timestamps.clear();
    targets.clear();
    for (std::int64_t i = begin; i < end; ++i) {
      histories.push_back(examples[static_cast<std::size_t>(i)].history);
      timestamps.push_back(examples[static_cast<std::size_t>(i)].history_timestamps);
      targets.push_back(examples[static_cast<std::size_t>(i)].target);
    }
    at::Tensor scores = dataset.has_timestamps() ? scorer.score_timed(histories, timestamps) : scorer.score(histories);
    if (!scores.defined() || scores.dim() != 2 || scores.size(0) != end - begin || scores.size(1) != dataset.num_items + 1) {
      throw Error("scorer '" + model + "' returned scores of shape " + (scores.defined() ? shape_of(scores) : "(undefined)") +
                  ", expected [" + std::to_string(end - begin) + ", " + std::to_string(dataset.num_items + 1) + "]");
    }
    const at::Tensor target_tensor = at::tensor(targets, at::TensorOptions().dtype(at::kLong));
    if (options.exclude_history) {
      if (!scores.is_non_overlapping_and_dense()) scores = scores.contiguous();
      exclude_history_(scores, histories, target_tensor);
    }
    const at::Tensor batch_ranks = target_ranks(scores, target_tensor).to(at::kCPU).contiguous();
    std::copy_n(batch_ranks.data_ptr<std::int64_t>(), end - begin, ranks.begin() + begin);
    progress.advance(end - begin);
  }
  progress.finish();

  EvalResult result = evaluate_ranks(model, dataset, examples, std::move(ranks), options);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

EvalResult evaluate_lists(ListRecommender& recommender, const data::Dataset& dataset, const EvalOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<data::EvalExample> examples = select_examples(dataset, options);
  const auto n = static_cast<std::int64_t>(examples.size());
  if (n == 0) throw Error("dataset '" + dataset.name + "' has no user with at least 3 items to evaluate");
  const std::string model = recommender.name();

  at::NoGradGuard no_grad;
  std::vector<std::int64_t> ranks;
  ranks.reserve(static_cast<std::size_t>(n));
  Progress progress("eval " + model, n, "users");
  std::vector<std::span<const std::int32_t>> histories;
  std::vector<std::int64_t> users;
  for (std::int64_t begin = 0; begin < n; begin += options.batch_size) {
    const std::int64_t end = std::min(n, begin + options.batch_size);
    histories.clear();
    users.clear();
    for (std::int64_t i = begin; i < end; ++i) {
      histories.push_back(examples[static_cast<std::size_t>(i)].history);
      users.push_back(examples[static_cast<std::size_t>(i)].user);
    }
    const auto lists = recommender.recommend(users, histories, options.exclude_history);
    if (static_cast<std::int64_t>(lists.size()) != end - begin) {
      throw Error("recommender '" + model + "' returned " + std::to_string(lists.size()) + " lists for " +
                  std::to_string(end - begin) + " users");
    }
    const auto batch_ranks = ranks_from_lists(lists, std::span(examples).subspan(static_cast<std::size_t>(begin),
                                                                                  static_cast<std::size_t>(end - begin)),
                                              options.exclude_history);
    ranks.insert(ranks.end(), batch_ranks.begin(), batch_ranks.end());
    progress.advance(end - begin);
  }
  progress.finish();

  EvalResult result = evaluate_ranks(model, dataset, examples, std::move(ranks), options);
  result.list_length = recommender.max_list_length();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

EvalResult evaluate_ranks(const std::string& model, const data::Dataset& dataset,
                          std::span<const data::EvalExample> examples, std::vector<std::int64_t> ranks,
                          const EvalOptions& options) {
  check_options(options);
  if (examples.empty()) throw Error("cannot evaluate '" + model + "' on zero users");
  if (ranks.size() != examples.size()) {
    throw Error("evaluate_ranks: " + std::to_string(ranks.size()) + " ranks for " + std::to_string(examples.size()) + " users");
  }
  EvalResult result;
  result.model = model;
  result.dataset = dataset.name;
  result.split = data::split_name(options.split);
  result.exclude_history = options.exclude_history;
  result.num_items = dataset.num_items;
  result.num_users = static_cast<std::int64_t>(examples.size());
  result.cutoffs = options.cutoffs;
  result.bootstrap_samples = options.bootstrap_samples;
  result.seed = options.seed;
  result.users.reserve(examples.size());
  for (const auto& example : examples) result.users.push_back(example.user);

  const std::vector<std::string> names = metric_names(options.cutoffs);
  const std::vector<std::vector<double>> values = per_user_metrics(ranks, options.cutoffs);
  const std::vector<MetricValue> summary =
      bootstrap_means(values, BootstrapOptions{options.bootstrap_samples, options.seed, 0.95});
  for (std::size_t m = 0; m < names.size(); ++m) result.metrics[names[m]] = summary[m];
  for (int k : options.cutoffs) result.metrics["recall@" + std::to_string(k)] = result.metrics.at("hr@" + std::to_string(k));
  result.ranks = std::move(ranks);
  return result;
}

std::map<std::string, MetricDifference> compare_results(const EvalResult& baseline, const EvalResult& candidate,
                                                        const BootstrapOptions& options) {
  const std::string what = "cannot compare '" + baseline.model + "' with '" + candidate.model + "': ";
  if (baseline.dataset != candidate.dataset || baseline.num_items != candidate.num_items) {
    throw Error(what + "different datasets ('" + baseline.dataset + "' vs '" + candidate.dataset + "')");
  }
  if (baseline.split != candidate.split) throw Error(what + "different splits (" + baseline.split + " vs " + candidate.split + ")");
  if (baseline.exclude_history != candidate.exclude_history) {
    throw Error(what + "one excluded history items and the other did not");
  }
  if (baseline.users != candidate.users) throw Error(what + "they were evaluated on different users");
  if (baseline.ranks.size() != baseline.users.size() || candidate.ranks.size() != candidate.users.size()) {
    throw Error(what + "per-user ranks are missing");
  }

  const std::vector<std::string> names = metric_names(baseline.cutoffs);
  const auto a = per_user_metrics(baseline.ranks, baseline.cutoffs);
  const auto b = per_user_metrics(candidate.ranks, baseline.cutoffs);
  std::vector<std::vector<double>> differences(names.size(), std::vector<double>(a[0].size()));
  for (std::size_t m = 0; m < names.size(); ++m) {
    for (std::size_t u = 0; u < a[m].size(); ++u) differences[m][u] = b[m][u] - a[m][u];
  }
  // One call: every metric uses the same paired resamples of users.
  const std::vector<MetricValue> summary = bootstrap_means(differences, options);
  std::map<std::string, MetricDifference> result;
  for (std::size_t m = 0; m < names.size(); ++m) {
    double sum_a = 0.0, sum_b = 0.0;
    for (std::size_t u = 0; u < a[m].size(); ++u) {
      sum_a += a[m][u];
      sum_b += b[m][u];
    }
    const auto n = static_cast<double>(a[m].size());
    result[names[m]] = MetricDifference{sum_a / n, sum_b / n, summary[m]};
  }
  return result;
}

}  // namespace tessera::eval
