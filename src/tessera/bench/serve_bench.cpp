#include "tessera/bench/serve_bench.h"

#include <cstdio>
#include <algorithm>
#include <fstream>
#include <memory>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "tessera/bench/benchmarks.h"
#include "tessera/core/error.h"
#include "tessera/data/dataset.h"
#include "tessera/data/fingerprint.h"
#include "tessera/serve/http_server.h"
#include "tessera/serve/load_generator.h"
#include "tessera/serve/service.h"

namespace tessera::bench {

namespace {

struct Variant {
  std::string label;
  std::size_t max_batch_size;
  bool kv_cache;
};

double load_average() {
  std::ifstream in("/proc/loadavg");
  double one_minute = 0;
  in >> one_minute;
  return one_minute;
}

// Request bodies: test-split inputs of the dataset's users (every item but the last), or random
// 20-item histories over the catalogue.
std::vector<std::string> request_bodies(const ServeBenchOptions& options, const serve::ServedModel& model) {
  std::vector<std::vector<std::int32_t>> histories;
  if (!options.dataset.empty()) {
    const auto dataset = data::load_dataset(options.dataset);
    const auto expected = model.manifest()["dataset"].value("fingerprint", "");
    if (data::dataset_fingerprint(dataset) != expected) {
      throw Error::at(options.dataset, 0, fmt::format("is not the dataset the bundle's model was trained on (fingerprint {})", expected));
    }
    const auto users = dataset.num_users();
    const auto step = std::max<std::int64_t>(1, users / static_cast<std::int64_t>(options.num_histories));
    for (std::int64_t u = 0; u < users && histories.size() < options.num_histories; u += step) {
      auto seq = dataset.sequence(u);
      if (seq.size() >= 2) histories.emplace_back(seq.begin(), seq.end() - 1);
    }
  } else {
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<std::int32_t> item(1, model.items().num_items());
    for (std::size_t i = 0; i < options.num_histories; ++i) {
      auto& h = histories.emplace_back();
      for (int j = 0; j < 20; ++j) h.push_back(item(rng));
    }
  }
  if (histories.empty()) throw Error("bench serve: no request histories");
  std::vector<std::string> bodies;
  for (const auto& h : histories) {
    bodies.push_back(nlohmann::json{{"history", h}, {"k", options.k}, {"exclude_history", options.exclude_history}}.dump());
  }
  return bodies;
}

// One variant's server, running on its own free loopback port until destroyed.
class VariantServer {
 public:
  VariantServer(const ServeBenchOptions& options, const Variant& variant) {
    serve::ServiceOptions service_options;
    service_options.batching.max_batch_size = variant.max_batch_size;
    service_options.batching.max_wait = options.max_wait;
    service_options.batching.workers = options.workers;
    service_options.batching.max_queued = 1 << 16;
    service_options.request_timeout = std::chrono::seconds(60);
    service_options.kv_cache = variant.kv_cache;
    service_ = std::make_unique<serve::RecommendService>(options.bundle, service_options);
    serve::HttpOptions http;
    http.host = "127.0.0.1";
    http.port = 0;
    int most = 1;
    for (int c : options.concurrency) most = std::max(most, c);
    http.threads = most + 8;
    http_ = std::make_unique<serve::HttpServer>(*service_, http);
    port_ = http_->bind();
    serving_ = std::thread([this] { http_->serve(); });
  }
  ~VariantServer() {
    http_->shutdown();
    serving_.join();
    service_->stop();
  }
  int port() const { return port_; }

