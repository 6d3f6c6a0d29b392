// tessera bench serve: HTTP serving throughput and latency of a model bundle at several
// concurrencies, batched vs unbatched (and TIGER with vs without the KV cache).
#include <fmt/format.h>

#include "cli/commands.h"
#include "tessera/bench/serve_bench.h"
#include "tessera/core/runtime.h"

namespace tessera::cli {

void add_bench_serve_command(CLI::App& bench) {
  struct Args {
    bench::ServeBenchOptions options;
    std::int64_t max_wait_us = 2000;
    int threads = 0;
  };
  auto args = std::make_shared<Args>();
  auto& o = args->options;
  auto* cmd = bench.add_subcommand("serve",
                                   "Closed-loop HTTP load on an in-process server over loopback: throughput and p50/p95/p99 at each "
                                   "concurrency; writes <results-dir>/serve-<name>.json");
  cmd->add_option("--bundle", o.bundle, "Model bundle (tessera export)")->required();
  cmd->add_option("--data", o.dataset, "Dataset (.tsd) the model was trained on: requests use its test-split histories (default: random)");
  cmd->add_option("--name", o.name, "Result name (default: <model>-<dataset>)");
  cmd->add_option("--results-dir", o.results_dir, "Where serve-<name>.json goes")->capture_default_str();
  cmd->add_option("--concurrency", o.concurrency, "Concurrent clients, one level after another")->delimiter(',')->capture_default_str();
  cmd->add_option("--duration", o.duration_seconds, "Measured seconds per level and variant (over all slices)")->capture_default_str()->check(CLI::Range(0.1, 600.0));
  cmd->add_option("--warmup", o.warmup_seconds, "Unmeasured seconds before each slice")->capture_default_str()->check(CLI::Range(0.0, 60.0));
  cmd->add_option("--rounds", o.rounds, "Slices per level; the variants alternate slice by slice")->capture_default_str()->check(CLI::Range(1, 100));
  cmd->add_option("-k,--k", o.k, "Items per answer")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_flag("--exclude-history", o.exclude_history, "Requests ask to exclude their history");
  cmd->add_option("--max-batch-size", o.max_batch_size, "Batched variants: histories per model call")->capture_default_str()->check(CLI::Range(1, 4096));
  cmd->add_option("--max-wait-us", args->max_wait_us, "Batched variants: longest wait for company, microseconds")->capture_default_str();
  cmd->add_option("--workers", o.workers, "Batch workers (model replicas) per server")->capture_default_str()->check(CLI::Range(1, 64));
  cmd->add_option("--threads", args->threads, "libtorch intra-op threads (default: all cores)")->check(CLI::Range(1, 256));
  cmd->add_option("--variants", o.variants, "Only these of batched, unbatched, batched-no-kv-cache")->delimiter(',');
  cmd->callback([args] {
    auto& o = args->options;
    if (args->threads > 0) init_runtime(args->threads);
    o.max_wait = std::chrono::microseconds(args->max_wait_us);
    std::string levels;
    for (int c : o.concurrency) levels += (levels.empty() ? "" : ",") + std::to_string(c);
    o.command_line = fmt::format("tessera bench serve --bundle {}{} --concurrency {} --duration {} --rounds {} --warmup {} --k {}{} --max-batch-size {} --max-wait-us {} --workers {}{}",
                                 o.bundle, o.dataset.empty() ? "" : " --data " + o.dataset, levels, o.duration_seconds, o.rounds, o.warmup_seconds, o.k,
                                 o.exclude_history ? " --exclude-history" : "", o.max_batch_size, args->max_wait_us, o.workers,
                                 args->threads > 0 ? " --threads " + std::to_string(args->threads) : "");
    const auto result = bench::run_serve_benchmark(o);
    fmt::print("serve-{}: {} on {}, k {}, {}\n", o.name.empty() ? result["model"].get<std::string>() + "-" + result["dataset"].get<std::string>() : o.name,
               result["model"].get<std::string>(), result["dataset"].get<std::string>(), o.k, result["histories"].get<std::string>());
    for (const auto& v : result["variants"]) {
      for (const auto& l : v["levels"]) {
        fmt::print("  {:<20} c={:<3} {:>8.1f} req/s  p50 {:>7.2f} ms  p95 {:>7.2f} ms  p99 {:>7.2f} ms  errors {}\n", v["label"].get<std::string>(),
                   l["concurrency"].get<int>(), l["requests_per_second"].get<double>(), l["latency_ms"]["p50"].get<double>(),
                   l["latency_ms"]["p95"].get<double>(), l["latency_ms"]["p99"].get<double>(), l["errors"].dump());
      }
    }
    for (const auto& [k, v] : result["ratios"].items()) fmt::print("  {:<24} {:.2f}x\n", k, v.get<double>());
    for (const auto& [k, v] : result["targets"].items()) {
      fmt::print("  target {:<24} {} {}: {:.2f} {}\n", k, v["kind"].get<std::string>(), v["target"].dump(), v["value"].get<double>(),
                 v["met"].get<bool>() ? "MET" : "NOT MET");
    }
    fmt::print("  load average {:.2f} before, {:.2f} after\n", result["load_average_before"].get<double>(), result["load_average_after"].get<double>());
  });
}

}  // namespace tessera::cli
