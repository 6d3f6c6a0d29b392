#pragma once
// Named end-to-end benchmarks (`tessera bench NAME`): prepare a dataset, (for TIGER) build item
// vectors and semantic IDs, train with the benchmark's config file, evaluate on the test split
// (both history settings; full ranking for item-ID models, beam search for TIGER), and write
// bench/results/<name>.json. Every result file has at least the fields
//   benchmark, dataset, model, split, metrics ({"hr@10": ..., "ndcg@10": ..., "recall@5": ...}),
//   train_seconds, train_sequences_per_second, peak_rss_mb, command, git_commit, threads
// so tools can compare runs; `metrics` holds the headline setting named by `history_excluded`,
// and metrics_history_included / metrics_history_excluded (whichever is not the headline) the
// other one, also per seed.
// Training efficiency: tokens_per_second, padding_fraction, padding_fraction_saved,
// achieved_gflops (trainer.h::TrainResult), matmul_peak_gflops (matmul_peak.h, measured at the
// start of the benchmark) and achieved_fraction_of_peak = achieved_gflops / matmul_peak_gflops.
// TIGER results add tokenizer quality (collision_rate, codebook_utilization) and decoding
// fields (invalid_item_rate, decode_users_per_second for the whole test evaluation, and
// decode_speed.h's KV-cache comparison: decode_users_per_second_kv_cache,
// decode_users_per_second_no_kv_cache, kv_cache_speedup); with several seeds, `metrics` is the
// mean over seeds and `per_seed` lists each run. Benchmarks with several variants (ablations,
// comparisons) list one entry per variant under `variants`, plus the spec's ratios between them.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tessera/tokenize/tokenizer.h"

namespace tessera::bench {

// How a TIGER benchmark turns items into semantic IDs.
struct SemanticIdRecipe {
  std::string label;                      // names the variant in ablations and its run folder
  std::string embedding = "content";      // "content", "item2vec" (collaborative) or "fused" (both)
  std::string extra_text;                 // content: extra item text under the data directory, may be empty
  double content_weight = 0.5;            // fused: weights of content and item2vec rows
  double collaborative_weight = 0.5;
  tokenize::TokenizerOptions tokenizer;   // method "random" ignores the embedding
  std::vector<std::string> overrides;     // config overrides of this variant (applied before --set)
};

// A training variant of an item-ID benchmark: the benchmark's config with these overrides.
struct ConfigVariant {
  std::string label;                   // names the variant in the result and its run folder
  std::vector<std::string> overrides;  // key=value, applied before the command line's --set
};

// A number derived from two variants: result[name] = variants[numerator][field] /
// variants[denominator][field] (fields of a `variants` entry, e.g. train_seconds).
struct VariantRatio {
  std::string name;         // "packed_speedup"
  std::string field;        // "train_seconds"
  std::string numerator;    // variant label
  std::string denominator;  // variant label
};

struct BenchmarkSpec {
  std::string name;          // "sasrec-ml1m"
  std::string description;
  std::string input;         // interaction file; relative paths are under the data directory
  std::string metadata;      // item metadata file (same rule), may be empty
  std::string config;        // config file name under the configs directory
  bool synthetic = false;    // generate the built-in synthetic data instead of reading `input`
  bool headline_exclude_history = true;  // which history setting `metrics` reports
  nlohmann::json targets;    // {"ndcg@10": 0.170, ...}: minimum values, recorded with pass/fail
  // TIGER: one recipe, or one per variant for an ablation; empty for item-ID models.
  std::vector<SemanticIdRecipe> semantic_ids;
  int seeds = 1;             // training runs with seeds seed, seed+1, ...; metrics are their mean
  // Item-ID models: one training per variant; empty = one run of the config as it is.
  std::vector<ConfigVariant> variants;
  std::vector<VariantRatio> ratios;  // recorded at the top level of the result
  bool evaluate_test = true;         // false: a training-throughput benchmark, no test evaluation
};

// All named benchmarks.
const std::vector<BenchmarkSpec>& benchmark_specs();

struct BenchOptions {
  std::string data_dir = "../shared/data";  // real datasets (never copied into the repo)
  std::string configs_dir;                  // empty = <source>/configs
  std::string results_dir = "bench/results";
  std::string work_dir = "runs/bench";      // prepared data and training runs
  std::vector<std::string> overrides;       // config overrides (key=value), recorded in the result
  int seeds = 0;                            // training seeds; 0 = the benchmark's own number
  std::string ids_embedding;                // TIGER benchmarks with one recipe: item vectors for the semantic IDs
                                            // ("content", "item2vec" or "fused"); empty = the benchmark's own
  std::string ids_method;                   // and/or the tokenizer ("rq-kmeans", "rq-vae", "random"); empty = own
  int ids_codebook_size = 0;                // and/or the codes per level (K); 0 = the benchmark's own (256)
  bool resume = false;                      // continue each training run from its last.ckpt in work_dir when
                                            // there is one (same config); a finished run is only evaluated
  std::string command_line;                 // the exact command, recorded in the result
};

// The benchmark's semantic-ID recipes with options.ids_embedding / ids_method / ids_codebook_size
// applied. The label (and so the run folder) then names the IDs, e.g. "item2vec", "fused-rq-vae"
// or "fused-k64", so a run with
// other IDs never resumes from, or overwrites, the default one. Throws tessera::Error for an
// unknown value, or when the benchmark has no recipe or several (an ablation).
std::vector<SemanticIdRecipe> semantic_id_recipes(const BenchmarkSpec& spec, const BenchOptions& options);

// The benchmark's description, followed by what this run changed from the benchmark's own
// setup (seed count, --ids options, --set overrides), so a result file run with other settings
// never claims the defaults: "... 3x256 IDs, ...; this run: 1 seed, --set item_buckets=100000".
std::string run_description(const BenchmarkSpec& spec, const BenchOptions& options);

// Runs one benchmark and writes <results_dir>/<name>.json (atomically). Returns the result.
// Throws tessera::Error if the benchmark is unknown or its data is missing (naming the path).
nlohmann::json run_benchmark(const std::string& name, const BenchOptions& options);

// Adds the fields every result file shares (command = command_line, git_commit, threads,
// peak_rss_mb) to `result` and writes it to <results_dir>/<file_name>.json atomically.
// Returns that path.
std::string write_result(nlohmann::json& result, const std::string& results_dir, const std::string& file_name,
                         const std::string& command_line);

// Peak resident set size of this process so far, in MiB.
double peak_rss_mb();

// `git rev-parse HEAD` of the source tree, with "-dirty" when tracked files differ from it, or
// "unknown". Read once, at the first call, so a long run records the tree it started from even
// when commits land while it trains (run_benchmark calls it before any work).
std::string git_commit();

}  // namespace tessera::bench