 private:
  std::unique_ptr<serve::RecommendService> service_;
  std::unique_ptr<serve::HttpServer> http_;
  std::thread serving_;
  int port_ = 0;
};

// Every variant's server runs at once; at each concurrency the variants take turns in short
// slices, merged per variant, so the variants compared see the machine in the same state.
nlohmann::json run_variants(const ServeBenchOptions& options, const std::vector<Variant>& variants, const std::vector<std::string>& bodies) {
  std::vector<std::unique_ptr<VariantServer>> servers;
  nlohmann::json out = nlohmann::json::array();
  for (const auto& v : variants) {
    servers.push_back(std::make_unique<VariantServer>(options, v));
    out.push_back({{"label", v.label},
                   {"max_batch_size", v.max_batch_size},
                   {"max_wait_us", options.max_wait.count()},
                   {"kv_cache", v.kv_cache},
                   {"levels", nlohmann::json::array()}});
  }
  for (int c : options.concurrency) {
    std::vector<std::vector<serve::LoadResult>> slices(variants.size());
    for (int round = 0; round < options.rounds; ++round) {
      for (std::size_t i = 0; i < variants.size(); ++i) {
        serve::LoadOptions load;
        load.port = servers[i]->port();
        load.concurrency = c;
        load.warmup_seconds = options.warmup_seconds;
        load.duration_seconds = options.duration_seconds / options.rounds;
        load.bodies = bodies;
        slices[i].push_back(serve::run_closed_loop(load));
      }
    }
    for (std::size_t i = 0; i < variants.size(); ++i) {
      const auto result = serve::merge(slices[i]);
      std::fprintf(stderr, "[bench serve] %-20s c=%-3d %8.1f req/s  p50 %7.2f ms  p95 %7.2f ms  p99 %7.2f ms  errors %llu\n",
                   variants[i].label.c_str(), c, result.requests_per_second, result.p50_ms, result.p95_ms, result.p99_ms,
                   static_cast<unsigned long long>(result.requests - result.ok));
      out[i]["levels"].push_back(serve::to_json(result));
    }
  }
  return out;
}

const nlohmann::json* level_of(const nlohmann::json& variants, const std::string& label, int concurrency) {
  for (const auto& v : variants) {
    if (v["label"] != label) continue;
    for (const auto& l : v["levels"]) {
      if (l["concurrency"] == concurrency) return &l;
    }
  }
  return nullptr;
}

nlohmann::json target(double value, double bound, bool at_most) {
  return {{"value", value}, {"target", bound}, {"kind", at_most ? "at most" : "at least"}, {"met", at_most ? value <= bound : value >= bound}};
}

}  // namespace

nlohmann::json run_serve_benchmark(const ServeBenchOptions& options) {
  const double load_before = load_average();
  auto probe = serve::ServedModel::load(options.bundle, {});
  const bool tiger = probe->semantic_ids() != nullptr;
  const auto bodies = request_bodies(options, *probe);
  const std::string model_name = probe->name();
  const std::string dataset_name = probe->items().dataset_name();
  const auto manifest = probe->manifest();
  probe.reset();

  std::vector<Variant> all = {{"batched", options.max_batch_size, true}, {"unbatched", 1, true}};
  if (tiger) all.push_back({"batched-no-kv-cache", options.max_batch_size, false});
  std::vector<Variant> chosen;
  for (const auto& v : all) {
    if (options.variants.empty() || std::find(options.variants.begin(), options.variants.end(), v.label) != options.variants.end()) chosen.push_back(v);
  }
  if (chosen.empty()) throw Error("bench serve: --variants names none of batched, unbatched, batched-no-kv-cache");
  const auto variants = run_variants(options, chosen, bodies);

  nlohmann::json result = {{"benchmark", "serve"},
                           {"bundle", options.bundle},
                           {"model", model_name},
                           {"model_version", manifest.value("version", "")},
                           {"dataset", dataset_name},
                           {"histories", options.dataset.empty() ? "random 20-item histories" : "test-split inputs of " + options.dataset},
                           {"request_bodies", bodies.size()},
                           {"k", options.k},
                           {"exclude_history", options.exclude_history},
                           {"beam_width", manifest["model"].value("beam_width", 0)},
                           {"workers", options.workers},
                           {"warmup_seconds", options.warmup_seconds},
                           {"duration_seconds", options.duration_seconds},
                           {"rounds", options.rounds},
                           {"variants", variants}};
  nlohmann::json ratios = nlohmann::json::object(), targets = nlohmann::json::object();
  for (int c : options.concurrency) {
    const auto* batched = level_of(variants, "batched", c);
    const auto* unbatched = level_of(variants, "unbatched", c);
    const auto* no_cache = level_of(variants, "batched-no-kv-cache", c);
    auto rps = [](const nlohmann::json* l) { return (*l)["requests_per_second"].get<double>(); };
    if (batched && unbatched && rps(unbatched) > 0) ratios[fmt::format("batching_speedup_c{}", c)] = rps(batched) / rps(unbatched);
    if (batched && no_cache && rps(no_cache) > 0) ratios[fmt::format("kv_cache_speedup_c{}", c)] = rps(batched) / rps(no_cache);
  }
  if (const auto* l = level_of(variants, "batched", 1); l && tiger) targets["p50_ms_c1"] = target((*l)["latency_ms"]["p50"], 15.0, true);
  if (tiger && ratios.contains("batching_speedup_c32")) targets["batching_speedup_c32"] = target(ratios["batching_speedup_c32"], 2.0, false);
  if (const auto* l = level_of(variants, "batched", 32); l && !tiger) {
    targets["requests_per_second_c32"] = target((*l)["requests_per_second"], 1000.0, false);
    targets["p99_ms_c32"] = target((*l)["latency_ms"]["p99"], 50.0, true);
  }
  std::uint64_t errors = 0;
  for (const auto& v : variants) {
    for (const auto& l : v["levels"]) errors += l["errors"].get<std::uint64_t>();
  }
  result["ratios"] = ratios;
  result["targets"] = targets;
  result["errors"] = errors;
  result["load_average_before"] = load_before;
  result["load_average_after"] = load_average();
  const std::string name = options.name.empty() ? model_name + "-" + dataset_name : options.name;
  write_result(result, options.results_dir, "serve-" + name, options.command_line);
  return result;
}

}  // namespace tessera::bench
