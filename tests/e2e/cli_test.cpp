// End-to-end tests of the tessera binary: the full synthetic pipeline (synth -> prepare ->
// train -> eval -> recommend) must produce a model that clearly beats popularity, bad input
// must fail cleanly, and the ml-100k smoke run uses the real data when it is present.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

namespace {

namespace fs = std::filesystem;

struct Run {
  int status = -1;
  std::string output;  // stdout and stderr
};

Run run(const std::string& args) {
  const std::string command = std::string(TESSERA_CLI_PATH) + " " + args + " 2>&1";
  Run r;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return r;
  char buffer[4096];
  std::size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) r.output.append(buffer, n);
  const int status = pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tessera_e2e_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

double metric(const nlohmann::json& eval, const std::string& model, const std::string& split, bool excluded, const std::string& key) {
  for (const auto& r : eval["results"]) {
    if (r["model"] == model && r["split"] == split && r["exclude_history"] == excluded) return r["metrics"][key]["mean"];
  }
  ADD_FAILURE() << "no result for " << model << " " << split;
  return 0;
}

TEST_F(CliTest, SyntheticPipelineBeatsPopularityByAClearMargin) {
  auto synth = run("synth --out " + path("synth") + " --users 800 --items 300 --mean-len 30 --seed 5");
  ASSERT_EQ(synth.status, 0) << synth.output;
  auto prepare = run("prepare --input " + path("synth/synthetic.txt") + " --metadata " + path("synth/synthetic_items.tsv") +
                     " --out " + path("synth.tsd"));
  ASSERT_EQ(prepare.status, 0) << prepare.output;
  EXPECT_NE(prepare.output.find("800"), std::string::npos) << prepare.output;
  auto train = run("train --data " + path("synth.tsd") + " --config " + std::string(TESSERA_SOURCE_DIR) +
                   "/configs/sasrec-synthetic.json --set epochs=15 --set d_model=32 --out " + path("run"));
  ASSERT_EQ(train.status, 0) << train.output;
  ASSERT_TRUE(fs::exists(path("run/best.ckpt")));
  ASSERT_TRUE(fs::exists(path("run/config.json")));
  auto eval = run("eval --data " + path("synth.tsd") + " --checkpoint " + path("run/best.ckpt") + " --bootstrap 200 --json " +
                  path("eval.json"));
  ASSERT_EQ(eval.status, 0) << eval.output;
  auto results = nlohmann::json::parse(std::ifstream(path("eval.json")));
  const double model = metric(results, "sasrec", "test", false, "ndcg@10");
  const double popularity = metric(results, "popularity", "test", false, "ndcg@10");
  EXPECT_GT(model, 2.0 * popularity) << eval.output;
  EXPECT_GT(model, popularity + 0.05) << eval.output;
  EXPECT_NE(eval.output.find("validation"), std::string::npos);
  // A beam width is a TIGER option: an item-ID checkpoint refuses it.
  auto beam = run("eval --data " + path("synth.tsd") + " --checkpoint " + path("run/best.ckpt") + " --beam-width 30");
  EXPECT_NE(beam.status, 0);
  EXPECT_NE(beam.output.find("--beam-width applies to TIGER checkpoints only"), std::string::npos) << beam.output;
  auto renormalize = run("eval --data " + path("synth.tsd") + " --checkpoint " + path("run/best.ckpt") + " --beam-renormalize");
  EXPECT_NE(renormalize.status, 0);
  EXPECT_NE(renormalize.output.find("--beam-renormalize applies to TIGER checkpoints only"), std::string::npos)
      << renormalize.output;

  auto rec = run("recommend --data " + path("synth.tsd") + " --checkpoint " + path("run/best.ckpt") +
                 " --history 3,5,8 --original-ids --k 5 --json");
  ASSERT_EQ(rec.status, 0) << rec.output;
  auto items = nlohmann::json::parse(rec.output)["items"];
  EXPECT_EQ(items.size(), 5u);
  auto unknown = run("recommend --data " + path("synth.tsd") + " --checkpoint " + path("run/best.ckpt") +
                     " --history 999999 --original-ids");
  EXPECT_NE(unknown.status, 0);
  EXPECT_NE(unknown.output.find("unknown original item ID '999999'"), std::string::npos) << unknown.output;

  // Resume of a finished run adds nothing and succeeds; a wrong dataset is refused.
  auto other = run("synth --out " + path("other") + " --users 100 --items 200 --max-len 40 --seed 9");
  ASSERT_EQ(other.status, 0);
  ASSERT_EQ(run("prepare --input " + path("other/synthetic.txt") + " --out " + path("other.tsd")).status, 0);
  auto mismatch = run("eval --data " + path("other.tsd") + " --checkpoint " + path("run/best.ckpt"));
  EXPECT_NE(mismatch.status, 0);
  EXPECT_NE(mismatch.output.find("fingerprint"), std::string::npos) << mismatch.output;
}

// The generative path end to end: content vectors -> semantic IDs -> TIGER (with the repeat
// bias) -> beam-search evaluation in the same table as popularity -> recommendations that are
// all real items.
TEST_F(CliTest, SyntheticTigerPipelineBeatsPopularity) {
  ASSERT_EQ(run("synth --out " + path("synth") + " --users 600 --items 200 --mean-len 20 --seed 3").status, 0);
  ASSERT_EQ(run("prepare --input " + path("synth/synthetic.txt") + " --metadata " + path("synth/synthetic_items.tsv") + " --out " +
                path("synth.tsd")).status, 0);
  auto embed = run("embed --data " + path("synth.tsd") + " --kind content --dim 16 --out " + path("content.imat"));
  ASSERT_EQ(embed.status, 0) << embed.output;
  auto tokenize = run("tokenize --data " + path("synth.tsd") + " --embeddings " + path("content.imat") +
                      " --num-codebooks 2 --codebook-size 16 --balanced --out " + path("synth.sids"));
  ASSERT_EQ(tokenize.status, 0) << tokenize.output;
  auto train = run("train --data " + path("synth.tsd") + " --config " + std::string(TESSERA_SOURCE_DIR) +
                   "/configs/tiger-beauty.json --set semantic_ids=" + path("synth.sids") +
                   " --set d_model=32 --set num_heads=2 --set head_dim=16 --set ffn_dim=64 --set num_blocks=1 --set user_buckets=0"
                   " --set epochs=6 --set warmup_steps=20 --set batch_size=128 --set lr=0.003 --set eval_every=2 --set eval_users=200"
                   " --set max_len=10 --set repeat_bias=true --out " + path("tiger"));
  ASSERT_EQ(train.status, 0) << train.output;
  EXPECT_NE(train.output.find("valid recall@10"), std::string::npos) << train.output;
  auto eval = run("eval --data " + path("synth.tsd") + " --checkpoint " + path("tiger/best.ckpt") + " --split test --bootstrap 100 --json " +
                  path("eval.json"));
  ASSERT_EQ(eval.status, 0) << eval.output;
  EXPECT_NE(eval.output.find("tiger (top 20)"), std::string::npos) << eval.output;
  auto results = nlohmann::json::parse(std::ifstream(path("eval.json")));
  const double model = metric(results, "tiger", "test", false, "ndcg@10");
  const double popularity = metric(results, "popularity", "test", false, "ndcg@10");
  EXPECT_GT(model, 1.5 * popularity) << eval.output;
  ASSERT_TRUE(results.contains("repeat_weights")) << results.dump();  // one learned score per level (2 codebooks + disambiguation)
  EXPECT_GE(results["repeat_weights"].size(), 2u);
  // A wider, renormalised beam for one evaluation: the generated lists get longer.
  auto wide = run("eval --data " + path("synth.tsd") + " --checkpoint " + path("tiger/best.ckpt") +
                  " --split test --no-popularity --bootstrap 0 --beam-width 30 --beam-renormalize");
  ASSERT_EQ(wide.status, 0) << wide.output;
  EXPECT_NE(wide.output.find("tiger (top 30)"), std::string::npos) << wide.output;

  auto rec = run("recommend --data " + path("synth.tsd") + " --checkpoint " + path("tiger/best.ckpt") + " --user 1 --k 8 --json");
  ASSERT_EQ(rec.status, 0) << rec.output;
  auto items = nlohmann::json::parse(rec.output)["items"];
  ASSERT_EQ(items.size(), 8u);
  for (const auto& item : items) {
    EXPECT_GE(item["item"].get<int>(), 1);
    EXPECT_LE(item["item"].get<int>(), 200);
    EXPECT_FALSE(item["semantic_id"].get<std::string>().empty());
  }
}

TEST_F(CliTest, MalformedInputFailsWithFileLineAndLeavesNoOutput) {
  std::ofstream(path("bad.dat")) << "1::2::5::978300760\n1::3::4\n";
  auto r = run("prepare --input " + path("bad.dat") + " --format movielens --out " + path("bad.tsd"));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find(path("bad.dat") + ":2:"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(path("bad.tsd")));

  std::ofstream(path("empty.txt")).close();
  r = run("prepare --input " + path("empty.txt") + " --out " + path("empty.tsd"));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("empty"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(path("empty.tsd")));

  std::ofstream(path("cfg.json")) << "{\"d_model\": \"wide\"}";
  std::ofstream(path("seq.txt")) << "1 1 2 3 4\n2 2 3 4 5\n";
  ASSERT_EQ(run("prepare --input " + path("seq.txt") + " --out " + path("seq.tsd")).status, 0);
  r = run("train --data " + path("seq.tsd") + " --config " + path("cfg.json") + " --out " + path("run"));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("cfg.json: config key 'd_model'"), std::string::npos) << r.output;

