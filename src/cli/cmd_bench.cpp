// tessera bench: run a named end-to-end benchmark and write bench/results/<name>.json.
#include <fmt/format.h>

#include "cli/commands.h"
#include "tessera/bench/benchmarks.h"

namespace tessera::cli {

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
  cmd->callback([args, cmd] {
    if (args->list || args->name.empty()) {
      for (const auto& s : bench::benchmark_specs()) fmt::print("{:<18} {}\n", s.name, s.description);
      return;
    }
    std::string command = "tessera bench " + args->name;
    if (args->options.data_dir != "../shared/data") command += " --data-dir " + args->options.data_dir;
    for (const auto& o : args->options.overrides) command += " --set " + o;
    args->options.command_line = command;
    auto result = bench::run_benchmark(args->name, args->options);
    fmt::print("{}: {} on {} ({}), test split, history {}:\n", args->name, result["model"].get<std::string>(),
               result["dataset"].get<std::string>(), result["protocol"].get<std::string>(),
               result["history_excluded"].get<bool>() ? "excluded" : "included");
    for (const auto& [k, v] : result["metrics"].items()) fmt::print("  {:<10} {:.4f}\n", k, v.get<double>());
    for (const auto& [k, v] : result["targets"].items()) {
      fmt::print("  target {:<10} >= {:.4f}: {:.4f} {}\n", k, v["target"].get<double>(), v["value"].get<double>(),
                 v["met"].get<bool>() ? "MET" : "NOT MET");
    }
    fmt::print("  train {:.0f} s, {:.1f} seq/s, peak RSS {:.0f} MiB\n", result["train_seconds"].get<double>(),
               result["train_sequences_per_second"].get<double>(), result["peak_rss_mb"].get<double>());
    (void)cmd;
  });
}

}  // namespace tessera::cli
