#include "tessera/bench/seed_results.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "tessera/core/atomic_file.h"
#include "tessera/core/error.h"
#include "tessera/train/config.h"

namespace tessera::bench {

nlohmann::json mean_fields(const std::vector<nlohmann::json>& runs, nlohmann::json* spread) {
  nlohmann::json mean = nlohmann::json::object();
  if (runs.empty()) return mean;
  const auto n = static_cast<double>(runs.size());
  for (const auto& [k, v] : runs[0].items()) {
    double sum = 0, sq = 0;
    bool equal = true;
    for (const auto& r : runs) {
      sum += r.value(k, 0.0);
      equal = equal && r.contains(k) && r.at(k) == v;
    }
    const double m = sum / n;
    for (const auto& r : runs) sq += (r.value(k, 0.0) - m) * (r.value(k, 0.0) - m);
    mean[k] = equal ? v : nlohmann::json(m);
    if (spread) (*spread)[k] = runs.size() > 1 ? std::sqrt(sq / (n - 1)) : 0.0;
  }
  return mean;
}

SeedResultFile read_seed_result(const std::string& path) {
  auto json = nlohmann::json::parse(read_file(path), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) throw Error(fmt::format("{}: not a JSON object (a result of tessera bench?)", path));
  return {path, std::move(json)};
}

namespace {

// First difference between two JSON values ("" if none), as a dotted field path. Numbers are
// compared with a relative tolerance (a tokenizer report's floats may differ in the last digits
// between thread counts); keys in `ignored` are skipped at every depth.
std::string first_difference(const nlohmann::json& a, const nlohmann::json& b, const std::string& at, const std::set<std::string>& ignored) {
  if (a.is_number() && b.is_number()) {
    const double x = a.get<double>(), y = b.get<double>();
    return std::abs(x - y) <= 1e-6 * std::max({1.0, std::abs(x), std::abs(y)}) ? "" : at;
  }
  if (a.is_object() && b.is_object()) {
    std::set<std::string> keys;
    for (const auto& [k, v] : a.items()) keys.insert(k);
    for (const auto& [k, v] : b.items()) keys.insert(k);
    for (const auto& k : keys) {
      if (ignored.contains(k)) continue;
      const auto path = at.empty() ? k : at + "." + k;
      if (!a.contains(k) || !b.contains(k)) return path;
      if (auto d = first_difference(a.at(k), b.at(k), path, ignored); !d.empty()) return d;
    }
    return "";
  }
  if (a.is_array() && b.is_array()) {
    if (a.size() != b.size()) return at;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (auto d = first_difference(a[i], b[i], fmt::format("{}[{}]", at, i), ignored); !d.empty()) return d;
    }
    return "";
  }
  return a == b ? "" : at;
}

const nlohmann::json& field(const SeedResultFile& f, const std::string& key) {
  if (!f.result.contains(key)) throw Error(fmt::format("{}: field '{}' is missing (a result of tessera bench?)", f.path, key));
  return f.result.at(key);
}

std::string shown(const nlohmann::json& j, const std::string& path) {
  const nlohmann::json* at = &j;
  std::string rest = path;
  while (!rest.empty() && at->is_object()) {
    const auto dot = rest.find('.');
    const auto key = rest.substr(0, dot);
    if (!at->contains(key)) return "absent";
    at = &at->at(key);
    rest = dot == std::string::npos ? "" : rest.substr(dot + 1);
  }
  auto text = at->dump();
  return text.size() > 80 ? text.substr(0, 77) + "..." : text;
}

// A result's config with the keys it lacks (options added after it was written) at their defaults.
nlohmann::json full_config(const SeedResultFile& f) { return train::saved_config_json(field(f, "config"), f.path); }

// The model's flat metrics of one run in the history setting `key` names, from its per-seed entry
// or, for a single-seed result written before per-seed entries carried it, from `evaluations`.
nlohmann::json other_setting(const SeedResultFile& f, const nlohmann::json& entry, const std::string& key) {
  if (entry.contains(key)) return entry.at(key);
  const std::string setting = key.substr(std::string("metrics_").size());
  const auto& r = f.result;
  if (r.value("seeds", 0) == 1 && r.contains("evaluations") && r["evaluations"].contains(setting)) {
    nlohmann::json flat = nlohmann::json::object();
    for (const auto& [metric, value] : r["evaluations"][setting]["model"]["metrics"].items()) flat[metric] = value.at("mean");
    return flat;
  }
  return nullptr;
}

}  // namespace

