// tessera bench: run a named end-to-end benchmark and write bench/results/<name>.json;
// tessera bench decode: TIGER decoding speed with and without the KV cache, from a checkpoint;
// tessera bench combine: one result from result files of the same benchmark run with other seeds.
#include <fmt/format.h>

#include "cli/commands.h"
#include "tessera/bench/benchmarks.h"
#include "tessera/bench/decode_speed.h"
#include "tessera/bench/seed_results.h"
#include "tessera/core/atomic_file.h"

namespace tessera::cli {

namespace {

void print_result(const std::string& name, const nlohmann::json& result) {
  const bool evaluated = !result["metrics"].empty();
  fmt::print("{}: {} on {} ({}){}:\n", name, result["model"].get<std::string>(), result["dataset"].get<std::string>(),
             result["protocol"].get<std::string>(),
             evaluated ? fmt::format(", test split, history {}", result["history_excluded"].get<bool>() ? "excluded" : "included") : "");
  for (const auto& [k, v] : result["metrics"].items()) fmt::print("  {:<10} {:.4f}\n", k, v.get<double>());
  for (const char* other : {"metrics_history_excluded", "metrics_history_included"}) {
    if (!result.contains(other) || result[other].empty()) continue;
    fmt::print("  {}: recall@5 {:.4f}  ndcg@5 {:.4f}  recall@10 {:.4f}  ndcg@10 {:.4f}\n", other, result[other].value("recall@5", 0.0),
               result[other].value("ndcg@5", 0.0), result[other].value("recall@10", 0.0), result[other].value("ndcg@10", 0.0));
  }
  for (const auto& [k, v] : result["targets"].items()) {
    fmt::print("  target {:<10} >= {:.4f}: {:.4f} {}\n", k, v["target"].get<double>(), v["value"].get<double>(),
               v["met"].get<bool>() ? "MET" : "NOT MET");
  }
  auto gflops = [](const nlohmann::json& r) {
    const double achieved = r["achieved_gflops"].get<double>();
    return achieved > 0 ? fmt::format("{:.2f} GFLOP/s ({:.1f}% of the measured matmul peak {:.1f})", achieved,
                                      100.0 * r["achieved_fraction_of_peak"].get<double>(), r["matmul_peak_gflops"].get<double>())
                        : std::string("FLOPs not counted");
  };
  fmt::print("  train {:.0f} s, {:.1f} examples/s, {:.0f} tokens/s, {}, peak RSS {:.0f} MiB\n", result["train_seconds"].get<double>(),
             result["train_sequences_per_second"].get<double>(), result["tokens_per_second"].get<double>(), gflops(result),
             result["peak_rss_mb"].get<double>());
  if (result.contains("collision_rate")) {
    fmt::print("  semantic IDs: collision rate {:.4f} before disambiguation, level-1 utilisation {:.3f}\n",
               result["collision_rate"].get<double>(), result["codebook_utilization"].get<double>());
  }
  if (result.contains("kv_cache_speedup")) {
    fmt::print("  decoding: {:.0f} users/s (test evaluation), invalid items {:.4f}; {} users: KV cache {:.1f} users/s, "
               "no cache {:.1f} users/s, speedup {:.2f}x\n",
               result["decode_users_per_second"].get<double>(), result["invalid_item_rate"].get<double>(),
               result["decode_users"].dump(), result["decode_users_per_second_kv_cache"].get<double>(),
               result["decode_users_per_second_no_kv_cache"].get<double>(), result["kv_cache_speedup"].get<double>());
  }
  if (result.contains("variants")) {
    for (const auto& v : result["variants"]) {
      const std::string metrics = evaluated ? fmt::format("recall@10 {:.4f}  ndcg@10 {:.4f}  ", v["metrics"].value("recall@10", 0.0),
                                                          v["metrics"].value("ndcg@10", 0.0))
                                            : "";
      fmt::print("  variant {:<10} {}train {:.0f} s  {:.0f} tokens/s  {}\n", v["label"].get<std::string>(), metrics,
                 v["train_seconds"].get<double>(), v["tokens_per_second"].get<double>(), gflops(v));
    }
  }
  for (const char* ratio : {"packed_speedup", "hstu_to_sasrec_tokens_per_second", "hstu_to_sasrec_achieved_gflops"}) {
    if (result.contains(ratio)) fmt::print("  {} {:.3f}\n", ratio, result[ratio].get<double>());
  }
}

void add_decode_command(CLI::App& bench) {
  auto options = std::make_shared<bench::DecodeBenchOptions>();
  auto* cmd = bench.add_subcommand("decode",
                                   "TIGER decoding speed from a checkpoint, no training: beam search with and without the KV cache "
                                   "on the same test users; writes <results-dir>/decode-<name>.json");
  cmd->add_option("--checkpoint", options->checkpoint, "TIGER checkpoint (e.g. runs/bench/tiger-beauty/fused-seed42/best.ckpt)")
      ->required();
  cmd->add_option("--data", options->dataset, "Prepared dataset (.tsd) the model was trained on")->required();
  cmd->add_option("--users", options->speed.max_users, "Test users to decode, evenly spaced (0 = all)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--batch-size", options->speed.batch_size, "Users per beam-search call")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--name", options->name, "Result name (default: <model>-<dataset>, e.g. tiger-beauty)");
  cmd->add_option("--results-dir", options->results_dir, "Where decode-<name>.json goes")->capture_default_str();
  cmd->callback([options] {
    options->command_line = fmt::format("tessera bench decode --checkpoint {} --data {} --users {} --batch-size {}", options->checkpoint,
                                        options->dataset, options->speed.max_users, options->speed.batch_size);
    const auto result = bench::run_decode_benchmark(*options);
    fmt::print("{}: {} users, beam {}, batches of {}\n", result["benchmark"].get<std::string>(), result["decode_users"].dump(),
               result["beam_width"].dump(), result["decode_batch_size"].dump());
    fmt::print("  KV cache     {:8.1f} users/s ({:.2f} s)\n", result["decode_users_per_second_kv_cache"].get<double>(),
               result["decode_seconds_kv_cache"].get<double>());
    fmt::print("  no KV cache  {:8.1f} users/s ({:.2f} s)\n", result["decode_users_per_second_no_kv_cache"].get<double>(),
               result["decode_seconds_no_kv_cache"].get<double>());
    fmt::print("  speedup      {:8.2f}x   (lists differing between the modes: {})\n", result["kv_cache_speedup"].get<double>(),
               result["kv_cache_lists_differing"].dump());
  });
}

void add_combine_command(CLI::App& bench) {
  struct Args {
    std::vector<std::string> files;
    std::string out;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = bench.add_subcommand("combine",
                                   "Merge result files of one benchmark whose seeds ran apart (e.g. --set seed=43 in another session) "
                                   "into one result with the mean over all seeds, as --seeds would have written it");
  cmd->add_option("files", args->files, "Result files of tessera bench (same benchmark and config, different seeds)")->required();
  cmd->add_option("--out", args->out, "Where the combined result goes (written atomically)")->required();
  cmd->callback([args] {
    std::vector<bench::SeedResultFile> files;
    for (const auto& path : args->files) files.push_back(bench::read_seed_result(path));
    auto result = bench::combine_seed_results(files);
    std::string command = "tessera bench combine";
    for (const auto& path : args->files) command += " " + path;
    result["command"] = command + " --out " + args->out;
    result["git_commit"] = bench::git_commit();
    write_text_atomically(args->out, result.dump(2) + "\n");
    print_result(result["benchmark"].get<std::string>(), result);
    fmt::print("  seeds: {} (std of recall@10 over seeds {:.4f}, ndcg@10 {:.4f}); wrote {}\n", result["seeds"].dump(),
               result["metrics_std_over_seeds"].value("recall@10", 0.0), result["metrics_std_over_seeds"].value("ndcg@10", 0.0),
               args->out);
  });
}

}  // namespace

void add_bench_command(CLI::App& app) {
  struct Args {
    std::string name;
    bool list = false;
    bench::BenchOptions options;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("bench", "Run a named benchmark end to end (prepare, train, evaluate) and record the result");
  cmd->add_option("name", args->name, "Benchmark name (see --list)");
  cmd->add_flag("--list", args->list, "List the benchmarks");
  cmd->add_option("--data-dir", args->options.data_dir, "Directory of the real datasets")->capture_default_str();
  cmd->add_option("--configs-dir", args->options.configs_dir, "Directory of config files (default: the repository's configs/)");
  cmd->add_option("--results-dir", args->options.results_dir, "Where <name>.json goes")->capture_default_str();
  cmd->add_option("--work-dir", args->options.work_dir, "Prepared data and training runs")->capture_default_str();
  cmd->add_option("--set", args->options.overrides, "Override a config key of the benchmark (recorded in the result)");
  cmd->add_flag("--resume", args->options.resume,
                "Continue interrupted training runs in --work-dir from their last.ckpt (same config); finished runs are only evaluated");
  cmd->add_option("--seeds", args->options.seeds, "Training runs with consecutive seeds (default: the benchmark's own, 3 for tiger-beauty)")
      ->check(CLI::Range(1, 20));
  cmd->add_option("--ids", args->options.ids_embedding,
                  "TIGER benchmarks: build the semantic IDs from these item vectors instead (content, item2vec or fused)");
  cmd->add_option("--ids-method", args->options.ids_method,
                  "TIGER benchmarks: tokenize with this method instead (rq-kmeans, rq-vae or random)");
  cmd->add_option("--ids-codebook-size", args->options.ids_codebook_size,
                  "TIGER benchmarks: codes per level of the semantic IDs instead of the benchmark's (256)")
      ->check(CLI::Range(2, 65536));
  add_decode_command(*cmd);
  add_bench_serve_command(*cmd);
  add_combine_command(*cmd);
  cmd->callback([args, cmd] {
    if (cmd->got_subcommand("decode") || cmd->got_subcommand("serve") || cmd->got_subcommand("combine")) return;
    if (args->list || args->name.empty()) {
      for (const auto& s : bench::benchmark_specs()) fmt::print("{:<24} {}\n", s.name, s.description);
      fmt::print("{:<24} {}\n", "decode", "TIGER decoding speed with and without the KV cache from a checkpoint (tessera bench decode --help)");
      fmt::print("{:<24} {}\n", "serve", "HTTP serving throughput and latency of a model bundle (tessera bench serve --help)");
      fmt::print("{:<24} {}\n", "combine", "One result from result files of a benchmark whose seeds ran apart (tessera bench combine --help)");
      return;
    }
    std::string command = "tessera bench " + args->name;
    if (args->options.data_dir != "../shared/data") command += " --data-dir " + args->options.data_dir;
    if (!args->options.configs_dir.empty()) command += " --configs-dir " + args->options.configs_dir;
    for (const auto& o : args->options.overrides) command += " --set " + o;
    if (args->options.seeds > 0) command += " --seeds " + std::to_string(args->options.seeds);
    if (!args->options.ids_embedding.empty()) command += " --ids " + args->options.ids_embedding;
    if (!args->options.ids_method.empty()) command += " --ids-method " + args->options.ids_method;
    if (args->options.ids_codebook_size != 0) command += " --ids-codebook-size " + std::to_string(args->options.ids_codebook_size);
    if (args->options.resume) command += " --resume";
    args->options.command_line = command;
    print_result(args->name, bench::run_benchmark(args->name, args->options));
  });
}

}  // namespace tessera::cli
