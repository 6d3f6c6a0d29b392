#include "tessera/eval/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "tessera/core/error.h"
#include "tessera/eval/metrics.h"

namespace tessera::eval {

namespace {

using nlohmann::json;

template <typename T>
T field(const json& j, const char* name) {
  if (!j.is_object() || !j.contains(name)) throw Error(std::string("evaluation result: missing field '") + name + "'");
  try {
    return j.at(name).get<T>();
  } catch (const json::exception& e) {
    throw Error(std::string("evaluation result: field '") + name + "' has the wrong type: " + e.what());
  }
}

std::string format_value(const MetricValue& value) {
  if (std::isnan(value.ci_low) || std::isnan(value.ci_high)) return fmt::format("{:.4f}", value.mean);
  return fmt::format("{:.4f} [{:.4f}, {:.4f}]", value.mean, value.ci_low, value.ci_high);
}

}  // namespace

nlohmann::json to_json(const EvalResult& result, bool include_ranks) {
  json metrics = json::object();
  for (const auto& [name, value] : result.metrics) {
    json ci = json(nullptr);
    if (!std::isnan(value.ci_low) && !std::isnan(value.ci_high)) ci = json::array({value.ci_low, value.ci_high});
    metrics[name] = {{"mean", value.mean}, {"ci95", ci}};
  }
  json j = {{"model", result.model},
            {"dataset", result.dataset},
            {"split", result.split},
            {"exclude_history", result.exclude_history},
            {"num_items", result.num_items},
            {"num_users", result.num_users},
            {"cutoffs", result.cutoffs},
            {"bootstrap_samples", result.bootstrap_samples},
            {"seed", result.seed},
            {"seconds", result.seconds},
            {"list_length", result.list_length},
            {"metrics", metrics}};
  if (include_ranks) {
    json ranks = json::array();
    for (std::int64_t rank : result.ranks) ranks.push_back(rank == kNotRanked ? -1 : rank);
    j["users"] = result.users;
    j["ranks"] = std::move(ranks);
  }
  return j;
}

EvalResult eval_result_from_json(const nlohmann::json& j) {
  EvalResult result;
  result.model = field<std::string>(j, "model");
  result.dataset = field<std::string>(j, "dataset");
  result.split = field<std::string>(j, "split");
  result.exclude_history = field<bool>(j, "exclude_history");
  result.num_items = field<std::int32_t>(j, "num_items");
  result.num_users = field<std::int64_t>(j, "num_users");
  result.cutoffs = field<std::vector<int>>(j, "cutoffs");
  result.bootstrap_samples = field<int>(j, "bootstrap_samples");
  result.seed = field<std::uint64_t>(j, "seed");
  result.seconds = field<double>(j, "seconds");
  if (j.contains("list_length")) result.list_length = field<std::int64_t>(j, "list_length");
  const json metrics = field<json>(j, "metrics");
  if (!metrics.is_object()) throw Error("evaluation result: field 'metrics' must be an object");
  for (const auto& [name, value] : metrics.items()) {
    MetricValue metric;
    metric.mean = field<double>(value, "mean");
    const json ci = field<json>(value, "ci95");
    if (ci.is_null()) {
      metric.ci_low = metric.ci_high = std::nan("");
    } else if (ci.is_array() && ci.size() == 2 && ci[0].is_number() && ci[1].is_number()) {
      metric.ci_low = ci[0].get<double>();
      metric.ci_high = ci[1].get<double>();
    } else {
      throw Error("evaluation result: metrics." + name + ".ci95 must be [low, high] or null");
    }
    result.metrics[name] = metric;
  }
  if (j.contains("ranks")) {
    result.users = field<std::vector<std::int64_t>>(j, "users");
    for (std::int64_t rank : field<std::vector<std::int64_t>>(j, "ranks")) result.ranks.push_back(rank < 0 ? kNotRanked : rank);
    if (result.users.size() != result.ranks.size() || static_cast<std::int64_t>(result.ranks.size()) != result.num_users) {
      throw Error("evaluation result: 'users' and 'ranks' must both have num_users entries");
    }
  }
  return result;
}

nlohmann::json flat_metrics(const EvalResult& result) {
  json flat = json::object();
  for (const auto& [name, value] : result.metrics) flat[name] = value.mean;
  return flat;
}

std::string format_table(std::span<const EvalResult> results) {
  if (results.empty()) return "";

  // Settings shared by all results go into the header; the others label each column.
  auto settings = [](const EvalResult& r) {
    return std::vector<std::string>{r.dataset, r.split + " split", fmt::format("{} users", r.num_users),
                                    fmt::format("{} items", r.num_items),
                                    std::string("history items excluded: ") + (r.exclude_history ? "yes" : "no")};
  };
  const std::vector<std::string> first = settings(results[0]);
  std::vector<bool> shared(first.size(), true);
  for (const auto& r : results) {
    const auto s = settings(r);
    for (std::size_t i = 0; i < s.size(); ++i) shared[i] = shared[i] && s[i] == first[i];
  }
  std::string header;
  for (std::size_t i = 0; i < first.size(); ++i) {
    if (shared[i]) header += (header.empty() ? "" : ", ") + first[i];
  }

  std::vector<std::string> columns;
  for (const auto& r : results) {
    std::string label = r.list_length > 0 ? fmt::format("{} (top {})", r.model, r.list_length) : r.model, extra;
    const auto s = settings(r);
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (!shared[i]) extra += (extra.empty() ? "" : ", ") + s[i];
    }
    columns.push_back(extra.empty() ? label : label + " (" + extra + ")");
  }

