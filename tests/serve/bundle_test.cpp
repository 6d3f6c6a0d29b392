// Model bundles: a bundle restores the same model and item table without the dataset, and a
// damaged, truncated, newer or foreign file is refused with a message naming the file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "serve/serve_fixture.h"
#include "tessera/bundle/bundle.h"
#include "tessera/core/atomic_file.h"
#include "tessera/infer/model_loader.h"
#include "test_util.h"

namespace tessera::testing {
namespace {

namespace fs = std::filesystem;

std::string copy_with(const std::string& from, const std::string& name, const std::function<void(std::string&)>& edit) {
  std::string bytes = read_file(from);
  edit(bytes);
  const auto path = serve_dir() + "/" + name;
  write_text_atomically(path, bytes);
  return path;
}

std::vector<std::vector<infer::ScoredItem>> recommend(infer::LoadedModel& model, const std::vector<std::vector<std::int32_t>>& histories,
                                                      std::int64_t k, bool exclude) {
  std::vector<std::span<const std::int32_t>> spans(histories.begin(), histories.end());
  return model.recommend({}, spans, k, exclude);
}

TEST(BundleTest, RestoresTheModelAndItemTableWithoutTheDataset) {
  const auto& d = serve_dataset();
  const auto bundle = bundle::load_bundle(sasrec_bundle());
  EXPECT_EQ(bundle.manifest["format"], "tessera-bundle");
  EXPECT_EQ(bundle.manifest["format_version"], bundle::kBundleFormatVersion);
  EXPECT_EQ(bundle.manifest["model"]["name"], "sasrec");
  EXPECT_EQ(bundle.version(), "sasrec-v1");
  ASSERT_EQ(bundle.manifest["sections"].size(), 2u);
  EXPECT_EQ(bundle.manifest["sections"][0]["crc32"].get<std::string>().size(), 8u);
  EXPECT_TRUE(bundle.checkpoint.optimizer_state.empty());
  ASSERT_EQ(bundle.items.num_items(), d.num_items);
  for (std::int32_t i = 1; i <= d.num_items; ++i) {
    EXPECT_EQ(bundle.items.original_id(i), d.item_ids[i]);
    EXPECT_EQ(bundle.items.title(i), d.item_metadata[i].title);
    EXPECT_EQ(bundle.items.attributes(i), d.item_metadata[i].attributes);
    EXPECT_EQ(bundle.items.find_original(d.item_ids[i]), i);
  }
  EXPECT_EQ(bundle.items.find_original("no-such-item"), 0);

  auto from_bundle = infer::LoadedModel::from_checkpoint(bundle.checkpoint, bundle.path, nullptr);
  auto from_checkpoint = infer::LoadedModel::load(sasrec_checkpoint(), &d);
  const std::vector<std::vector<std::int32_t>> histories = {{1, 2, 3}, {5}, {40, 41, 42, 43, 44, 45}};
  const auto a = recommend(from_bundle, histories, 10, true), b = recommend(from_checkpoint, histories, 10, true);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t r = 0; r < a.size(); ++r) {
    ASSERT_EQ(a[r].size(), b[r].size());
    for (std::size_t j = 0; j < a[r].size(); ++j) {
      EXPECT_EQ(a[r][j].item, b[r][j].item);
      EXPECT_EQ(a[r][j].score, b[r][j].score);
    }
  }
}

TEST(BundleTest, TigerBundleCarriesItsSemanticIds) {
  const auto bundle = bundle::load_bundle(tiger_bundle());
  EXPECT_EQ(bundle.manifest["model"]["kind"], "tiger");
  EXPECT_EQ(bundle.manifest["model"]["semantic_id_levels"], 3);
  auto model = infer::LoadedModel::from_checkpoint(bundle.checkpoint, bundle.path, nullptr);
  ASSERT_NE(model.tiger(), nullptr);
  EXPECT_EQ(model.tiger()->semantic_ids().num_items, serve_dataset().num_items);
}

TEST(BundleTest, DamagedTruncatedNewerAndForeignFilesAreRefused) {
  const auto& good = sasrec_bundle();
  const auto corrupted = copy_with(good, "corrupted.tsb", [](std::string& b) { b[b.size() / 2] ^= 0x5a; });
  EXPECT_NE(message_of([&] { bundle::load_bundle(corrupted); }).find("checksum mismatch"), std::string::npos);
  const auto truncated = copy_with(good, "truncated.tsb", [](std::string& b) { b.resize(b.size() - 100); });
  const auto t = message_of([&] { bundle::load_bundle(truncated); });
  EXPECT_NE(t.find("truncated"), std::string::npos) << t;
  EXPECT_NE(t.find(truncated), std::string::npos) << t;
  const auto newer = copy_with(good, "newer.tsb", [](std::string& b) { b[8] = 2; });  // container version after the 8 magic bytes
  const auto n = message_of([&] { bundle::load_bundle(newer); });
  EXPECT_NE(n.find("newer than this tessera supports"), std::string::npos) << n;
  const auto foreign = message_of([&] { bundle::load_bundle(sasrec_checkpoint()); });
  EXPECT_NE(foreign.find("not a tessera 'TSRBNDL' file"), std::string::npos) << foreign;
  const auto missing = message_of([&] { bundle::load_bundle(serve_dir() + "/missing.tsb"); });
  EXPECT_NE(missing.find("cannot open"), std::string::npos) << missing;
}

TEST(BundleTest, ExportRefusesAnotherDatasetAndLeavesNoFile) {
  auto other = serve_dataset();
  other.items[0] = other.items[0] == 1 ? 2 : 1;  // another fingerprint
  const auto out = serve_dir() + "/refused.tsb";
  const auto m = message_of([&] { bundle::export_bundle(sasrec_checkpoint(), other, out); });
  EXPECT_NE(m.find("fingerprint"), std::string::npos) << m;
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace tessera::testing
