#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tessera/bench/seed_results.h"
#include "tessera/core/error.h"

namespace tessera::bench {
namespace {

// A single-variant TIGER result of `seeds` runs starting at `first_seed`, shaped as run_benchmark
// writes it; recall@10 of seed s is 0.05 + 0.01 * (s - 42).
nlohmann::json result_of(int first_seed, int seeds) {
  nlohmann::json per_seed = nlohmann::json::array();
  for (int s = first_seed; s < first_seed + seeds; ++s) {
    const double r = 0.05 + 0.01 * (s - 42);
    per_seed.push_back({{"seed", s},
                        {"metrics", {{"recall@10", r}, {"ndcg@10", r / 2}}},
                        {"metrics_history_excluded", {{"recall@10", r + 0.01}, {"ndcg@10", r / 2 + 0.01}}},
                        {"epochs", 10},
                        {"best_epoch", 8 + (s % 2)},
                        {"best_valid_recall@10", r},
                        {"train_seconds", 100.0 * (s - 41)},
                        {"kv_cache_speedup", 8.0},
                        {"decode_users", 1000}});
  }
  return {{"benchmark", "tiger-beauty"},
          {"dataset", "beauty"},
          {"model", "tiger"},
          {"history_excluded", false},
          {"config", {{"seed", first_seed}, {"lr", 0.001}, {"threads", 0}, {"semantic_ids", "runs/x/fused.sids"}}},
          {"tokenizer", {{"method", "rq-kmeans"}, {"collision_rate", 0.068}}},
          {"per_seed", per_seed},
          {"seeds", seeds},
          {"metrics", per_seed[0]["metrics"]},
          {"targets", {{"recall@10", {{"target", 0.06}, {"value", 0.0}, {"met", false}}}}},
          {"peak_rss_mb", 3000.0 + first_seed},
          {"decode_users_per_second", 400.0},
          {"invalid_item_rate", 0.0},
          {"command", "tessera bench tiger-beauty --set seed=" + std::to_string(first_seed)},
          {"git_commit", "abc"}};
}

TEST(CombineSeedResults, MeansOverEverySeedAndRechecksTheTargets) {
  auto later = result_of(43, 2);
  later["config"]["semantic_ids"] = "runs/other/fused.sids";  // another work dir: not a difference
  later["config"]["threads"] = 1;
  later["config"]["ema_decay"] = 0.0;  // an option the older file predates, at its default
  const auto combined = combine_seed_results({{"b.json", later}, {"a.json", result_of(42, 1)}});
  ASSERT_EQ(combined["per_seed"].size(), 3u);
  EXPECT_EQ(combined["per_seed"][0]["seed"], 42);  // ordered by seed, whatever the file order
  EXPECT_EQ(combined["per_seed"][2]["seed"], 44);
  EXPECT_EQ(combined["seeds"], 3);
  EXPECT_NEAR(combined["metrics"]["recall@10"].get<double>(), 0.06, 1e-12);
  EXPECT_NEAR(combined["metrics_std_over_seeds"]["recall@10"].get<double>(), 0.01, 1e-12);
  EXPECT_NEAR(combined["metrics_history_excluded"]["recall@10"].get<double>(), 0.07, 1e-12);
  EXPECT_NEAR(combined["train_seconds"].get<double>(), 200.0, 1e-9);
  EXPECT_TRUE(combined["targets"]["recall@10"]["met"].get<bool>());
  EXPECT_TRUE(combined["targets_met"].get<bool>());
  EXPECT_EQ(combined["config"]["seed"], 42);  // the base is the lowest seed's file
  EXPECT_EQ(combined["run_fields_from_seed"], 42);  // and says its one-run fields are seed 42's
  EXPECT_EQ(combined["peak_rss_mb"].get<double>(), 3043.0);
  ASSERT_EQ(combined["combined_from"].size(), 2u);
  EXPECT_EQ(combined["combined_from"][0]["file"], "a.json");
  EXPECT_EQ(combined["combined_from"][1]["seeds"], nlohmann::json::array({43, 44}));
  EXPECT_TRUE(combined["per_seed"][0].contains("train_seconds"));  // per-seed entries are kept whole
}

// The combined description keeps the benchmark's text once and lists each file's changes.
TEST(CombineSeedResults, DescriptionListsWhatEachSourceRunChanged) {
  auto a = result_of(42, 1), b = result_of(43, 1);
  a["description"] = "TIGER on Beauty, mean of 3 seeds; this run: 1 seed";
  b["description"] = "TIGER on Beauty, mean of 3 seeds; this run: 1 seed, --set seed=43";
  const auto combined = combine_seed_results({{"b.json", b}, {"a.json", a}});
  EXPECT_EQ(combined["description"], "TIGER on Beauty, mean of 3 seeds; combined from 2 files: 1 seed | 1 seed, --set seed=43");
  a["description"] = "TIGER on Beauty";  // an older file, run as configured
  EXPECT_EQ(combine_seed_results({{"a.json", a}, {"b.json", b}})["description"],
            "TIGER on Beauty; combined from 2 files: as configured | 1 seed, --set seed=43");
}

TEST(CombineSeedResults, TakesTheOtherSettingOfAnOlderSingleSeedFileFromItsEvaluations) {
  auto old = result_of(42, 1);
  old["per_seed"][0].erase("metrics_history_excluded");
  old["evaluations"]["history_excluded"]["model"]["metrics"] = {{"recall@10", {{"mean", 0.2}}}, {"ndcg@10", {{"mean", 0.1}}}};
  const auto combined = combine_seed_results({{"a.json", old}, {"b.json", result_of(43, 1)}});
  EXPECT_NEAR(combined["metrics_history_excluded"]["recall@10"].get<double>(), (0.2 + 0.07) / 2, 1e-12);
  EXPECT_NEAR(combined["per_seed"][0]["metrics_history_excluded"]["ndcg@10"].get<double>(), 0.1, 1e-12);
}

TEST(CombineSeedResults, RefusesRunsThatAreNotTheSameExperiment) {
  auto expect_error = [](const std::vector<SeedResultFile>& files, const std::string& needle) {
    try {
      combine_seed_results(files);
      ADD_FAILURE() << "expected an error mentioning " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  auto other_lr = result_of(43, 1);
  other_lr["config"]["lr"] = 0.002;
  expect_error({{"a.json", result_of(42, 1)}, {"b.json", other_lr}}, "b.json: field 'config.lr' is 0.002");
  auto option_set = result_of(43, 1);
  option_set["config"]["ema_decay"] = 0.5;  // the same option away from its default
  expect_error({{"a.json", result_of(42, 1)}, {"b.json", option_set}}, "b.json: field 'config.ema_decay' is 0.5");
  auto other_ids = result_of(43, 1);
  other_ids["tokenizer"]["collision_rate"] = 0.036;
  expect_error({{"a.json", result_of(42, 1)}, {"b.json", other_ids}}, "tokenizer.collision_rate");
  auto other_bench = result_of(43, 1);
  other_bench["benchmark"] = "tiger-ml1m";
  expect_error({{"a.json", result_of(42, 1)}, {"b.json", other_bench}}, "field 'benchmark'");
  expect_error({{"a.json", result_of(42, 2)}, {"b.json", result_of(43, 1)}}, "b.json: seed 43 is already");
  auto ablation = result_of(43, 1);
  ablation["variants"] = nlohmann::json::array();
  expect_error({{"a.json", result_of(42, 1)}, {"b.json", ablation}}, "b.json: has several variants");
  auto broken = result_of(43, 1);
  broken.erase("per_seed");
  expect_error({{"a.json", result_of(42, 1)}, {"b.json", broken}}, "b.json: field 'per_seed' is missing");
  expect_error({{"a.json", result_of(42, 1)}}, "at least two");
}

TEST(CombineSeedResults, ReadingNamesTheFileThatIsMissingOrNotJson) {
  const auto dir = std::filesystem::temp_directory_path() / "tessera_seed_results_test";
  std::filesystem::create_directories(dir);
  const auto bad = (dir / "bad.json").string();
  std::ofstream(bad) << "{\"benchmark\": ";
  EXPECT_THROW(read_seed_result(bad), Error);
  try {
    read_seed_result((dir / "absent.json").string());
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("absent.json"), std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tessera::bench