nlohmann::json combine_seed_results(const std::vector<SeedResultFile>& files) {
  if (files.size() < 2) throw Error("bench combine: give at least two result files");
  for (const auto& f : files) {
    for (const char* key : {"benchmark", "config", "per_seed", "metrics", "history_excluded", "targets"}) field(f, key);
    if (f.result.contains("variants")) {
      throw Error(fmt::format("{}: has several variants (an ablation or comparison); only single-variant results can be combined", f.path));
    }
    if (!field(f, "per_seed").is_array() || f.result["per_seed"].empty()) throw Error(fmt::format("{}: field 'per_seed' is empty", f.path));
  }
  // The lowest seed's file is the base: its first run supplies the fields that describe one run.
  std::vector<const SeedResultFile*> order;
  for (const auto& f : files) order.push_back(&f);
  auto first_seed = [](const SeedResultFile* f) { return f->result["per_seed"][0].value("seed", 0LL); };
  std::stable_sort(order.begin(), order.end(), [&](auto* a, auto* b) { return first_seed(a) < first_seed(b); });
  const auto& base = *order.front();
  const std::set<std::string> ignored_config = {"seed", "threads", "semantic_ids"};
  const std::set<std::string> ignored_tokenizer = {"source"};
  for (const auto* f : order) {
    if (f == &base) continue;
    for (const char* key : {"benchmark", "dataset", "model", "history_excluded"}) {
      if (auto d = first_difference(field(*f, key), field(base, key), key, {}); !d.empty()) {
        throw Error(fmt::format("{}: field '{}' is {} but {} has {}", f->path, key, shown(f->result, key), base.path, shown(base.result, key)));
      }
    }
    const nlohmann::json config = {{"config", full_config(*f)}}, base_config = {{"config", full_config(base)}};
    if (auto d = first_difference(config["config"], base_config["config"], "config", ignored_config); !d.empty()) {
      throw Error(fmt::format("{}: field '{}' is {} but {} has {}; only runs of the same config can be combined", f->path, d,
                              shown(config, d), base.path, shown(base_config, d)));
    }
    if (f->result.contains("tokenizer") || base.result.contains("tokenizer")) {
      if (auto d = first_difference(field(*f, "tokenizer"), field(base, "tokenizer"), "tokenizer", ignored_tokenizer); !d.empty()) {
        throw Error(fmt::format("{}: field '{}' is {} but {} has {}; the runs used different semantic IDs", f->path, d,
                                shown(f->result, d), base.path, shown(base.result, d)));
      }
    }
  }

  const std::string other_key = base.result["history_excluded"].get<bool>() ? "metrics_history_included" : "metrics_history_excluded";
  std::vector<nlohmann::json> entries;
  std::set<long long> seeds;
  bool other_complete = true;
  for (const auto* f : order) {
    for (auto entry : f->result["per_seed"]) {
      const auto seed = entry.value("seed", -1LL);
      if (!seeds.insert(seed).second) throw Error(fmt::format("{}: seed {} is already in another of the files", f->path, seed));
      auto other = other_setting(*f, entry, other_key);
      if (other.is_null()) {
        other_complete = false;
      } else {
        entry[other_key] = other;
      }
      entries.push_back(std::move(entry));
    }
  }
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.value("seed", 0LL) < b.value("seed", 0LL); });

  auto result = base.result;
  std::vector<nlohmann::json> headline, other, per_run;
  for (const auto& e : entries) {
    headline.push_back(e.at("metrics"));
    if (other_complete) other.push_back(e.at(other_key));
    auto fields = e;  // efficiency and decoding fields of the run
    for (const char* key : {"seed", "metrics", "metrics_history_excluded", "metrics_history_included", "epochs", "best_epoch"}) fields.erase(key);
    for (auto it = fields.begin(); it != fields.end();) it = it.key().starts_with("best_valid_") ? fields.erase(it) : std::next(it);
    per_run.push_back(std::move(fields));
  }
  nlohmann::json spread = nlohmann::json::object();
  result["metrics"] = mean_fields(headline, &spread);
  result["metrics_std_over_seeds"] = spread;
  if (other_complete) {
    result[other_key] = mean_fields(other, nullptr);
  } else {
    result.erase(other_key);
  }
  result["per_seed"] = entries;
  result["seeds"] = entries.size();
  const auto run_means = mean_fields(per_run, nullptr);
  for (const auto& [k, v] : run_means.items()) result[k] = v;
  if (result.contains("tokens_per_second")) result["train_tokens_per_second"] = result["tokens_per_second"];

  bool all_met = true;
  for (auto& [metric, check] : result["targets"].items()) {
    const double value = result["metrics"].value(metric, 0.0);
    const bool met = value >= check.at("target").get<double>();
    check["value"] = value;
    check["met"] = met;
    all_met = all_met && met;
  }
  result["targets_met"] = all_met;

  double peak_rss = 0, bench_seconds = 0, decode_rate = 0, invalid = 0;
  nlohmann::json sources = nlohmann::json::array();
  for (const auto* f : order) {
    const auto& r = f->result;
    const auto runs = static_cast<double>(r["per_seed"].size());
    peak_rss = std::max(peak_rss, r.value("peak_rss_mb", 0.0));
    bench_seconds += r.value("bench_seconds", 0.0);
    decode_rate += r.value("decode_users_per_second", 0.0) * runs / static_cast<double>(entries.size());
    invalid = std::max(invalid, r.value("invalid_item_rate", 0.0));
    nlohmann::json source_seeds = nlohmann::json::array();
    for (const auto& e : r["per_seed"]) source_seeds.push_back(e.value("seed", -1LL));
    sources.push_back({{"file", f->path},
                       {"command", r.value("command", "")},
                       {"git_commit", r.value("git_commit", "")},
                       {"seeds", source_seeds}});
  }
  result["peak_rss_mb"] = peak_rss;
  result["bench_seconds"] = bench_seconds;
  if (result.contains("decode_users_per_second")) result["decode_users_per_second"] = decode_rate;
  if (result.contains("invalid_item_rate")) result["invalid_item_rate"] = invalid;
  result["combined_from"] = sources;
  result["run_fields_from_seed"] = first_seed(&base);  // older files lack it; the base's first run is the lowest seed
  // Each source's description may end with what that run changed ("; this run: ..."): keep the
  // benchmark's own text once, then every source's changes, so the combined file claims no defaults
  // its runs did not use.
  const auto text = base.result.value("description", std::string());
  std::vector<std::string> changes;
  for (const auto* f : order) {
    const auto d = f->result.value("description", std::string());
    const auto at = d.find(kRunChangesMarker);
    changes.push_back(at == std::string::npos ? "as configured" : d.substr(at + kRunChangesMarker.size()));
  }
  result["description"] = fmt::format("{}; combined from {} files: {}", text.substr(0, text.find(kRunChangesMarker)), order.size(),
                                      fmt::join(changes, " | "));
  return result;
}

}  // namespace tessera::bench
