// Tests of item matrices and the item-feature builders (content, item2vec, fusion, SVD).
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "data/test_files.h"
#include "tessera/core/binary_io.h"
#include "tessera/data/fingerprint.h"
#include "tessera/tokenize/collab_features.h"
#include "tessera/tokenize/content_features.h"
#include "tessera/tokenize/features_svd.h"
#include "tessera/tokenize/item_features.h"
#include "tessera/tokenize/item_matrix.h"
#include "tessera/train/checkpoint.h"
#include "tessera/train/trainer.h"

namespace tessera::tokenize {
namespace {

using data::testing::error_of;
using data::testing::TempDir;

// A dataset with the given sequences (items 1..num_items), original IDs "i<n>", and metadata if given.
data::Dataset make_dataset(std::int32_t num_items, const std::vector<std::vector<std::int32_t>>& sequences,
                           std::vector<data::ItemMetadata> metadata = {}) {
  data::Dataset d;
  d.name = "tiny";
  d.num_items = num_items;
  for (const auto& s : sequences) {
    d.items.insert(d.items.end(), s.begin(), s.end());
    d.user_offsets.push_back(static_cast<std::int64_t>(d.items.size()));
    d.user_ids.push_back("u" + std::to_string(d.user_ids.size()));
  }
  d.item_ids.push_back("");
  for (std::int32_t i = 1; i <= num_items; ++i) d.item_ids.push_back("i" + std::to_string(i));
  if (!metadata.empty()) {
    metadata.insert(metadata.begin(), data::ItemMetadata{});
    d.item_metadata = std::move(metadata);
  }
  data::validate_dataset(d, "tiny");
  return d;
}

float cosine(const ItemMatrix& m, std::int64_t a, std::int64_t b) {
  const torch::Tensor x = item_matrix_tensor(m);
  return torch::cosine_similarity(x[a], x[b], 0).item<float>();
}

ItemMatrix small_matrix(std::int64_t num_items, std::int64_t dim, const std::string& fingerprint, float offset = 0) {
  torch::Tensor rows = torch::arange((num_items + 1) * dim, torch::kFloat32).view({num_items + 1, dim}) + offset;
  return make_item_matrix(rows, "test", "arange", fingerprint);
}

// Items 1-2 are nail polish by OPI, 3-4 shampoo by Dove, 5-6 lotion by Nivea; 7 has no metadata.
data::Dataset shop_dataset() {
  std::vector<data::ItemMetadata> meta = {
      {"OPI Red Shatter Nail Polish", 0, {"OPI", "Makeup", "Nail Polish"}},
      {"OPI Blue Nail Polish", 0, {"OPI", "Makeup", "Nail Polish"}},
      {"Dove Daily Shampoo", 0, {"Dove", "Hair Care", "Shampoo"}},
      {"Dove Repair Shampoo", 0, {"Dove", "Hair Care", "Shampoo"}},
      {"Nivea Body Lotion", 0, {"Nivea", "Skin Care", "Lotion"}},
      {"Nivea Soft Lotion", 0, {"Nivea", "Skin Care", "Lotion"}},
      {},
  };
  return make_dataset(7, {{1, 2, 3, 4, 5}, {6, 7, 1, 2, 3}}, meta);
}

TEST(ItemMatrixFile, RoundTripKeepsEveryField) {
  TempDir dir;
  auto m = small_matrix(4, 3, "abcd1234");
  m.source = "a source";
  save_item_matrix(m, dir.file("m.imat"));
  const auto back = load_item_matrix(dir.file("m.imat"));
  EXPECT_EQ(back.kind, "test");
  EXPECT_EQ(back.source, "a source");
  EXPECT_EQ(back.dataset_fingerprint, "abcd1234");
  EXPECT_EQ(back.num_items, 4);
  EXPECT_EQ(back.dim, 3);
  EXPECT_EQ(back.values, m.values);
  EXPECT_EQ(back.row(0)[0], 0.0f);  // padding row zeroed by make_item_matrix
  EXPECT_EQ(back.row(2)[1], 7.0f);
}

TEST(ItemMatrixFile, DamagedFilesAreRefusedWithTheirName) {
  TempDir dir;
  const auto path = dir.file("m.imat");
  save_item_matrix(small_matrix(10, 4, "x"), path);
  const std::string bytes = read_file(path);

  dir.write("truncated.imat", bytes.substr(0, bytes.size() / 2));
  auto message = error_of([&] { load_item_matrix(dir.file("truncated.imat")); });
  EXPECT_NE(message.find("truncated.imat"), std::string::npos) << message;

  std::string flipped = bytes;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x40);
  dir.write("flipped.imat", flipped);
  message = error_of([&] { load_item_matrix(dir.file("flipped.imat")); });
  EXPECT_NE(message.find("flipped.imat"), std::string::npos) << message;

