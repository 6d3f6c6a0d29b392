#include "tessera/bench/benchmarks.h"

#include <sys/resource.h>

#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "tessera/core/atomic_file.h"
#include "tessera/core/error.h"
#include "tessera/core/runtime.h"
#include "tessera/data/preprocess.h"
#include "tessera/data/stats.h"
#include "tessera/data/synth.h"
#include "tessera/eval/evaluator.h"
#include "tessera/eval/popularity.h"
#include "tessera/eval/report.h"
#include "tessera/infer/retrieval.h"
#include "tessera/train/trainer.h"

namespace tessera::bench {

namespace fs = std::filesystem;

const std::vector<BenchmarkSpec>& benchmark_specs() {
  static const std::vector<BenchmarkSpec> specs = {
      {"sasrec-synthetic", "SASRec on the built-in synthetic dataset (quick smoke benchmark)", "", "", "sasrec-synthetic.json",
       true, false, nlohmann::json::object()},
      {"sasrec-ml1m", "SASRec on MovieLens-1M, HSTU protocol: all 3,706 items, max length 200, full ranking, history masked",
       "ml-1m/ml-1m_sequences.txt.gz", "ml-1m/movies.dat", "sasrec-ml1m.json", false, true,
       {{"ndcg@10", 0.170}, {"hr@10", 0.300}}},
      {"sasrec-beauty", "SASRec on Amazon Beauty (5-core, S3-Rec/TIGER split): max length 50, full ranking",
       "Beauty/Beauty.txt", "Beauty/Beauty_item_info.tsv", "sasrec-beauty.json", false, true,
       {{"recall@10", 0.065}, {"ndcg@10", 0.035}}},
  };
  return specs;
}

double peak_rss_mb() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

std::string git_commit() {
  std::string cmd = std::string("git -C '") + TESSERA_SOURCE_DIR + "' rev-parse HEAD 2>/dev/null";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return "unknown";
  char buffer[128] = {0};
  std::string out;
  while (fgets(buffer, sizeof(buffer), pipe)) out += buffer;
  pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out.empty() ? "unknown" : out;
}

namespace {

std::string resolve(const std::string& dir, const std::string& path) {
  return fs::path(path).is_absolute() ? path : (fs::path(dir) / path).string();
}

const BenchmarkSpec& find_spec(const std::string& name) {
  for (const auto& s : benchmark_specs()) {
    if (s.name == name) return s;
  }
  std::string known;
  for (const auto& s : benchmark_specs()) known += (known.empty() ? "" : ", ") + s.name;
  throw Error(fmt::format("unknown benchmark '{}' (known: {})", name, known));
}

data::Dataset prepare_for(const BenchmarkSpec& spec, const BenchOptions& options) {
  data::PrepareOptions prepare;
  if (spec.synthetic) {
    auto files = data::write_synthetic(data::SynthOptions{}, (fs::path(options.work_dir) / "synthetic").string());
    prepare.input = files.interactions_path;
    prepare.metadata = files.items_path;
  } else {
    prepare.input = resolve(options.data_dir, spec.input);
    if (!fs::exists(prepare.input)) {
      throw Error(fmt::format("benchmark '{}' needs {} which is missing. The real datasets live in ../shared/data "
                              "(pass --data-dir to point elsewhere); they are never copied into the repository.",
                              spec.name, prepare.input));
    }
    if (!spec.metadata.empty()) prepare.metadata = resolve(options.data_dir, spec.metadata);
  }
  return data::prepare_dataset(prepare);
}

}  // namespace

nlohmann::json run_benchmark(const std::string& name, const BenchOptions& options) {
  const auto& spec = find_spec(name);
  std::fprintf(stderr, "[bench] %s: %s\n", spec.name.c_str(), spec.description.c_str());
  auto dataset = prepare_for(spec, options);
  const auto stats = data::compute_stats(dataset);
  std::fprintf(stderr, "%s\n", data::format_stats(stats).c_str());

  const std::string configs_dir = options.configs_dir.empty() ? (fs::path(TESSERA_SOURCE_DIR) / "configs").string() : options.configs_dir;
  auto config = train::load_config(resolve(configs_dir, spec.config));
  train::apply_overrides(config, options.overrides);
  train::TrainOptions train_options;
  train_options.run_dir = (fs::path(options.work_dir) / spec.name).string();
  train_options.dataset_path = spec.synthetic ? "synthetic" : resolve(options.data_dir, spec.input);
  auto trained_run = train::train_sequence_model(dataset, config, train_options);

  auto trained = train::load_trained_model(trained_run.best_checkpoint, &dataset);
  infer::SequenceModelScorer model_scorer(trained.model, config.model, config.max_len);
  eval::PopularityScorer popularity(dataset);
  nlohmann::json evaluations = nlohmann::json::object();
  nlohmann::json headline, headline_ci, popularity_headline;
  for (bool exclude : {false, true}) {
    eval::EvalOptions eval_options;
    eval_options.split = data::Split::kTest;
    eval_options.exclude_history = exclude;
    auto model_result = eval::evaluate(model_scorer, dataset, eval_options);
    auto pop_result = eval::evaluate(popularity, dataset, eval_options);
    std::vector<eval::EvalResult> both = {model_result, pop_result};
    std::fprintf(stderr, "%s\n", eval::format_table(both).c_str());
    const std::string key = exclude ? "history_excluded" : "history_included";
    evaluations[key] = {{"model", eval::to_json(model_result)}, {"popularity", eval::to_json(pop_result)}};
    if (exclude == spec.headline_exclude_history) {
      headline = eval::flat_metrics(model_result);
      popularity_headline = eval::flat_metrics(pop_result);
    }
  }

  nlohmann::json target_checks = nlohmann::json::object();
  bool all_met = true;
  for (const auto& [metric, minimum] : spec.targets.items()) {
    const double value = headline.value(metric, 0.0);
    const bool met = value >= minimum.get<double>();
    all_met = all_met && met;
    target_checks[metric] = {{"target", minimum}, {"value", value}, {"met", met}};
  }

  nlohmann::json result = {
      {"benchmark", spec.name},
      {"description", spec.description},
      {"dataset", dataset.name},
      {"dataset_stats", data::to_json(stats)},
      {"model", config.model},
      {"split", "test"},
      {"protocol", "leave-last-out, full ranking over all items"},
      {"history_excluded", spec.headline_exclude_history},
      {"metrics", headline},
      {"popularity_metrics", popularity_headline},
      {"evaluations", evaluations},
      {"targets", target_checks},
      {"targets_met", all_met},
      {"train_seconds", trained_run.train_seconds},
      {"train_total_seconds", trained_run.total_seconds},
      {"train_sequences_per_second", trained_run.sequences_per_second},
      {"train_tokens_per_second", trained_run.tokens_per_second},
      {"epochs", trained_run.epochs_completed},
      {"best_epoch", trained_run.best_epoch},
      {"best_valid_ndcg@10", trained_run.best_valid_ndcg10},
      {"early_stopped", trained_run.early_stopped},
      {"config", train::to_json(config)},
      {"peak_rss_mb", peak_rss_mb()},
      {"command", options.command_line},
      {"git_commit", git_commit()},
      {"threads", runtime_threads()},
  };
  const std::string out_path = (fs::path(options.results_dir) / (spec.name + ".json")).string();
  write_text_atomically(out_path, result.dump(2) + "\n");
  std::fprintf(stderr, "[bench] wrote %s\n", out_path.c_str());
  return result;
}

}  // namespace tessera::bench