  std::set<int> cutoff_set;
  for (const auto& r : results) cutoff_set.insert(r.cutoffs.begin(), r.cutoffs.end());
  const std::vector<int> cutoffs(cutoff_set.begin(), cutoff_set.end());
  const std::vector<std::string> rows = metric_names(cutoffs);

  std::vector<std::vector<std::string>> cells(rows.size(), std::vector<std::string>(results.size()));
  std::size_t label_width = std::string("metric").size();
  std::vector<std::size_t> widths;
  for (const auto& c : columns) widths.push_back(c.size());
  for (std::size_t m = 0; m < rows.size(); ++m) {
    label_width = std::max(label_width, rows[m].size());
    for (std::size_t c = 0; c < results.size(); ++c) {
      auto it = results[c].metrics.find(rows[m]);
      cells[m][c] = it == results[c].metrics.end() ? "-" : format_value(it->second);
      widths[c] = std::max(widths[c], cells[m][c].size());
    }
  }

  auto table_line = [&](const std::string& label, const std::vector<std::string>& values) {
    std::string line = fmt::format("{:<{}}", label, label_width);
    for (std::size_t c = 0; c < values.size(); ++c) line += fmt::format("  {:<{}}", values[c], widths[c]);
    line.erase(line.find_last_not_of(' ') + 1);
    return line + "\n";
  };
  std::string out = header + "\n" + table_line("metric", columns);
  for (std::size_t m = 0; m < rows.size(); ++m) out += table_line(rows[m], cells[m]);
  auto with_intervals = std::find_if(results.begin(), results.end(), [](const EvalResult& r) { return r.bootstrap_samples > 0; });
  if (with_intervals != results.end()) {
    out += fmt::format("[..] = 95% bootstrap interval over users ({} resamples). ", with_intervals->bootstrap_samples);
  }
  out += "recall@K = hr@K (one target per user).\n";
  if (std::any_of(results.begin(), results.end(), [](const EvalResult& r) { return r.list_length > 0; })) {
    out += "(top N) = a generated list of N items (beam search) ranks the target only if it is in the list: metrics at K > N are "
           "lower bounds.\n";
  }
  return out;
}

}  // namespace tessera::eval