  message = error_of([&] { load_item_matrix(dir.file("missing.imat")); });
  EXPECT_NE(message.find("missing.imat"), std::string::npos) << message;

  write_container(dir.file("dataset.tsd"), "TSRDATA", 1, "payload");
  message = error_of([&] { load_item_matrix(dir.file("dataset.tsd")); });
  EXPECT_NE(message.find("dataset.tsd"), std::string::npos) << message;

  // A well-formed container whose values do not fill (num_items + 1) * dim.
  BinaryWriter w;
  w.put_string("content");
  w.put_string("s");
  w.put_string("f");
  w.put<std::int64_t>(3);
  w.put<std::int64_t>(2);
  w.put_vector(std::vector<float>(7, 0.0f));
  write_container(dir.file("short.imat"), "TSRIMAT", kItemMatrixFormatVersion, w.bytes());
  message = error_of([&] { load_item_matrix(dir.file("short.imat")); });
  EXPECT_NE(message.find("short.imat"), std::string::npos) << message;
  EXPECT_NE(message.find("values"), std::string::npos) << message;

  write_container(dir.file("newer.imat"), "TSRIMAT", kItemMatrixFormatVersion + 1, w.bytes());
  message = error_of([&] { load_item_matrix(dir.file("newer.imat")); });
  EXPECT_NE(message.find("newer.imat"), std::string::npos) << message;
}

TEST(RandomizedSvd, MatchesExactSingularValuesOfALowRankMatrix) {
  auto gen = at::detail::createCPUGenerator(3);
  const torch::Tensor a = torch::mm(torch::randn({60, 5}, gen, torch::kFloat64), torch::randn({5, 40}, gen, torch::kFloat64));
  const auto svd = randomized_svd(a.to_sparse(), 5, {});
  const torch::Tensor exact = torch::linalg::svdvals(a, c10::nullopt).narrow(0, 0, 5);
  EXPECT_TRUE(torch::allclose(svd.s, exact, 1e-8, 1e-8));
  EXPECT_TRUE(torch::allclose(torch::mm(svd.u * svd.s, svd.v.t()), a, 1e-7, 1e-7));
  EXPECT_EQ(randomized_svd(a, 100, {}).s.size(0), 40);  // rank capped by the shape
}

TEST(ContentFeatures, TokensFollowTheDocumentedEncoder) {
  const data::ItemMetadata m{"Toy Story (1995)", 1995, {"Animation", "Children's"}};
  const std::vector<std::string> expected = {"attr:animation", "attr:children's", "word:toy", "word:story", "decade:1990"};
  EXPECT_EQ(content_tokens(m), expected);
  EXPECT_EQ(text_words("Red SHATTER crackle, nail-polish E55 a"), (std::vector<std::string>{"red", "shatter", "crackle", "nail", "polish", "e55"}));
}

TEST(ContentFeatures, ItemsSharingAttributesAreCloserThanUnrelatedOnes) {
  const auto d = shop_dataset();
  ContentOptions options;
  options.dim = 8;
  ContentReport report;
  const auto m = build_content_matrix(d, options, &report);
  EXPECT_EQ(m.kind, "content");
  EXPECT_EQ(m.num_items, 7);
  EXPECT_EQ(m.dim, 8);
  EXPECT_EQ(m.dataset_fingerprint, data::dataset_fingerprint(d));
  EXPECT_EQ(report.items_with_content, 6);
  EXPECT_EQ(count_nonzero_rows(m), 6);
  for (int c = 0; c < m.dim; ++c) EXPECT_EQ(m.row(7)[c], 0.0f);  // no metadata: zero row
  EXPECT_NEAR(torch::tensor(std::vector<float>(m.row(1), m.row(1) + m.dim)).norm().item<float>(), 1.0f, 1e-5);
  EXPECT_GT(cosine(m, 1, 2), 0.8f);
  EXPECT_GT(cosine(m, 3, 4), 0.8f);
  EXPECT_LT(cosine(m, 1, 3), 0.2f);
  EXPECT_LT(cosine(m, 1, 5), 0.2f);
  // Singleton tokens ("red", "blue", ...) are dropped: only shared ones are in the vocabulary.
  // 9 attributes and the 7 title words found in two items (opi, nail, polish, dove, shampoo,
  // nivea, lotion); words of one item only (red, shatter, blue, ...) are dropped.
  EXPECT_EQ(report.vocabulary_size, 16);
}

TEST(ContentFeatures, ExtraTextIsMatchedByOriginalIdOrTitle) {
  TempDir dir;
  // Items 1-4 have only an identifier as title (as Beauty's ASINs); extra text pairs 1 with 3.
  std::vector<data::ItemMetadata> meta = {{"B001", 0, {}}, {"B002", 0, {}}, {"B003", 0, {}}, {"B004", 0, {}}};
  const auto d = make_dataset(4, {{1, 2, 3, 4}}, meta);
  ContentOptions options;
  options.dim = 4;
  EXPECT_NE(error_of([&] { build_content_matrix(d, options); }).find("no item tokens"), std::string::npos);

  options.extra_text_path = dir.write("extra.txt", "B001 argan oil body butter\ni3 argan oil body butter\nB002 red nail polish\n"
                                                   "\nB004 red nail polish\nB999 nothing here\n");
  ContentReport report;
  const auto m = build_content_matrix(d, options, &report);
  EXPECT_EQ(report.extra_text_matched, 4);
  EXPECT_EQ(report.extra_text_unmatched, 1);
  EXPECT_EQ(report.items_with_content, 4);
  EXPECT_GT(cosine(m, 1, 3), 0.99f);
  EXPECT_GT(cosine(m, 2, 4), 0.99f);
  EXPECT_LT(cosine(m, 1, 2), 0.01f);

  options.extra_text_path = dir.write("other.txt", "X1 some words\nX2 more words\n");
  const auto message = error_of([&] { build_content_matrix(d, options); });
  EXPECT_NE(message.find("other.txt"), std::string::npos) << message;
}

// Items 1-3 are always consumed together, as are 4-6; item 7 is only ever a validation or test
// target (the last two items of a sequence), so training data never shows it.
data::Dataset cooccurrence_dataset() {
  std::vector<std::vector<std::int32_t>> sequences;
  for (int u = 0; u < 30; ++u) {
    const std::int32_t base = u % 2 == 0 ? 1 : 4;
    std::vector<std::int32_t> s;
    for (int t = 0; t < 9; ++t) s.push_back(base + static_cast<std::int32_t>((t * (u % 3 + 1) + u) % 3));
    s.push_back(7);
    s.push_back(7);
    sequences.push_back(s);
  }
  return make_dataset(7, sequences);
}

TEST(Item2Vec, FrequentlyCooccurringItemsAreCloser) {
  const auto d = cooccurrence_dataset();
  Item2VecOptions options;
  options.dim = 2;  // one direction per block of items
  options.window = 2;
  // Two equal blocks: every PMI is about ln 2, below the default shift ln 5.
  EXPECT_NE(error_of([&] { build_item2vec_matrix(d, options); }).find("--pmi-shift"), std::string::npos);
  options.negative_shift = 1.0;
  Item2VecReport report;
  const auto m = build_item2vec_matrix(d, options, &report);
  EXPECT_EQ(m.kind, "item2vec");
  EXPECT_EQ(m.dim, 2);
  EXPECT_EQ(m.dataset_fingerprint, data::dataset_fingerprint(d));
  EXPECT_EQ(report.items_with_vector, 6);
  for (int c = 0; c < m.dim; ++c) EXPECT_EQ(m.row(7)[c], 0.0f);  // never in training data
  for (auto [a, b] : {std::pair{1, 2}, {2, 3}, {4, 5}, {5, 6}}) {
    for (auto other : {4, 5, 6}) {
      if (a <= 3) EXPECT_GT(cosine(m, a, b), cosine(m, a, other) + 0.5f) << a << " " << b << " vs " << other;
    }
    for (auto other : {1, 2, 3}) {
      if (a >= 4) EXPECT_GT(cosine(m, a, b), cosine(m, a, other) + 0.5f) << a << " " << b << " vs " << other;
    }
  }
  options.window = 0;
  EXPECT_NE(error_of([&] { build_item2vec_matrix(d, options); }).find("window"), std::string::npos);
}

TEST(ItemFeatures, SameSeedGivesIdenticalMatrices) {
  const auto shop = shop_dataset();
  ContentOptions content;
  content.dim = 5;
  content.seed = 11;
  EXPECT_EQ(build_content_matrix(shop, content).values, build_content_matrix(shop, content).values);
  const auto co = cooccurrence_dataset();
  Item2VecOptions item2vec;
  item2vec.seed = 11;
  item2vec.dim = 3;
  item2vec.negative_shift = 1.0;
  EXPECT_EQ(build_item2vec_matrix(co, item2vec).values, build_item2vec_matrix(co, item2vec).values);
}

TEST(Fusion, ConcatenatesWeightedNormalisedRows) {
  const auto a = small_matrix(5, 3, "f1");
  const auto b = small_matrix(5, 2, "f1", 1.0f);
  const auto fused = fuse_item_matrices({{&a, "a.imat", 0.5}, {&b, "b.imat", 2.0}});
  EXPECT_EQ(fused.kind, "fused");
  EXPECT_EQ(fused.num_items, 5);
  EXPECT_EQ(fused.dim, 5);
  EXPECT_EQ(fused.dataset_fingerprint, "f1");
  EXPECT_NE(fused.source.find("a.imat"), std::string::npos);
  const torch::Tensor f = item_matrix_tensor(fused);
  const torch::Tensor expected_a = l2_normalize_rows(item_matrix_tensor(a)) * 0.5;
  const torch::Tensor expected_b = l2_normalize_rows(item_matrix_tensor(b)) * 2.0;
  EXPECT_TRUE(torch::allclose(f.narrow(1, 0, 3), expected_a));
  EXPECT_TRUE(torch::allclose(f.narrow(1, 3, 2), expected_b));
  EXPECT_NEAR(f[3].narrow(0, 0, 3).norm().item<float>(), 0.5f, 1e-5);
  EXPECT_NEAR(f[3].narrow(0, 3, 2).norm().item<float>(), 2.0f, 1e-5);
  for (int c = 0; c < fused.dim; ++c) EXPECT_EQ(fused.row(0)[c], 0.0f);

  EXPECT_NE(error_of([&] { fuse_item_matrices({{&a, "a.imat", -1.0}}); }).find("a.imat"), std::string::npos);
  EXPECT_NE(error_of([&] { fuse_item_matrices({}); }).find("no input"), std::string::npos);
}

TEST(Fusion, MismatchedDatasetIsRefused) {
  const auto a = small_matrix(5, 3, "f1");
  const auto other_fingerprint = small_matrix(5, 3, "f2");
  auto message = error_of([&] { fuse_item_matrices({{&a, "a.imat", 0.5}, {&other_fingerprint, "b.imat", 0.5}}); });
  EXPECT_NE(message.find("b.imat"), std::string::npos) << message;
  EXPECT_NE(message.find("fingerprint"), std::string::npos) << message;
  const auto fewer_items = small_matrix(4, 3, "f1");
  EXPECT_NE(error_of([&] { fuse_item_matrices({{&a, "a.imat", 0.5}, {&fewer_items, "c.imat", 0.5}}); }).find("c.imat"), std::string::npos);

  const auto d = shop_dataset();
  message = error_of([&] { check_matrix_matches_dataset(a, d, "a.imat"); });
  EXPECT_NE(message.find("a.imat"), std::string::npos) << message;
  EXPECT_NO_THROW(check_matrix_matches_dataset(build_content_matrix(d, {}), d, "content"));
}

TEST(SasrecFeatures, RowsAreTheCheckpointsItemTable) {
  TempDir dir;
  const auto d = shop_dataset();
  train::TrainConfig config;
  config.d_model = 8;
  config.max_len = 4;
  auto model = models::make_model(train::model_spec(config, d.num_items));
  const nlohmann::json meta = {{"kind", "sequence_model"},
                               {"config", train::to_json(config)},
                               {"dataset", {{"name", d.name}, {"fingerprint", data::dataset_fingerprint(d)}, {"num_items", d.num_items}}},
                               {"epoch", 7}};  // as the trainer writes best.ckpt
  train::save_checkpoint(train::capture_checkpoint(*model, nullptr, meta), dir.file("best.ckpt"));
  const auto m = build_sasrec_matrix(d, dir.file("best.ckpt"));
  EXPECT_EQ(m.kind, "sasrec");
  EXPECT_NE(m.source.find("epoch 7)"), std::string::npos) << m.source;
  EXPECT_EQ(m.dim, 8);
  EXPECT_EQ(m.dataset_fingerprint, data::dataset_fingerprint(d));
  torch::NoGradGuard no_grad;
  torch::Tensor expected = model->item_embeddings().clone();
  expected[0].zero_();
  EXPECT_TRUE(torch::equal(item_matrix_tensor(m), expected));

  const auto other = cooccurrence_dataset();  // same item count, other sequences
  const auto message = error_of([&] { build_sasrec_matrix(other, dir.file("best.ckpt")); });
  EXPECT_NE(message.find("best.ckpt"), std::string::npos) << message;
}

TEST(ItemFeatures, CheckSeesAttributeStructure) {
  const auto d = shop_dataset();
  ContentOptions options;
  options.dim = 8;
  const auto c = check_item_matrix(build_content_matrix(d, options), d, 1);
  EXPECT_EQ(c.items_checked, 6);
  EXPECT_DOUBLE_EQ(c.neighbour_attribute_precision, 1.0);
  EXPECT_GT(c.mean_cosine_shared_attribute, c.mean_cosine_random);
  EXPECT_GE(c.random_attribute_precision, 0.0);
  EXPECT_LT(c.random_attribute_precision, 1.0);
}

}  // namespace
}  // namespace tessera::tokenize
