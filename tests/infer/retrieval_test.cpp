// Retrieval encodes histories packed (no padding); its scores must equal those of the padded
// path (encode() on left-padded histories, state of the last column) for every sequence model.
#include <gtest/gtest.h>

#include <random>

#include <torch/torch.h>

#include "tessera/core/error.h"
#include "tessera/infer/retrieval.h"
#include "tessera/models/registry.h"
#include "tessera/train/batching.h"

namespace tessera::infer {
namespace {

TEST(RetrievalTest, PackedScoresEqualPaddedScoresForEveryModel) {
  for (const std::string name : {"sasrec", "hstu"}) {
    torch::manual_seed(3);
    models::ModelSpec spec;
    spec.name = name;
    spec.num_items = 50;
    spec.max_len = 12;
    spec.d_model = 16;
    spec.num_heads = 2;
    spec.ffn_dim = 16;
    spec.dropout = 0.0;
    auto model = models::make_model(spec);
    model->eval();
    std::mt19937 rng(5);
    std::vector<std::vector<std::int32_t>> histories;
    for (int length : {1, 3, 12, 7, 20, 2, 12, 30}) {  // shorter, equal to and longer than max_len
      auto& h = histories.emplace_back();
      for (int i = 0; i < length; ++i) h.push_back(1 + static_cast<std::int32_t>(rng() % 50));
    }
    std::vector<std::span<const std::int32_t>> spans(histories.begin(), histories.end());
    const auto scores = score_next_items(*model, spans, spec.max_len);

    torch::NoGradGuard no_grad;
    auto batch = train::make_history_batch(spans, spec.max_len);
    auto expected = torch::mm(model->encode(batch).select(1, batch.size(1) - 1), model->item_embeddings().t());
    EXPECT_TRUE(torch::allclose(scores.slice(1, 1), expected.slice(1, 1), 1e-4, 1e-4)) << name;
  }
}

TEST(RetrievalTest, TimeModelsNeedWellFormedTimestamps) {
  models::ModelSpec spec;
  spec.name = "hstu";
  spec.num_items = 20;
  spec.max_len = 8;
  spec.d_model = 8;
  spec.time_buckets = 16;
  auto model = models::make_model(spec);
  const std::vector<std::int32_t> history = {3, 4, 5};
  const std::vector<std::int64_t> good = {10, 20, 20}, decreasing = {10, 30, 20}, short_times = {10, 20};
  const std::vector<std::span<const std::int32_t>> histories = {history};
  auto scores_with = [&](const std::vector<std::int64_t>& times) {
    const Timestamps t = {std::span<const std::int64_t>(times)};
    return score_next_items(*model, histories, spec.max_len, &t);
  };
  EXPECT_EQ(scores_with(good).size(1), 21);
  EXPECT_THROW(score_next_items(*model, histories, spec.max_len), Error);
  EXPECT_THROW(scores_with(decreasing), Error);
  EXPECT_THROW(scores_with(short_times), Error);
}

}  // namespace
}  // namespace tessera::infer
