#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>

#include "infer/tiger_fixture.h"
#include "tessera/bench/benchmarks.h"
#include "tessera/bench/decode_speed.h"
#include "tessera/bench/matmul_peak.h"
#include "tessera/bench/semantic_recipe.h"
#include "tessera/core/error.h"
#include "tessera/train/config.h"

namespace tessera::bench {
namespace {

// Users with random sequences of 3..10 items over 1..num_items.
data::Dataset random_dataset(std::int32_t num_items, std::int64_t users, std::uint64_t seed) {
  data::Dataset d;
  d.name = "random";
  d.num_items = num_items;
  d.item_ids.assign(static_cast<std::size_t>(num_items) + 1, "");
  std::mt19937_64 rng(seed);
  for (std::int64_t u = 0; u < users; ++u) {
    const auto length = 3 + rng() % 8;
    for (std::uint64_t i = 0; i < length; ++i) d.items.push_back(static_cast<std::int32_t>(1 + rng() % static_cast<std::uint64_t>(num_items)));
    d.user_offsets.push_back(static_cast<std::int64_t>(d.items.size()));
    d.user_ids.push_back(std::to_string(u));
  }
  return d;
}

// Every benchmark's config, with each variant's or recipe's overrides, and every tokenizer
// recipe must be valid: a mistake here otherwise shows only after an hour of earlier variants.
TEST(BenchmarkSpecs, EveryConfigVariantAndTokenizerRecipeIsValid) {
  for (const auto& spec : benchmark_specs()) {
    SCOPED_TRACE(spec.name);
    const auto base = train::load_config(std::string(TESSERA_SOURCE_DIR) + "/configs/" + spec.config);
    EXPECT_NO_THROW(base.validate());
    for (const auto& variant : spec.variants) {
      SCOPED_TRACE(variant.label);
      auto config = base;
      EXPECT_NO_THROW(train::apply_overrides(config, variant.overrides));
      EXPECT_NO_THROW(config.validate());
    }
    for (const auto& recipe : spec.semantic_ids) {
      SCOPED_TRACE(recipe.label);
      EXPECT_EQ(base.model, "tiger");
      EXPECT_NO_THROW(recipe.tokenizer.validate());
      auto config = base;
      EXPECT_NO_THROW(train::apply_overrides(config, recipe.overrides));
      EXPECT_NO_THROW(config.validate());
    }
  }
}

const BenchmarkSpec& spec_named(const std::string& name) {
  for (const auto& spec : benchmark_specs()) {
    if (spec.name == name) return spec;
  }
  throw std::runtime_error("no benchmark " + name);
}

// --ids / --ids-method: another embedding or tokenizer for a TIGER benchmark, in its own run
// folder (the label), refused where it cannot apply.
TEST(BenchmarkSpecs, IdsOptionsReplaceTheRecipeOfATigerBenchmark) {
  const auto& tiger = spec_named("tiger-beauty");
  BenchOptions options;
  auto recipes = semantic_id_recipes(tiger, options);
  ASSERT_EQ(recipes.size(), 1u);
  EXPECT_EQ(recipes[0].label, tiger.semantic_ids[0].label);
  EXPECT_EQ(recipes[0].embedding, tiger.semantic_ids[0].embedding);

  options.ids_embedding = "item2vec";
  recipes = semantic_id_recipes(tiger, options);
  EXPECT_EQ(recipes[0].embedding, "item2vec");
  EXPECT_EQ(recipes[0].label, "item2vec");
  EXPECT_EQ(recipes[0].tokenizer.method, tiger.semantic_ids[0].tokenizer.method);
  EXPECT_EQ(recipes[0].extra_text, tiger.semantic_ids[0].extra_text);

  options.ids_method = "rq-vae";
  recipes = semantic_id_recipes(tiger, options);
  EXPECT_EQ(recipes[0].tokenizer.method, "rq-vae");
  EXPECT_FALSE(recipes[0].tokenizer.balanced);  // balancing is a k-means option
  EXPECT_EQ(recipes[0].label, "item2vec-rq-vae");
  EXPECT_NO_THROW(recipes[0].tokenizer.validate());

  options.ids_embedding.clear();
  options.ids_method = "random";
  EXPECT_EQ(semantic_id_recipes(tiger, options)[0].label, "random");

  BenchOptions codes;
  codes.ids_codebook_size = 64;
  recipes = semantic_id_recipes(tiger, codes);
  EXPECT_EQ(recipes[0].tokenizer.codebook_size, 64);
  EXPECT_EQ(recipes[0].tokenizer.num_codebooks, tiger.semantic_ids[0].tokenizer.num_codebooks);
  EXPECT_EQ(recipes[0].tokenizer.method, tiger.semantic_ids[0].tokenizer.method);
  EXPECT_EQ(recipes[0].label, tiger.semantic_ids[0].label + "-k64");

  BenchOptions bad;
  bad.ids_embedding = "title";
  EXPECT_THROW(semantic_id_recipes(tiger, bad), Error);
  bad = {};
  bad.ids_method = "kmeans";
  EXPECT_THROW(semantic_id_recipes(tiger, bad), Error);
  BenchOptions ids;
  ids.ids_embedding = "content";
  EXPECT_THROW(semantic_id_recipes(spec_named("tiger-beauty-ablation"), ids), Error);
  EXPECT_THROW(semantic_id_recipes(spec_named("sasrec-beauty"), ids), Error);
  BenchOptions one_code;
  one_code.ids_codebook_size = -1;  // the tokenizer's own check refuses it
  EXPECT_THROW(semantic_id_recipes(tiger, one_code), Error);
}

// A run with other settings says so in its description; the benchmark's own setup does not.
TEST(BenchmarkSpecs, RunDescriptionNamesWhatTheRunChanged) {
  const auto& tiger = spec_named("tiger-beauty");
  BenchOptions options;
  EXPECT_EQ(run_description(tiger, options), tiger.description);
  options.seeds = tiger.seeds;  // the benchmark's own count is no change
  EXPECT_EQ(run_description(tiger, options), tiger.description);

  options.seeds = 1;
  options.ids_codebook_size = 64;
  options.overrides = {"item_buckets=100000", "epochs=2"};
  const auto text = run_description(tiger, options);
  EXPECT_EQ(text.rfind(tiger.description, 0), 0u) << text;
  EXPECT_NE(text.find("this run: 1 seed, --ids-codebook-size 64, --set item_buckets=100000, --set epochs=2"), std::string::npos)
      << text;
}

TEST(BenchmarkSpecs, EverySemanticIdRecipePassesTheCheckThatBuildingRuns) {
  for (const auto& spec : benchmark_specs()) {
    for (const auto& recipe : spec.semantic_ids) EXPECT_NO_THROW(check_recipe(recipe)) << spec.name << " / " << recipe.label;
  }
  SemanticIdRecipe bad;
  bad.embedding = "title";
  EXPECT_THROW(check_recipe(bad), Error);
  bad.embedding = "fused";
  bad.tokenizer.method = "kmeans";
  EXPECT_THROW(check_recipe(bad), Error);
}

// A bad --set stops a benchmark before it reads data or writes a file: here the data folder does
// not exist, so reaching the data would fail with another message.
TEST(BenchmarkSpecs, ABadSetStopsTheRunBeforeAnyWork) {
  const auto work = std::filesystem::temp_directory_path() / "tessera-bench-bad-set";
  std::filesystem::remove_all(work);
  BenchOptions options;
  options.data_dir = (work / "no-data").string();
  options.work_dir = (work / "runs").string();
  options.results_dir = (work / "results").string();
  options.overrides = {"history_negative_loss=hinge"};
  try {
    run_benchmark("tiger-beauty", options);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("history_negative_loss"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(work));
}

// The recorded commit is a full hash (possibly marked dirty), or "unknown" outside a git checkout,
// and stays the same for the whole process.
TEST(GitCommit, IsAFullHashReadOnce) {
  const auto commit = git_commit();
  EXPECT_EQ(git_commit(), commit);
  if (commit == "unknown") GTEST_SKIP() << "the source tree is not a git checkout";
  ASSERT_GE(commit.size(), 40u) << commit;
  EXPECT_EQ(commit.find_first_not_of("0123456789abcdef"), 40u == commit.size() ? std::string::npos : 40u) << commit;
  if (commit.size() > 40) EXPECT_EQ(commit.substr(40), "-dirty");
}

TEST(MatmulPeak, MeasuresAPositiveRate) {
  const double gflops = measure_matmul_peak_gflops({128, 1, 3});
  EXPECT_TRUE(std::isfinite(gflops));
  EXPECT_GT(gflops, 0.0);
  EXPECT_THROW(measure_matmul_peak_gflops({0, 1, 1}), Error);
}

// Both modes decode the same users to the same lists; the options are left as they were.
TEST(DecodeSpeed, ComparesCachedAndRecomputedDecodingOnTheSameUsers) {
  auto ids = testing::random_semantic_ids(30, 3);
  infer::TigerRecommender recommender(testing::small_tiger(*ids), ids, {9, true});
  const auto dataset = random_dataset(30, 23, 5);
  const auto speed = measure_decode_speed(recommender, dataset, {data::Split::kTest, 0, 7});
  EXPECT_EQ(speed.users, 23);
  EXPECT_EQ(speed.beam_width, 9);
  EXPECT_EQ(speed.batch_size, 7);
  EXPECT_EQ(speed.lists_differing, 0);
  EXPECT_GT(speed.kv_cache_seconds, 0.0);
  EXPECT_GT(speed.no_kv_cache_seconds, 0.0);
  EXPECT_NEAR(speed.speedup, speed.no_kv_cache_seconds / speed.kv_cache_seconds, 1e-9);
  EXPECT_NEAR(speed.users_per_second_kv_cache, 23.0 / speed.kv_cache_seconds, 1e-6);
  EXPECT_TRUE(recommender.options().kv_cache);
  EXPECT_EQ(recommender.options().beam_width, 9);

  const auto json = to_json(speed);
  for (const char* key : {"decode_users_per_second_kv_cache", "decode_users_per_second_no_kv_cache", "kv_cache_speedup"}) {
    EXPECT_TRUE(json.contains(key)) << key;
  }
  EXPECT_EQ(measure_decode_speed(recommender, dataset, {data::Split::kTest, 5, 2}).users, 5);
  EXPECT_THROW(measure_decode_speed(recommender, dataset, {data::Split::kTest, 0, 0}), Error);
}

}  // namespace
}  // namespace tessera::bench
