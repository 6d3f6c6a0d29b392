#include "tessera/bench/benchmarks.h"

#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>

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
#include "tessera/bench/decode_speed.h"
#include "tessera/bench/semantic_recipe.h"
#include "tessera/infer/model_loader.h"
#include "tessera/train/trainer.h"

namespace tessera::bench {

namespace fs = std::filesystem;

namespace {

// TIGER's tokenizer defaults in benchmarks: 3 levels of 256 codes by balanced residual k-means.
SemanticIdRecipe recipe(std::string label, std::string embedding, std::string method = "rq-kmeans",
                        std::vector<std::string> overrides = {}) {
  SemanticIdRecipe r;
  r.label = std::move(label);
  r.embedding = std::move(embedding);
  r.tokenizer.method = std::move(method);
  r.tokenizer.num_codebooks = 3;
  r.tokenizer.codebook_size = 256;
  r.tokenizer.balanced = true;
  r.overrides = std::move(overrides);
  return r;
}

BenchmarkSpec tiger_spec(std::string name, std::string description, std::string input, std::string metadata, std::string config,
                         nlohmann::json targets, std::vector<SemanticIdRecipe> recipes, int seeds, std::string extra_text = "") {
  BenchmarkSpec spec{std::move(name), std::move(description), std::move(input), std::move(metadata), std::move(config), false,
                     false, std::move(targets), {}, 1};
  for (auto& r : recipes) r.extra_text = extra_text;
  spec.semantic_ids = std::move(recipes);
  spec.seeds = seeds;
  return spec;
}

}  // namespace

const std::vector<BenchmarkSpec>& benchmark_specs() {
  static const std::vector<BenchmarkSpec> specs = {
      {"sasrec-synthetic", "SASRec on the built-in synthetic dataset (quick smoke benchmark)", "", "", "sasrec-synthetic.json",
       true, false, nlohmann::json::object(), {}, 1},
      {"sasrec-ml1m", "SASRec on MovieLens-1M, HSTU protocol: all 3,706 items, max length 200, full ranking, history masked",
       "ml-1m/ml-1m_sequences.txt.gz", "ml-1m/movies.dat", "sasrec-ml1m.json", false, true,
       {{"ndcg@10", 0.170}, {"hr@10", 0.300}}, {}, 1},
      {"sasrec-beauty", "SASRec on Amazon Beauty (5-core, S3-Rec/TIGER split): max length 50, full ranking",
       "Beauty/Beauty.txt", "Beauty/Beauty_item_info.tsv", "sasrec-beauty.json", false, true,
       {{"recall@10", 0.065}, {"ndcg@10", 0.035}}, {}, 1},
      tiger_spec("tiger-beauty",
                 "TIGER on Amazon Beauty: fused content + item2vec vectors, balanced RQ-KMeans 3x256 IDs, beam 20, mean of 3 seeds",
                 "Beauty/Beauty.txt", "Beauty/Beauty_item_info.tsv", "tiger-beauty.json",
                 {{"recall@5", 0.0454}, {"ndcg@5", 0.0321}, {"recall@10", 0.0648}, {"ndcg@10", 0.0384}},
                 {recipe("fused", "fused")}, 3, "Beauty/item_generative_indexing_phase_0.txt"),
      tiger_spec("tiger-ml1m", "TIGER on MovieLens-1M: fused content + item2vec vectors, balanced RQ-KMeans 3x256 IDs, beam 20",
                 "ml-1m/ml-1m_sequences.txt.gz", "ml-1m/movies.dat", "tiger-ml1m.json", nlohmann::json::object(),
                 {recipe("fused", "fused")}, 1),
      tiger_spec("tiger-beauty-ablation",
                 "TIGER on Beauty, shortened training (20 epochs): random IDs vs semantic IDs from content, item2vec and fused vectors",
                 "Beauty/Beauty.txt", "Beauty/Beauty_item_info.tsv", "tiger-beauty.json", nlohmann::json::object(),
                 {recipe("random", "content", "random", {"epochs=20"}), recipe("content", "content", "rq-kmeans", {"epochs=20"}),
                  recipe("item2vec", "item2vec", "rq-kmeans", {"epochs=20"}), recipe("fused", "fused", "rq-kmeans", {"epochs=20"})},
                 1, "Beauty/item_generative_indexing_phase_0.txt"),
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

std::string write_result(nlohmann::json& result, const std::string& results_dir, const std::string& file_name,
                         const std::string& command_line) {
  result["peak_rss_mb"] = peak_rss_mb();
  result["command"] = command_line;
  result["git_commit"] = git_commit();
  result["threads"] = runtime_threads();
  const std::string path = (fs::path(results_dir) / (file_name + ".json")).string();
  write_text_atomically(path, result.dump(2) + "\n");
  std::fprintf(stderr, "[bench] wrote %s\n", path.c_str());
  return path;
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

namespace {

// One training run and its test evaluation (both history settings) next to popularity.
struct RunOutcome {
  train::TrainResult train;
  nlohmann::json evaluations = nlohmann::json::object();
  nlohmann::json headline, headline_ci, popularity_headline;
  double decode_users_per_second = 0;       // TIGER: test users per second of the whole test evaluation
  double invalid_item_rate = 0;             // TIGER: generated items that are not valid items
  std::optional<DecodeSpeed> decode_speed;  // TIGER: KV cache vs recomputed prefix (decode_speed.h)
};

RunOutcome train_and_evaluate(const BenchmarkSpec& spec, const data::Dataset& dataset, const train::TrainConfig& config,
                              const std::string& run_dir, const std::string& dataset_path) {
  RunOutcome outcome;
  train::TrainOptions train_options;
  train_options.run_dir = run_dir;
  train_options.dataset_path = dataset_path;
  outcome.train = train::train_model(dataset, config, train_options);

  auto model = infer::LoadedModel::load(outcome.train.best_checkpoint, &dataset);
  eval::PopularityScorer popularity(dataset);
  for (bool exclude : {false, true}) {
    eval::EvalOptions eval_options;
    eval_options.split = data::Split::kTest;
    eval_options.exclude_history = exclude;
    auto model_result = model.evaluate(dataset, eval_options);
    auto pop_result = eval::evaluate(popularity, dataset, eval_options);
    std::vector<eval::EvalResult> both = {model_result, pop_result};
    std::fprintf(stderr, "%s\n", eval::format_table(both).c_str());
    const std::string key = exclude ? "history_excluded" : "history_included";
    outcome.evaluations[key] = {{"model", eval::to_json(model_result)}, {"popularity", eval::to_json(pop_result)}};
    if (exclude == spec.headline_exclude_history) {
      outcome.headline = eval::flat_metrics(model_result);
      outcome.popularity_headline = eval::flat_metrics(pop_result);
      if (model.tiger()) outcome.decode_users_per_second = static_cast<double>(model_result.num_users) / model_result.seconds;
    }
  }
  if (auto* tiger = model.tiger()) {
    outcome.invalid_item_rate = tiger->items_generated() > 0
                                    ? static_cast<double>(tiger->invalid_generated()) / static_cast<double>(tiger->items_generated())
                                    : 0.0;
    outcome.decode_speed = measure_decode_speed(*tiger, dataset, DecodeSpeedOptions{});
  }
  return outcome;
}

// Field-wise mean over runs of JSON objects with the same numeric fields (the keys of the first);
// a field equal in every run keeps its value and type. `spread`, if given, receives each field's
// sample standard deviation (0 for one run).
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

nlohmann::json tokenizer_fields(const tokenize::SemanticIds& ids) {
  const auto& r = ids.report;
  return {{"method", ids.method},
          {"collision_rate", r.at("collisions").at("rate_before")},
          {"collision_rate_after", r.at("collisions").at("rate_after")},
          {"codebook_utilization", r.at("levels").at(0).at("utilisation")},
          {"codebook_utilization_by_level", [&] {
             nlohmann::json u = nlohmann::json::array();
             for (const auto& level : r.at("levels")) u.push_back(level.at("utilisation"));
             return u;
           }()},
          {"level_sizes", ids.level_sizes},
          {"report", r}};
}

}  // namespace

nlohmann::json run_benchmark(const std::string& name, const BenchOptions& options) {
  const auto& spec = find_spec(name);
  std::fprintf(stderr, "[bench] %s: %s\n", spec.name.c_str(), spec.description.c_str());
  auto dataset = prepare_for(spec, options);
  const auto stats = data::compute_stats(dataset);
  std::fprintf(stderr, "%s\n", data::format_stats(stats).c_str());
  const std::string dataset_path = spec.synthetic ? "synthetic" : resolve(options.data_dir, spec.input);
  const std::string configs_dir = options.configs_dir.empty() ? (fs::path(TESSERA_SOURCE_DIR) / "configs").string() : options.configs_dir;
  const std::string bench_dir = (fs::path(options.work_dir) / spec.name).string();
  const int seeds = options.seeds > 0 ? options.seeds : spec.seeds;

  // Item-ID models have one variant without semantic IDs; TIGER one per recipe.
  std::vector<const SemanticIdRecipe*> recipes;
  for (const auto& r : spec.semantic_ids) recipes.push_back(&r);
  if (recipes.empty()) recipes.push_back(nullptr);

  const auto start = std::chrono::steady_clock::now();
  nlohmann::json variants = nlohmann::json::array();
  train::TrainConfig first_config;
  std::vector<RunOutcome> first_runs;
  for (const auto* recipe : recipes) {
    auto config = train::load_config(resolve(configs_dir, spec.config));
    nlohmann::json variant = {{"label", recipe ? recipe->label : spec.name}};
    if (recipe) {
      train::apply_overrides(config, recipe->overrides);
      auto ids = build_semantic_ids(dataset, *recipe, options.data_dir);
      fs::create_directories(bench_dir);
      const auto ids_path = (fs::path(bench_dir) / (recipe->label + ".sids")).string();
      tokenize::save_semantic_ids(ids, ids_path);
      config.semantic_ids = ids_path;
      variant["embedding"] = recipe->tokenizer.method == "random" ? "none" : recipe->embedding;
      variant["tokenizer"] = tokenizer_fields(ids);
      variant["config_overrides"] = recipe->overrides;
    }
    train::apply_overrides(config, options.overrides);
    std::vector<RunOutcome> runs;
    nlohmann::json per_seed = nlohmann::json::array();
    std::vector<nlohmann::json> headlines, decode_speeds;
    const auto base_seed = config.seed;
    for (int s = 0; s < seeds; ++s) {
      config.seed = base_seed + s;
      const auto run_dir = (fs::path(bench_dir) / fmt::format("{}seed{}", recipe ? recipe->label + "-" : "", config.seed)).string();
      std::fprintf(stderr, "[bench] %s: training %s (seed %lld) in %s\n", spec.name.c_str(), variant["label"].get<std::string>().c_str(),
                   static_cast<long long>(config.seed), run_dir.c_str());
      runs.push_back(train_and_evaluate(spec, dataset, config, run_dir, dataset_path));
      const auto& r = runs.back();
      nlohmann::json entry = {{"seed", config.seed},
                              {"metrics", r.headline},
                              {"train_seconds", r.train.train_seconds},
                              {"epochs", r.train.epochs_completed},
                              {"best_epoch", r.train.best_epoch},
                              {"best_valid_" + r.train.valid_metric, r.train.best_valid_metric}};
      headlines.push_back(r.headline);
      if (r.decode_speed) {
        decode_speeds.push_back(to_json(*r.decode_speed));
        entry.update(decode_speeds.back());
      }
      per_seed.push_back(entry);
    }
    nlohmann::json spread = nlohmann::json::object();
    variant["metrics"] = mean_fields(headlines, &spread);
    variant["metrics_std"] = spread;
    variant["per_seed"] = per_seed;
    if (config.model == "tiger") {
      double decode = 0, invalid = 0;
      for (const auto& r : runs) {
        decode += r.decode_users_per_second / static_cast<double>(runs.size());
        invalid = std::max(invalid, r.invalid_item_rate);
      }
      variant["decode_users_per_second"] = decode;
      variant["invalid_item_rate"] = invalid;
      variant.update(mean_fields(decode_speeds, nullptr));
    }
    variants.push_back(variant);
    if (first_runs.empty()) {
      first_runs = std::move(runs);
      first_config = config;
      first_config.seed = base_seed;
    }
  }

  // The headline is the first variant (the only one outside ablations), mean over seeds.
  const auto& main = variants[0];
  const auto& headline = main["metrics"];
  nlohmann::json target_checks = nlohmann::json::object();
  bool all_met = true;
  for (const auto& [metric, minimum] : spec.targets.items()) {
    const double value = headline.value(metric, 0.0);
    const bool met = value >= minimum.get<double>();
    all_met = all_met && met;
    target_checks[metric] = {{"target", minimum}, {"value", value}, {"met", met}};
  }
  double train_seconds = 0, examples_per_second = 0, tokens_per_second = 0;
  for (const auto& r : first_runs) {
    train_seconds += r.train.train_seconds / static_cast<double>(first_runs.size());
    examples_per_second += r.train.examples_per_second / static_cast<double>(first_runs.size());
    tokens_per_second += r.train.tokens_per_second / static_cast<double>(first_runs.size());
  }
  const auto& first = first_runs[0];

  nlohmann::json result = {
      {"benchmark", spec.name},
      {"description", spec.description},
      {"dataset", dataset.name},
      {"dataset_stats", data::to_json(stats)},
      {"model", first_config.model},
      {"split", "test"},
      {"protocol", first_config.model == "tiger" ? "leave-last-out, constrained beam search over all items"
                                                 : "leave-last-out, full ranking over all items"},
      {"history_excluded", spec.headline_exclude_history},
      {"metrics", headline},
      {"metrics_std_over_seeds", main["metrics_std"]},
      {"seeds", seeds},
      {"per_seed", main["per_seed"]},
      {"popularity_metrics", first.popularity_headline},
      {"evaluations", first.evaluations},
      {"targets", target_checks},
      {"targets_met", all_met},
      {"train_seconds", train_seconds},
      {"train_total_seconds", first.train.total_seconds},
      {"train_sequences_per_second", examples_per_second},
      {"train_tokens_per_second", tokens_per_second},
      {"epochs", first.train.epochs_completed},
      {"best_epoch", first.train.best_epoch},
      {"best_valid_" + first.train.valid_metric, first.train.best_valid_metric},
      {"early_stopped", first.train.early_stopped},
      {"config", train::to_json(first_config)},
      {"bench_seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()},
  };
  if (main.contains("tokenizer")) {
    result["collision_rate"] = main["tokenizer"]["collision_rate"];
    result["codebook_utilization"] = main["tokenizer"]["codebook_utilization"];
    result["tokenizer"] = main["tokenizer"];
    result["invalid_item_rate"] = main["invalid_item_rate"];
    result["decode_users_per_second"] = main["decode_users_per_second"];
    result["beam_width"] = first_config.beam_width;
  }
  if (first.decode_speed) {
    const auto decode_keys = to_json(*first.decode_speed);
    for (const auto& [key, value] : decode_keys.items()) result[key] = main[key];
  }
  if (variants.size() > 1) result["variants"] = variants;
  write_result(result, options.results_dir, spec.name, options.command_line);
  return result;
}

}  // namespace tessera::bench
