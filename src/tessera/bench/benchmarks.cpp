#include "tessera/bench/benchmarks.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>

#include <fmt/format.h>

#include "tessera/bench/seed_results.h"
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
#include "tessera/bench/matmul_peak.h"
#include "tessera/bench/semantic_recipe.h"
#include "tessera/infer/model_loader.h"
#include "tessera/train/trainer.h"

namespace tessera::bench {

namespace fs = std::filesystem;

namespace {

// TIGER's tokenizer defaults in benchmarks: 3 levels of 256 codes by balanced residual k-means
// (balancing is a k-means option, so other methods run without it).
SemanticIdRecipe recipe(std::string label, std::string embedding, std::string method = "rq-kmeans",
                        std::vector<std::string> overrides = {}) {
  SemanticIdRecipe r;
  r.label = std::move(label);
  r.embedding = std::move(embedding);
  r.tokenizer.method = std::move(method);
  r.tokenizer.num_codebooks = 3;
  r.tokenizer.codebook_size = 256;
  r.tokenizer.balanced = r.tokenizer.method == "rq-kmeans";
  r.overrides = std::move(overrides);
  return r;
}

// The fields every benchmark sets; the others keep their defaults.
BenchmarkSpec base_spec(std::string name, std::string description, std::string input, std::string metadata, std::string config,
                        bool headline_exclude_history, nlohmann::json targets) {
  BenchmarkSpec spec;
  spec.name = std::move(name);
  spec.description = std::move(description);
  spec.input = std::move(input);
  spec.metadata = std::move(metadata);
  spec.config = std::move(config);
  spec.headline_exclude_history = headline_exclude_history;
  spec.targets = std::move(targets);
  return spec;
}

BenchmarkSpec tiger_spec(std::string name, std::string description, std::string input, std::string metadata, std::string config,
                         nlohmann::json targets, std::vector<SemanticIdRecipe> recipes, int seeds, std::string extra_text = "") {
  auto spec = base_spec(std::move(name), std::move(description), std::move(input), std::move(metadata), std::move(config), false,
                        std::move(targets));
  for (auto& r : recipes) r.extra_text = extra_text;
  spec.semantic_ids = std::move(recipes);
  spec.seeds = seeds;
  return spec;
}

// An item-ID sequence-model benchmark on real data, headline with history masked (the protocol
// of sasrec-ml1m and sasrec-beauty).
BenchmarkSpec sequence_spec(std::string name, std::string description, std::string input, std::string metadata, std::string config,
                            nlohmann::json targets, std::vector<ConfigVariant> variants = {}, std::vector<VariantRatio> ratios = {},
                            bool evaluate_test = true) {
  auto spec = base_spec(std::move(name), std::move(description), std::move(input), std::move(metadata), std::move(config), true,
                        std::move(targets));
  spec.variants = std::move(variants);
  spec.ratios = std::move(ratios);
  spec.evaluate_test = evaluate_test;
  return spec;
}

// Variant overrides: `base` followed by `extra`.
std::vector<std::string> with(std::vector<std::string> base, const std::vector<std::string>& extra) {
  base.insert(base.end(), extra.begin(), extra.end());
  return base;
}

// tiger-beauty-ablation: every variant trains the same two epochs (cosine schedule over them) on
// the semantic IDs alone: the hashed item embedding would give even random IDs each item's
// identity, which is not what this ablation compares. Validation keeps the 2,000-user sample and
// dropout 0.1 that the ablation was measured with (tiger-beauty.json now validates on every user, a
// minute per epoch here, and uses no dropout).
const std::vector<std::string> kAblationSettings = {"epochs=2", "eval_every=1", "item_buckets=0", "item_dropout=0",
                                                    "eval_users=2000", "dropout=0.1"};
// hstu-beauty-packing: every run does the same fixed work (no early stop), so train time compares.
// The packed and padded runs see the same random batches (no length bucketing); a third run is
// padded with length bucketing, the usual way to cut padding without a jagged path.
const std::vector<std::string> kFixedTenEpochs = {"epochs=10", "patience=1000"};
// sequence-throughput-ml1m: equal depth, width, loss and batch path for both models, one epoch,
// validation on a few users only (the trainer always validates after the last epoch;
// train_seconds excludes it). The feed-forward layer is SASRec's original GELU one, whatever
// configs/sasrec-ml1m.json uses.
const std::vector<std::string> kThroughputShape = {"num_blocks=2", "d_model=50",          "num_heads=1",   "max_len=200",
                                                   "loss=full",    "packed_batches=true", "batch_size=128", "epochs=1",
                                                   "eval_users=100", "ffn_activation=gelu"};

}  // namespace

const std::vector<BenchmarkSpec>& benchmark_specs() {
  static const std::vector<BenchmarkSpec> specs = {
      [] {
        auto spec = base_spec("sasrec-synthetic", "SASRec on the built-in synthetic dataset (quick smoke benchmark)", "", "",
                              "sasrec-synthetic.json", false, nlohmann::json::object());
        spec.synthetic = true;
        return spec;
      }(),
      sequence_spec("sasrec-ml1m", "SASRec on MovieLens-1M, HSTU protocol: all 3,706 items, max length 200, full ranking, history masked",
                    "ml-1m/ml-1m_sequences.txt.gz", "ml-1m/movies.dat", "sasrec-ml1m.json", {{"ndcg@10", 0.170}, {"hr@10", 0.300}}),
      sequence_spec("sasrec-beauty", "SASRec on Amazon Beauty (5-core, S3-Rec/TIGER split): max length 50, full ranking",
                    "Beauty/Beauty.txt", "Beauty/Beauty_item_info.tsv", "sasrec-beauty.json", {{"recall@10", 0.065}, {"ndcg@10", 0.035}}),
      tiger_spec("tiger-beauty",
                 "TIGER on Amazon Beauty: fused content + item2vec vectors, balanced RQ-KMeans 3x256 IDs, beam 20, mean of 3 seeds",
                 "Beauty/Beauty.txt", "Beauty/Beauty_item_info.tsv", "tiger-beauty.json",
                 {{"recall@5", 0.0454}, {"ndcg@5", 0.0321}, {"recall@10", 0.0648}, {"ndcg@10", 0.0384}},
                 {recipe("fused", "fused")}, 3, "Beauty/item_generative_indexing_phase_0.txt"),
      tiger_spec("tiger-ml1m", "TIGER on MovieLens-1M: fused content + item2vec vectors, balanced RQ-KMeans 3x256 IDs, beam 20",
                 "ml-1m/ml-1m_sequences.txt.gz", "ml-1m/movies.dat", "tiger-ml1m.json", nlohmann::json::object(),
                 {recipe("fused", "fused")}, 1),
      // Two epochs per variant (~14 minutes each here, against ~80 for tiger-beauty's 15), so the
      // four fit in an hour; the IDs' ranking shows from the first validation on.
      tiger_spec("tiger-beauty-ablation",
                 "TIGER on Beauty, shortened training (2 epochs): random IDs vs semantic IDs from content, item2vec and fused vectors",
                 "Beauty/Beauty.txt", "Beauty/Beauty_item_info.tsv", "tiger-beauty.json", nlohmann::json::object(),
                 {recipe("random", "content", "random", kAblationSettings), recipe("content", "content", "rq-kmeans", kAblationSettings),
                  recipe("item2vec", "item2vec", "rq-kmeans", kAblationSettings), recipe("fused", "fused", "rq-kmeans", kAblationSettings)},
                 1, "Beauty/item_generative_indexing_phase_0.txt"),
      sequence_spec("hstu-ml1m", "HSTU on MovieLens-1M, HSTU protocol (as sasrec-ml1m): full ranking, history masked",
                    "ml-1m/ml-1m_sequences.txt.gz", "ml-1m/movies.dat", "hstu-ml1m.json", nlohmann::json::object()),
      sequence_spec("hstu-large-ml1m", "HSTU-large on MovieLens-1M, HSTU protocol: full ranking, history masked",
                    "ml-1m/ml-1m_sequences.txt.gz", "ml-1m/movies.dat", "hstu-large-ml1m.json",
                    {{"hr@10", 0.3294}, {"ndcg@10", 0.1893}}),
      sequence_spec("hstu-beauty", "HSTU on Amazon Beauty (as sasrec-beauty): full ranking, history masked", "Beauty/Beauty.txt",
                    "Beauty/Beauty_item_info.tsv", "hstu-beauty.json", {{"hr@10", 0.0704}, {"ndcg@10", 0.0389}}),
      sequence_spec("hstu-beauty-packing",
                    "hstu-beauty's config, 10 epochs, same seed: packed (jagged) vs padded random batches, and padded "
                    "length-bucketed batches",
                    "Beauty/Beauty.txt", "Beauty/Beauty_item_info.tsv", "hstu-beauty.json", nlohmann::json::object(),
                    {{"packed", with({"packed_batches=true", "length_bucketing=false"}, kFixedTenEpochs)},
                     {"padded", with({"packed_batches=false", "length_bucketing=false"}, kFixedTenEpochs)},
                     {"padded-bucketed", with({"packed_batches=false", "length_bucketing=true"}, kFixedTenEpochs)}},
                    {{"packed_speedup", "train_seconds", "padded", "packed"},
                     {"packed_to_bucketed_speedup", "train_seconds", "padded-bucketed", "packed"}}),
      [] {
        auto spec = sequence_spec("hstu-time-ml100k",
                                  "HSTU (hstu-ml1m's config) on MovieLens-100k, which has timestamps: relative attention bias over "
                                  "positions only vs positions and 128 log-spaced time buckets, 3 seeds each; full ranking, history masked",
                                  "ml-100k/u.data", "ml-100k/u.item", "hstu-ml1m.json", nlohmann::json::object(),
                                  {{"positions", {"time_buckets=0"}}, {"time-buckets", {"time_buckets=128"}}});
        spec.seeds = 3;
        return spec;
      }(),
      sequence_spec("sequence-throughput-ml1m",
                    "Training throughput on MovieLens-1M, SASRec vs HSTU at equal size (2 blocks, d 50, 1 head, length 200, full "
                    "softmax), 1 epoch each, no test evaluation",
                    "ml-1m/ml-1m_sequences.txt.gz", "ml-1m/movies.dat", "sasrec-ml1m.json", nlohmann::json::object(),
                    {{"sasrec", with({"model=sasrec"}, kThroughputShape)}, {"hstu", with({"model=hstu"}, kThroughputShape)}},
                    {{"hstu_to_sasrec_tokens_per_second", "tokens_per_second", "hstu", "sasrec"},
                     {"hstu_to_sasrec_achieved_gflops", "achieved_gflops", "hstu", "sasrec"}},
                    false),
  };
  return specs;
}

double peak_rss_mb() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

namespace {

std::string command_output(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return {};
  char buffer[256] = {0};
  std::string out;
  while (fgets(buffer, sizeof(buffer), pipe)) out += buffer;
  pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace

std::string git_commit() {
  static const std::string commit = [] {
    const std::string git = std::string("git -C '") + TESSERA_SOURCE_DIR + "' ";
    auto head = command_output(git + "rev-parse HEAD 2>/dev/null");
    if (head.empty()) return std::string("unknown");
    if (!command_output(git + "status --porcelain --untracked-files=no 2>/dev/null").empty()) head += "-dirty";
    return head;
  }();
  return commit;
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

// One training run and, unless the benchmark only measures training, its test evaluation (both
// history settings) next to popularity.
struct RunOutcome {
  train::TrainResult train;
  nlohmann::json evaluations = nlohmann::json::object();
  nlohmann::json headline = nlohmann::json::object(), popularity_headline = nlohmann::json::object();
  nlohmann::json other_setting = nlohmann::json::object();  // the model's flat metrics in the other history setting
  double decode_users_per_second = 0;       // TIGER: test users per second of the whole test evaluation
  double invalid_item_rate = 0;             // TIGER: generated items that are not valid items
  std::optional<DecodeSpeed> decode_speed;  // TIGER: KV cache vs recomputed prefix (decode_speed.h)
};

RunOutcome train_and_evaluate(const BenchmarkSpec& spec, const data::Dataset& dataset, const train::TrainConfig& config,
                              const std::string& run_dir, const std::string& dataset_path, bool resume) {
  RunOutcome outcome;
  train::TrainOptions train_options;
  train_options.run_dir = run_dir;
  train_options.dataset_path = dataset_path;
  train_options.resume = resume && fs::exists(fs::path(run_dir) / "last.ckpt");
  outcome.train = train::train_model(dataset, config, train_options);
  if (!spec.evaluate_test) return outcome;

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
    } else {
      outcome.other_setting = eval::flat_metrics(model_result);
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

// The result field with the mean of the history setting that `metrics` does not report.
std::string other_metrics_key(const BenchmarkSpec& spec) {
  return spec.headline_exclude_history ? "metrics_history_included" : "metrics_history_excluded";
}

// Training-efficiency fields of one run (see the file comment of benchmarks.h).
nlohmann::json efficiency_fields(const train::TrainResult& t, double matmul_peak_gflops) {
  return {{"train_seconds", t.train_seconds},
          {"train_sequences_per_second", t.examples_per_second},
          {"tokens_per_second", t.tokens_per_second},
          {"padding_fraction", t.padding_fraction},
          {"padding_fraction_saved", t.padding_fraction_saved},
          {"achieved_gflops", t.achieved_gflops},
          {"matmul_peak_gflops", matmul_peak_gflops},
          {"achieved_fraction_of_peak", matmul_peak_gflops > 0 ? t.achieved_gflops / matmul_peak_gflops : 0.0}};
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

// What one benchmark trains: its semantic-ID recipes (TIGER), its config variants (item-ID
// models), or, with neither, the config as it is (empty label).
struct PlannedVariant {
  std::string label;
  std::vector<std::string> overrides;
  const SemanticIdRecipe* recipe = nullptr;
};

std::vector<PlannedVariant> plan_variants(const BenchmarkSpec& spec, const std::vector<SemanticIdRecipe>& recipes) {
  std::vector<PlannedVariant> planned;
  for (const auto& r : recipes) planned.push_back({r.label, r.overrides, &r});
  for (const auto& v : spec.variants) planned.push_back({v.label, v.overrides, nullptr});
  if (planned.empty()) planned.push_back({});
  return planned;
}

// Where a variant's semantic IDs are written in the benchmark's folder (TIGER recipes only).
std::string semantic_ids_path(const std::string& bench_dir, const PlannedVariant& planned) {
  return planned.recipe == nullptr ? "" : (fs::path(bench_dir) / (planned.recipe->label + ".sids")).string();
}

// One variant's training config: the benchmark's config file, the variant's overrides, its
// semantic-ID file, then the command line's --set overrides, in that order.
train::TrainConfig variant_config(const std::string& config_path, const PlannedVariant& planned, const std::string& bench_dir,
                                  const std::vector<std::string>& cli_overrides) {
  auto config = train::load_config(config_path);
  train::apply_overrides(config, planned.overrides);
  if (planned.recipe != nullptr) config.semantic_ids = semantic_ids_path(bench_dir, planned);
  train::apply_overrides(config, cli_overrides);
  return config;
}

const nlohmann::json& variant_named(const nlohmann::json& variants, const std::string& label, const std::string& benchmark) {
  for (const auto& v : variants) {
    if (v.at("label") == label) return v;
  }
  throw Error(fmt::format("benchmark '{}': a ratio names variant '{}', which it does not train", benchmark, label));
}

}  // namespace

std::vector<SemanticIdRecipe> semantic_id_recipes(const BenchmarkSpec& spec, const BenchOptions& options) {
  auto recipes = spec.semantic_ids;
  if (options.ids_embedding.empty() && options.ids_method.empty() && options.ids_codebook_size == 0) return recipes;
  if (recipes.size() != 1) {
    throw Error(fmt::format("benchmark '{}': --ids, --ids-method and --ids-codebook-size apply to a TIGER benchmark with one kind of "
                            "semantic IDs; {}",
                            spec.name, recipes.empty() ? "it trains no semantic IDs" : "it compares several (an ablation)"));
  }
  auto& r = recipes[0];
  if (!options.ids_embedding.empty()) r.embedding = options.ids_embedding;
  if (!options.ids_method.empty()) {
    r.tokenizer.method = options.ids_method;
    r.tokenizer.balanced = r.tokenizer.method == "rq-kmeans";
  }
  if (options.ids_codebook_size != 0) r.tokenizer.codebook_size = options.ids_codebook_size;
  try {
    check_recipe(r);
  } catch (const Error& e) {
    throw Error(fmt::format("benchmark '{}' with --ids '{}' --ids-method '{}' --ids-codebook-size {}: {}", spec.name, r.embedding,
                            r.tokenizer.method, r.tokenizer.codebook_size, e.what()));
  }
  r.label = r.tokenizer.method == "random" ? "random" : r.embedding;
  if (r.tokenizer.method == "rq-vae") r.label += "-rq-vae";
  if (options.ids_codebook_size != 0) r.label += fmt::format("-k{}", r.tokenizer.codebook_size);
  return recipes;
}

std::string run_description(const BenchmarkSpec& spec, const BenchOptions& options) {
  std::vector<std::string> changes;
  if (options.seeds > 0 && options.seeds != spec.seeds) changes.push_back(fmt::format("{} seed{}", options.seeds, options.seeds == 1 ? "" : "s"));
  if (!options.ids_embedding.empty()) changes.push_back("--ids " + options.ids_embedding);
  if (!options.ids_method.empty()) changes.push_back("--ids-method " + options.ids_method);
  if (options.ids_codebook_size != 0) changes.push_back(fmt::format("--ids-codebook-size {}", options.ids_codebook_size));
  for (const auto& o : options.overrides) changes.push_back("--set " + o);
  if (changes.empty()) return spec.description;
  return fmt::format("{}{}{}", spec.description, kRunChangesMarker, fmt::join(changes, ", "));
}

nlohmann::json run_benchmark(const std::string& name, const BenchOptions& options) {
  const auto& spec = find_spec(name);
  git_commit();  // pins the commit this run starts from
  const auto recipes = semantic_id_recipes(spec, options);  // checks --ids/--ids-method before any work
  const auto description = run_description(spec, options);
  const std::string configs_dir = options.configs_dir.empty() ? (fs::path(TESSERA_SOURCE_DIR) / "configs").string() : options.configs_dir;
  const std::string config_path = resolve(configs_dir, spec.config);
  const std::string bench_dir = (fs::path(options.work_dir) / spec.name).string();
  const auto planned_variants = plan_variants(spec, recipes);
  // Each variant's config is read once and checked here, so a bad config or --set stops the run
  // before any data or file is made, and the config trained below is the one checked.
  std::vector<train::TrainConfig> variant_configs;
  for (const auto& planned : planned_variants) {
    variant_configs.push_back(variant_config(config_path, planned, bench_dir, options.overrides));
    variant_configs.back().validate();
  }
  std::fprintf(stderr, "[bench] %s: %s\n", spec.name.c_str(), description.c_str());
  auto dataset = prepare_for(spec, options);
  const auto stats = data::compute_stats(dataset);
  std::fprintf(stderr, "%s\n", data::format_stats(stats).c_str());
  const std::string dataset_path = spec.synthetic ? "synthetic" : resolve(options.data_dir, spec.input);
  const int seeds = options.seeds > 0 ? options.seeds : spec.seeds;
  const double matmul_peak = measure_matmul_peak_gflops();
  std::fprintf(stderr, "[bench] matmul peak of this machine: %.1f GFLOP/s (%d threads)\n", matmul_peak, runtime_threads());

  const auto start = std::chrono::steady_clock::now();
  nlohmann::json variants = nlohmann::json::array();
  std::vector<RunOutcome> first_runs;
  for (std::size_t v = 0; v < planned_variants.size(); ++v) {
    const auto& planned = planned_variants[v];
    auto config = variant_configs[v];
    nlohmann::json variant = {{"label", planned.label.empty() ? spec.name : planned.label}};
    if (!planned.label.empty()) variant["config_overrides"] = planned.overrides;
    if (const auto* recipe = planned.recipe) {
      auto ids = build_semantic_ids(dataset, *recipe, options.data_dir);
      fs::create_directories(bench_dir);
      tokenize::save_semantic_ids(ids, semantic_ids_path(bench_dir, planned));
      variant["embedding"] = recipe->tokenizer.method == "random" ? "none" : recipe->embedding;
      variant["tokenizer"] = tokenizer_fields(ids);
    }
    variant["model"] = config.model;
    std::vector<RunOutcome> runs;
    nlohmann::json per_seed = nlohmann::json::array();
    std::vector<nlohmann::json> headlines, others, efficiencies, decode_speeds;
    const auto base_seed = config.seed;
    for (int s = 0; s < seeds; ++s) {
      config.seed = base_seed + s;
      const auto run_dir =
          (fs::path(bench_dir) / fmt::format("{}seed{}", planned.label.empty() ? "" : planned.label + "-", config.seed)).string();
      std::fprintf(stderr, "[bench] %s: training %s (seed %lld) in %s\n", spec.name.c_str(), variant["label"].get<std::string>().c_str(),
                   static_cast<long long>(config.seed), run_dir.c_str());
      runs.push_back(train_and_evaluate(spec, dataset, config, run_dir, dataset_path, options.resume));
      const auto& r = runs.back();
      nlohmann::json entry = {{"seed", config.seed},
                              {"metrics", r.headline},
                              {"epochs", r.train.epochs_completed},
                              {"best_epoch", r.train.best_epoch},
                              {"best_valid_" + r.train.valid_metric, r.train.best_valid_metric}};
      if (spec.evaluate_test) entry[other_metrics_key(spec)] = r.other_setting;
      headlines.push_back(r.headline);
      others.push_back(r.other_setting);
      efficiencies.push_back(efficiency_fields(r.train, matmul_peak));
      entry.update(efficiencies.back());
      if (r.decode_speed) {
        decode_speeds.push_back(to_json(*r.decode_speed));
        entry.update(decode_speeds.back());
      }
      per_seed.push_back(entry);
    }
    nlohmann::json spread = nlohmann::json::object();
    variant["metrics"] = mean_fields(headlines, &spread);
    variant["metrics_std"] = spread;
    variant[other_metrics_key(spec)] = mean_fields(others, nullptr);
    variant["per_seed"] = per_seed;
    variant["epochs"] = runs[0].train.epochs_completed;
    variant.update(mean_fields(efficiencies, nullptr));
    if (config.model == "tiger" && spec.evaluate_test) {
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
    if (first_runs.empty()) first_runs = std::move(runs);
  }

  // The headline is the first variant (the only one outside ablations and comparisons), mean over seeds.
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
  const auto& first = first_runs[0];
  const auto& first_config = variant_configs[0];  // the first variant's config, its base seed included
  std::string protocol = first_config.model == "tiger" ? "leave-last-out, constrained beam search over all items"
                                                       : "leave-last-out, full ranking over all items";
  if (first_config.train_on_validation) protocol += "; trained on the validation targets too (fixed epochs, no validation)";
  if (!spec.evaluate_test) protocol = "training throughput only (no test evaluation)";

  nlohmann::json result = {
      {"benchmark", spec.name},
      {"description", description},
      {"dataset", dataset.name},
      {"dataset_stats", data::to_json(stats)},
      {"model", first_config.model},
      {"split", spec.evaluate_test ? "test" : "none"},
      {"protocol", protocol},
      {"history_excluded", spec.headline_exclude_history},
      {"metrics", headline},
      {"metrics_std_over_seeds", main["metrics_std"]},
      {"seeds", seeds},
      {"per_seed", main["per_seed"]},
      {"popularity_metrics", first.popularity_headline},
      {"evaluations", first.evaluations},
      {"run_fields_from_seed", first_config.seed},  // evaluations, epochs, best epoch: that one run's
      {"targets", target_checks},
      {"targets_met", all_met},
      {"train_total_seconds", first.train.total_seconds},
      {"train_tokens_per_second", main["tokens_per_second"]},
      {"epochs", first.train.epochs_completed},
      {"best_epoch", first.train.best_epoch},
      {"best_valid_" + first.train.valid_metric, first.train.best_valid_metric},
      {"early_stopped", first.train.early_stopped},
      {"config", train::to_json(first_config)},
      {"bench_seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()},
  };
  if (spec.evaluate_test) result[other_metrics_key(spec)] = main[other_metrics_key(spec)];
  const auto efficiency_keys = efficiency_fields({}, 0);  // the fields' names
  for (const auto& [key, value] : efficiency_keys.items()) result[key] = main[key];
  if (main.contains("tokenizer")) {
    result["collision_rate"] = main["tokenizer"]["collision_rate"];
    result["codebook_utilization"] = main["tokenizer"]["codebook_utilization"];
    result["tokenizer"] = main["tokenizer"];
    result["beam_width"] = first_config.beam_width;
  }
  if (first.decode_speed) {
    result["invalid_item_rate"] = main["invalid_item_rate"];
    result["decode_users_per_second"] = main["decode_users_per_second"];
    const auto decode_keys = to_json(*first.decode_speed);
    for (const auto& [key, value] : decode_keys.items()) result[key] = main[key];
  }
  if (variants.size() > 1) result["variants"] = variants;
  for (const auto& ratio : spec.ratios) {
    const double numerator = variant_named(variants, ratio.numerator, spec.name).at(ratio.field).get<double>();
    const double denominator = variant_named(variants, ratio.denominator, spec.name).at(ratio.field).get<double>();
    result[ratio.name] = denominator != 0 ? numerator / denominator : 0.0;
  }
  write_result(result, options.results_dir, spec.name, options.command_line);
  return result;
}

}  // namespace tessera::bench