  std::ofstream(path("junk.tsd")) << "not a dataset";
  r = run("eval --data " + path("junk.tsd"));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("junk.tsd"), std::string::npos) << r.output;
}

TEST_F(CliTest, MovieLens100kSmokeRun) {
  const std::string data = std::string(TESSERA_SHARED_DATA_DIR) + "/ml-100k";
  if (!fs::exists(data + "/u.data")) {
    std::fprintf(stderr, "\n*** SKIPPED: %s not found; the ml-100k smoke test needs ../shared/data ***\n\n", data.c_str());
    GTEST_SKIP() << data << " not found";
  }
  auto prepare = run("prepare --input " + data + "/u.data --metadata " + data + "/u.item --out " + path("ml100k.tsd"));
  ASSERT_EQ(prepare.status, 0) << prepare.output;
  EXPECT_NE(prepare.output.find("943"), std::string::npos) << prepare.output;
  EXPECT_NE(prepare.output.find("1,682"), std::string::npos) << prepare.output;
  auto train = run("train --data " + path("ml100k.tsd") + " --set max_len=50 --set d_model=32 --set epochs=3 --set batch_size=64 --out " +
                   path("run"));
  ASSERT_EQ(train.status, 0) << train.output;
  auto eval = run("eval --data " + path("ml100k.tsd") + " --checkpoint " + path("run/best.ckpt") +
                  " --split test --exclude-history --bootstrap 100 --json " + path("eval.json"));
  ASSERT_EQ(eval.status, 0) << eval.output;
  auto results = nlohmann::json::parse(std::ifstream(path("eval.json")));
  const double hr = metric(results, "sasrec", "test", true, "hr@10");
  EXPECT_GT(hr, 0.0);
  EXPECT_LE(hr, 1.0);
  auto rec = run("recommend --data " + path("ml100k.tsd") + " --checkpoint " + path("run/best.ckpt") + " --user 1 --k 3");
  ASSERT_EQ(rec.status, 0) << rec.output;
  EXPECT_NE(rec.output.find("("), std::string::npos) << "titles with years expected:\n" << rec.output;
}

}  // namespace
