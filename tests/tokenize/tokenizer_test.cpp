// Tests of the semantic-ID tokenizer: disambiguation, the .sids file, k-means (plain, balanced),
// RQ-KMeans, RQ-VAE, random codes, the quality report and determinism.
#include <gtest/gtest.h>

#include "test_util.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <set>

#include "tessera/core/atomic_file.h"
#include "tessera/core/binary_io.h"
#include "tessera/core/error.h"
#include "tessera/tokenize/kmeans.h"
#include "tessera/tokenize/rq_kmeans.h"
#include "tessera/tokenize/rq_vae.h"
#include "tessera/tokenize/semantic_ids.h"
#include "tessera/tokenize/tokenizer.h"

namespace tessera::tokenize {
namespace {

namespace fs = std::filesystem;

std::string temp_path(const std::string& name) { return testing::temp_path("tokenize", name); }
using testing::message_of;

// n points around `clusters` well-separated centres in `dim` dimensions; labels[i] is point i's
// centre. Centres are +-3 per coordinate, noise has standard deviation `noise`. `sizes` overrides
// the equal cluster sizes when given.
struct Blobs {
  std::int64_t n = 0, dim = 0;
  std::vector<float> x;
  std::vector<int> labels;
};
Blobs make_blobs(int clusters, int per_cluster, std::int64_t dim, float noise, std::uint64_t seed, std::vector<int> sizes = {}) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::vector<float> centres(static_cast<std::size_t>(clusters * dim));
  for (auto& c : centres) c = (rng() % 2 == 0 ? 3.0f : -3.0f) + 0.5f * gauss(rng);
  if (sizes.empty()) sizes.assign(static_cast<std::size_t>(clusters), per_cluster);
  Blobs b;
  b.dim = dim;
  for (int c = 0; c < clusters; ++c) {
    for (int i = 0; i < sizes[c]; ++i) {
      for (std::int64_t j = 0; j < dim; ++j) b.x.push_back(centres[c * dim + j] + noise * gauss(rng));
      b.labels.push_back(c);
    }
  }
  b.n = static_cast<std::int64_t>(b.labels.size());
  return b;
}

ItemMatrix matrix_of(const Blobs& b) {
  ItemMatrix m;
  m.kind = "test";
  m.source = "make_blobs";
  m.dataset_fingerprint = "0badf00d";
  m.num_items = b.n;
  m.dim = b.dim;
  m.values.assign(static_cast<std::size_t>(b.dim), 0.0f);  // row 0: padding
  m.values.insert(m.values.end(), b.x.begin(), b.x.end());
  return m;
}

// ---------------------------------------------------------------- disambiguation

TEST(Disambiguation, CollidingItemsGetIncreasingCodesInItemOrder) {
  // Items 1..5 with 2-level codes; 1, 2, 4 collide on (0,1); 3, 5 collide on (2,3).
  const std::vector<std::int32_t> codes{0, 0,  // row 0, ignored
                                        0, 1, 0, 1, 2, 3, 0, 1, 2, 3};
  const std::vector<std::int32_t> sizes{4, 4};
  SemanticIds ids;
  assign_with_disambiguation(ids, codes, sizes, 5);
  EXPECT_EQ(ids.num_items, 5);
  EXPECT_EQ(ids.num_quantizer_levels, 2);
  EXPECT_EQ(ids.level_sizes, (std::vector<std::int32_t>{4, 4, 3}));
  const std::vector<std::int32_t> expected{0, 0, 0,  // row 0
                                           0, 1, 0, 0, 1, 1, 2, 3, 0, 0, 1, 2, 2, 3, 1};
  EXPECT_EQ(ids.codes, expected);

  const auto usage = code_usage_report(ids);
  EXPECT_DOUBLE_EQ(usage["collisions"]["rate_before"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(usage["collisions"]["rate_after"].get<double>(), 0.0);
  EXPECT_EQ(usage["collisions"]["largest_prefix_group"].get<int>(), 3);
  EXPECT_EQ(usage["collisions"]["largest_level1_group"].get<int>(), 3);
  EXPECT_EQ(usage["collisions"]["distinct_prefixes"].get<int>(), 2);
  EXPECT_EQ(usage["levels"][0]["codes_used"].get<int>(), 2);
  EXPECT_DOUBLE_EQ(usage["levels"][0]["utilisation"].get<double>(), 0.5);
}

TEST(Disambiguation, NoCollisionsGiveASingleDisambiguationCode) {
  const std::vector<std::int32_t> codes{0, 0, 1, 2, 3};
  const std::vector<std::int32_t> sizes{4};
  SemanticIds ids;
  assign_with_disambiguation(ids, codes, sizes, 4);
  EXPECT_EQ(ids.level_sizes, (std::vector<std::int32_t>{4, 1}));
  for (std::int64_t item = 1; item <= 4; ++item) EXPECT_EQ(ids.code(item)[1], 0);
  EXPECT_DOUBLE_EQ(code_usage_report(ids)["collisions"]["rate_before"].get<double>(), 0.0);
  // A perfectly even code usage has perplexity K.
  EXPECT_NEAR(code_usage_report(ids)["levels"][0]["perplexity"].get<double>(), 4.0, 1e-9);
}

TEST(Disambiguation, RefusesCodesOutOfRangeAndWrongSizes) {
  SemanticIds ids;
  const std::vector<std::int32_t> sizes{4};
  EXPECT_NE(message_of([&] { assign_with_disambiguation(ids, std::vector<std::int32_t>{0, 4}, sizes, 1); }).find("outside [0, 4)"),
            std::string::npos);
  EXPECT_THROW(assign_with_disambiguation(ids, std::vector<std::int32_t>{0, 1, 2}, sizes, 1), Error);
}

// ---------------------------------------------------------------- the .sids file

SemanticIds small_ids() {
  const std::vector<std::int32_t> codes{0, 0, 0, 1, 0, 1, 2, 3};
  const std::vector<std::int32_t> sizes{4, 4};
  SemanticIds ids;
  ids.method = "rq-kmeans";
  ids.dataset_fingerprint = "12345678";
  assign_with_disambiguation(ids, codes, sizes, 3);
  ids.report = {{"method", "rq-kmeans"}, {"note", "hand-made"}};
  return ids;
}

// Writes a .sids container with the payload layout of save_semantic_ids() but no validation.
void write_raw_sids(const SemanticIds& ids, const std::string& path) {
  BinaryWriter w;
  w.put_string(ids.method);
  w.put_string(ids.dataset_fingerprint);
  w.put<std::int64_t>(ids.num_items);
  w.put<std::int32_t>(ids.num_quantizer_levels);
  w.put_vector(ids.level_sizes);
  w.put_vector(ids.codes);
  w.put_string(ids.report.dump());
  write_container(path, "TSRSIDS", kSemanticIdsFormatVersion, w.bytes());
}

TEST(SemanticIdsFile, RoundTrip) {
  const auto path = temp_path("roundtrip.sids");
  const auto ids = small_ids();
  save_semantic_ids(ids, path);
  const auto back = load_semantic_ids(path);
  EXPECT_EQ(back.method, ids.method);
  EXPECT_EQ(back.dataset_fingerprint, ids.dataset_fingerprint);
  EXPECT_EQ(back.num_items, ids.num_items);
  EXPECT_EQ(back.num_quantizer_levels, ids.num_quantizer_levels);
  EXPECT_EQ(back.level_sizes, ids.level_sizes);
  EXPECT_EQ(back.codes, ids.codes);
  EXPECT_EQ(back.report, ids.report);
  fs::remove(path);
}

TEST(SemanticIdsFile, CorruptTruncatedAndWrongKindAreRefusedNamingTheFile) {
  const auto path = temp_path("damaged.sids");
  save_semantic_ids(small_ids(), path);
  std::string bytes = read_file(path);

  std::string corrupt = bytes;
  corrupt[corrupt.size() / 2] ^= 0x5a;
  write_text_atomically(path, corrupt);
  auto message = message_of([&] { load_semantic_ids(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("checksum"), std::string::npos) << message;

  write_text_atomically(path, bytes.substr(0, bytes.size() - 7));
  message = message_of([&] { load_semantic_ids(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("truncated"), std::string::npos) << message;

  write_container(path, "TSRDATA", 1, "not semantic ids");
  message = message_of([&] { load_semantic_ids(path); });
  EXPECT_NE(message.find("TSRSIDS"), std::string::npos) << message;

  message = message_of([&] { load_semantic_ids(temp_path("missing.sids")); });
  EXPECT_NE(message.find("missing.sids"), std::string::npos) << message;
  fs::remove(path);
}

TEST(SemanticIdsFile, DuplicateIdsAndOutOfRangeCodesAreRefused) {
  const auto path = temp_path("invalid.sids");
  auto ids = small_ids();
  // Items 1 and 2 share (0, 1); make their disambiguation codes equal.
  ids.codes[2 * ids.num_levels() + 2] = 0;
  EXPECT_THROW(save_semantic_ids(ids, path), Error);  // never written
  EXPECT_FALSE(fs::exists(path));
  write_raw_sids(ids, path);
  auto message = message_of([&] { load_semantic_ids(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("items 1 and 2 have the same semantic ID"), std::string::npos) << message;

  ids = small_ids();
  ids.codes[3 * ids.num_levels() + 1] = 4;  // level size is 4
  write_raw_sids(ids, path);
  message = message_of([&] { load_semantic_ids(path); });
  EXPECT_NE(message.find("item 3 has code 4 at level 1"), std::string::npos) << message;

  ids = small_ids();
  ids.level_sizes.pop_back();
  write_raw_sids(ids, path);
  message = message_of([&] { load_semantic_ids(path); });
  EXPECT_NE(message.find("level_sizes"), std::string::npos) << message;

  ids = small_ids();
  ids.codes.pop_back();
  write_raw_sids(ids, path);
  message = message_of([&] { load_semantic_ids(path); });
  EXPECT_NE(message.find("'codes'"), std::string::npos) << message;
  fs::remove(path);
}

// ---------------------------------------------------------------- k-means

// True when every true cluster maps to exactly one code and different clusters to different codes.
bool recovers_clusters(const std::vector<int>& labels, const std::vector<std::int32_t>& codes, std::int64_t stride = 1) {
  std::map<int, std::set<std::int32_t>> codes_of_label;
  std::map<std::int32_t, std::set<int>> labels_of_code;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    codes_of_label[labels[i]].insert(codes[i * stride]);
    labels_of_code[codes[i * stride]].insert(labels[i]);
  }
  for (const auto& [label, codes_set] : codes_of_label) {
    if (codes_set.size() != 1) return false;
  }
  for (const auto& [code, label_set] : labels_of_code) {
    if (label_set.size() != 1) return false;
  }
  return true;
}

TEST(KMeans, FindsSeparatedClustersAndIsDeterministic) {
  const auto b = make_blobs(8, 40, 12, 0.1f, 1);
  KMeansOptions o;
  o.k = 8;
  o.seed = 3;
  const auto r = kmeans(b.x.data(), b.n, b.dim, o);
  EXPECT_EQ(r.assignments.size(), static_cast<std::size_t>(b.n));
  EXPECT_EQ(r.centroids.size(), static_cast<std::size_t>(8 * b.dim));
  EXPECT_TRUE(recovers_clusters(b.labels, r.assignments));
  EXPECT_LT(r.mean_squared_distance, 12 * 0.1 * 0.1 * 2);
  const auto again = kmeans(b.x.data(), b.n, b.dim, o);
  EXPECT_EQ(again.assignments, r.assignments);
  EXPECT_EQ(again.centroids, r.centroids);
}

TEST(KMeans, FewerPointsThanCentroidsGivesEachPointItsOwnCode) {
  const auto b = make_blobs(5, 1, 4, 0.1f, 2);
  KMeansOptions o;
  o.k = 8;
  const auto r = kmeans(b.x.data(), b.n, b.dim, o);
  EXPECT_EQ(r.k, 8);
  EXPECT_EQ(r.assignments, (std::vector<std::int32_t>{0, 1, 2, 3, 4}));
  EXPECT_DOUBLE_EQ(r.mean_squared_distance, 0.0);
  EXPECT_EQ(kmeans(b.x.data(), 0, b.dim, o).assignments.size(), 0u);
}

TEST(KMeans, BalancedCapsClusterSizeAtCeilNOverK) {
  // One big cluster (250 points) and 7 small ones (21 each): plain k-means follows the data,
  // balanced k-means must cap every cluster at ceil(397 / 8) = 50.
  const auto b = make_blobs(8, 0, 6, 0.3f, 5, {250, 21, 21, 21, 21, 21, 21, 21});
  ASSERT_EQ(b.n, 397);
  KMeansOptions o;
  o.k = 8;
  o.seed = 1;
  const auto plain = kmeans(b.x.data(), b.n, b.dim, o);
  EXPECT_GT(plain.max_cluster_size, 50);  // so the balanced check below means something
  o.balanced = true;
  const auto balanced = kmeans(b.x.data(), b.n, b.dim, o);
  EXPECT_LE(balanced.max_cluster_size, 50);
  std::vector<int> sizes(8, 0);
  for (auto a : balanced.assignments) ++sizes[a];
  EXPECT_LE(*std::max_element(sizes.begin(), sizes.end()), 50);
  // Sizes sum to 397 with none above 50, so none is below 47.
  EXPECT_GE(*std::min_element(sizes.begin(), sizes.end()), 47);
  EXPECT_EQ(kmeans(b.x.data(), b.n, b.dim, o).assignments, balanced.assignments);
}

TEST(KMeans, BalancedAssignRespectsCapacityExactly) {
  // Five points at 0 and one centroid nearby, one far: capacity 3 forces two points away.
  const std::vector<float> x{0, 0, 0, 0, 0.1f};
  const std::vector<float> centroids{0, 10};
  const auto a = balanced_assign(x.data(), 5, 1, centroids.data(), 2, 3);
  EXPECT_EQ(std::count(a.begin(), a.end(), 0), 3);
  EXPECT_EQ(a[4], 1);  // the point farthest from centroid 0 is the one moved
  EXPECT_THROW(balanced_assign(x.data(), 5, 1, centroids.data(), 2, 2), Error);
}

// ---------------------------------------------------------------- RQ-KMeans, random codes

TEST(RqKMeans, RecoversClustersAtLevelOneAndErrorFallsWithLevels) {
  const auto b = make_blobs(8, 40, 16, 0.5f, 11);
  RqKMeansOptions o;
  o.num_codebooks = 3;
  o.codebook_size = 8;
  o.seed = 5;
  const auto rc = rq_kmeans(b.x.data(), b.n, b.dim, o);
  ASSERT_EQ(rc.codes.size(), static_cast<std::size_t>(b.n * 3));
  ASSERT_EQ(rc.codebooks.size(), 3u);
  EXPECT_TRUE(recovers_clusters(b.labels, rc.codes, 3));
  ASSERT_EQ(rc.mse_by_level.size(), 3u);
  EXPECT_LT(rc.mse_by_level[1], rc.mse_by_level[0]);
  EXPECT_LT(rc.mse_by_level[2], rc.mse_by_level[1]);
  EXPECT_NEAR(mean_squared_error(rc.reconstruction.data(), b.x.data(), b.n, b.dim), rc.mse_by_level[2], 1e-9);
  // Reconstruction is the sum of the chosen centroids.
  float sum = 0;
  for (int l = 0; l < 3; ++l) sum += rc.codebooks[l][rc.codes[l] * b.dim];
  EXPECT_NEAR(rc.reconstruction[0], sum, 1e-5);
}

TEST(RandomCodes, UniformSeededAndWorseThanKMeans) {
  const auto b = make_blobs(8, 40, 16, 0.5f, 11);
  const auto r1 = random_residual_codes(b.x.data(), b.n, b.dim, 2, 8, 7);
  const auto r2 = random_residual_codes(b.x.data(), b.n, b.dim, 2, 8, 7);
  const auto r3 = random_residual_codes(b.x.data(), b.n, b.dim, 2, 8, 8);
  EXPECT_EQ(r1.codes, r2.codes);
  EXPECT_NE(r1.codes, r3.codes);
  for (auto c : r1.codes) EXPECT_TRUE(c >= 0 && c < 8);
  RqKMeansOptions o;
  o.num_codebooks = 2;
  o.codebook_size = 8;
  EXPECT_GT(r1.mse_by_level.back(), 5 * rq_kmeans(b.x.data(), b.n, b.dim, o).mse_by_level.back());
}

// ---------------------------------------------------------------- RQ-VAE

TEST(RqVae, LossFallsAndCodesAreUsedOnASmallProblem) {
  const auto start = std::chrono::steady_clock::now();
  const auto b = make_blobs(16, 32, 16, 0.3f, 21);
  RqVaeOptions o;
  o.num_codebooks = 2;
  o.codebook_size = 16;
  o.hidden_dims = {32};
  o.latent_dim = 8;
  o.epochs = 40;
  o.batch_size = 64;
  o.lr = 3e-3;
  o.seed = 9;
  const auto r = train_rq_vae(b.x.data(), b.n, b.dim, o);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 3.0);
  ASSERT_EQ(r.training.epoch_loss.size(), 40u);
  EXPECT_LT(r.training.epoch_loss.back(), 0.5 * r.training.epoch_loss.front());
  EXPECT_LT(r.training.epoch_reconstruction_loss.back(), 0.5 * r.training.epoch_reconstruction_loss.front());
  ASSERT_EQ(r.codes.codes.size(), static_cast<std::size_t>(b.n * 2));
  std::set<std::int32_t> level1;
  for (std::int64_t i = 0; i < b.n; ++i) level1.insert(r.codes.codes[i * 2]);
  EXPECT_GE(level1.size(), 14u) << "level-1 utilisation below 14/16";
  ASSERT_EQ(r.codes.mse_by_level.size(), 2u);
  EXPECT_LT(r.codes.mse_by_level.back(), 9.0 * 0.5);  // far below the input variance (~9)

  // Same seed, same codes and losses.
  const auto again = train_rq_vae(b.x.data(), b.n, b.dim, o);
  EXPECT_EQ(again.codes.codes, r.codes.codes);
  EXPECT_EQ(again.training.epoch_loss, r.training.epoch_loss);
}

TEST(RqVae, InvalidOptionsNameTheOption) {
  RqVaeOptions o;
  o.beta = -1;
  EXPECT_NE(message_of([&] { o.validate(); }).find("beta"), std::string::npos);
  o = {};
  o.epochs = 0;
  EXPECT_NE(message_of([&] { o.validate(); }).find("epochs"), std::string::npos);
}

// ---------------------------------------------------------------- tokenize_items

TEST(Tokenizer, RqKMeansReportAndZeroCollisionsAfterDisambiguation) {
  // 4 clusters with 2 levels of 4 codes: 16 prefixes for 200 items, so collisions are certain.
  const auto b = make_blobs(4, 50, 8, 0.5f, 31);
  const auto m = matrix_of(b);
  TokenizerOptions o;
  o.num_codebooks = 2;
  o.codebook_size = 4;
  double seconds = -1;
  const auto ids = tokenize_items(m, o, &seconds);
  EXPECT_GE(seconds, 0.0);
  EXPECT_EQ(ids.method, "rq-kmeans");
  EXPECT_EQ(ids.dataset_fingerprint, "0badf00d");
  EXPECT_EQ(ids.num_items, 200);
  EXPECT_EQ(ids.num_levels(), 3);
  EXPECT_GT(ids.level_sizes[2], 1);
  const auto& r = ids.report;
  EXPECT_GT(r["collisions"]["rate_before"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(r["collisions"]["rate_after"].get<double>(), 0.0);
  EXPECT_EQ(r["collisions"]["largest_prefix_group"].get<std::int32_t>(), ids.level_sizes[2]);
  EXPECT_EQ(r["collisions"]["largest_level1_group"].get<int>(), 50);
  EXPECT_DOUBLE_EQ(r["levels"][0]["utilisation"].get<double>(), 1.0);
  EXPECT_NEAR(r["levels"][0]["perplexity"].get<double>(), 4.0, 1e-9);
  EXPECT_EQ(r["options"]["num_codebooks"].get<int>(), 2);
  EXPECT_EQ(r["options"]["codebook_size"].get<int>(), 4);
  EXPECT_LT(r["reconstruction"]["relative_mse"].get<double>(), 0.2);
  EXPECT_EQ(r["input"]["dim"].get<int>(), 8);
  EXPECT_FALSE(r.contains("seconds"));
  // Codes agree with the report's level-1 statistics and item rows are unique.
  std::set<std::vector<std::int32_t>> unique;
  for (std::int64_t item = 1; item <= ids.num_items; ++item) {
    const auto c = ids.code(item);
    unique.insert({c.begin(), c.end()});
  }
  EXPECT_EQ(unique.size(), 200u);
  const auto text = format_report(r);
  EXPECT_NE(text.find("utilisation"), std::string::npos);
  EXPECT_NE(text.find("collisions"), std::string::npos);
}

TEST(Tokenizer, SameSeedGivesByteIdenticalFilesForEveryMethod) {
  const auto b = make_blobs(8, 30, 8, 0.5f, 41);
  const auto m = matrix_of(b);
  for (const char* method : {"rq-kmeans", "rq-vae", "random"}) {
    TokenizerOptions o;
    o.method = method;
    o.num_codebooks = 2;
    o.codebook_size = 8;
    o.seed = 17;
    o.balanced = o.method == "rq-kmeans";
    o.rq_vae.hidden_dims = {16};
    o.rq_vae.latent_dim = 4;
    o.rq_vae.epochs = 5;
    o.rq_vae.batch_size = 32;
    const auto p1 = temp_path(std::string(method) + "_1.sids"), p2 = temp_path(std::string(method) + "_2.sids");
    save_semantic_ids(tokenize_items(m, o), p1);
    save_semantic_ids(tokenize_items(m, o), p2);
    EXPECT_EQ(read_file(p1), read_file(p2)) << method;
    const auto loaded = load_semantic_ids(p1);
    EXPECT_EQ(loaded.method, method);
    EXPECT_DOUBLE_EQ(loaded.report["collisions"]["rate_after"].get<double>(), 0.0);
    o.seed = 18;
    EXPECT_NE(tokenize_items(m, o).codes, loaded.codes) << method << ": a different seed should change the codes";
    fs::remove(p1);
    fs::remove(p2);
  }
}

TEST(Tokenizer, BalancedRqKMeansUsesLevelOneCodesEvenly) {
  const auto b = make_blobs(8, 0, 6, 0.3f, 5, {250, 21, 21, 21, 21, 21, 21, 21});
  TokenizerOptions o;
  o.num_codebooks = 2;
  o.codebook_size = 8;
  o.balanced = true;
  const auto ids = tokenize_items(matrix_of(b), o);
  EXPECT_LE(ids.report["collisions"]["largest_level1_group"].get<int>(), 50);
  EXPECT_GT(ids.report["levels"][0]["perplexity"].get<double>(), 7.5);
}

TEST(Tokenizer, RejectsBadOptionsAndInconsistentMatrices) {
  const auto m = matrix_of(make_blobs(2, 5, 3, 0.1f, 1));
  TokenizerOptions o;
  o.method = "rq-vqvae";
  EXPECT_NE(message_of([&] { tokenize_items(m, o); }).find("unknown method 'rq-vqvae'"), std::string::npos);
  o = {};
  o.codebook_size = 0;
  EXPECT_NE(message_of([&] { tokenize_items(m, o); }).find("codebook_size"), std::string::npos);
  o = {};
  auto bad = m;
  bad.values.pop_back();
  EXPECT_NE(message_of([&] { tokenize_items(bad, o); }).find("'values'"), std::string::npos);
  bad = m;
  bad.values[bad.dim + 1] = std::nanf("");
  EXPECT_NE(message_of([&] { tokenize_items(bad, o); }).find("non-finite"), std::string::npos);
}

}  // namespace
}  // namespace tessera::tokenize
