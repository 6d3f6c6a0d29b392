// SASRec's packed path (projections and feed-forward on real rows, attention padded) computes
// the padded path's function, values and gradients; the item bias option keeps scores plain dot
// products of encode() and item_embeddings(); the SwiGLU feed-forward option computes
// W2 (silu(W1 x) * W3 x).
#include <gtest/gtest.h>

#include "tessera/models/packing.h"
#include "tessera/models/sasrec.h"
#include "tessera/train/losses.h"

namespace tessera::models {
namespace {

// A small SASRec without dropout.
ModelSpec small_spec(std::int64_t num_items, std::int64_t max_len, std::int64_t d_model, std::int64_t ffn_dim) {
  ModelSpec spec;
  spec.num_items = num_items;
  spec.max_len = max_len;
  spec.d_model = d_model;
  spec.ffn_dim = ffn_dim;
  spec.dropout = 0.0;
  return spec;
}

class SasRecPositions : public ::testing::TestWithParam<bool> {};

TEST_P(SasRecPositions, PackedAndPaddedPathsComputeTheSameFunction) {
  torch::manual_seed(4);
  ModelSpec spec = small_spec(25, 7, 8, 16);
  spec.positions_from_start = GetParam();
  spec.num_heads = 2;
  SasRec model(spec);
  model->train();
  auto offsets = torch::tensor({0, 3, 10, 11, 15}, torch::kLong);  // lengths 3, 7, 1, 4
  auto items = torch::randint(1, 26, {15}, torch::kLong);
  auto packed = model->encode_packed(items, offsets);
  auto padded = unpad(model->encode(pad_packed(items, offsets, 7)), offsets);
  EXPECT_TRUE(torch::allclose(packed, padded, 1e-4, 1e-5));

  auto target = torch::randn_like(packed);
  (packed * target).sum().backward();
  std::vector<torch::Tensor> grads;
  for (const auto& p : model->parameters()) grads.push_back(p.grad().clone());
  model->zero_grad();
  (unpad(model->encode(pad_packed(items, offsets, 7)), offsets) * target).sum().backward();
  std::size_t i = 0;
  for (const auto& p : model->parameters()) {
    EXPECT_TRUE(torch::allclose(grads[i], p.grad(), 1e-3, 1e-5)) << "parameter " << i;
    ++i;
  }
}

INSTANTIATE_TEST_SUITE_P(FromEndAndFromStart, SasRecPositions, ::testing::Bool());

TEST(SasRecSwiGlu, FeedForwardIsGatedAndPackedMatchesPadded) {
  torch::manual_seed(6);
  SasRecBlock block(8, 2, 12, 0.0, /*swiglu=*/true);
  block->eval();
  ASSERT_EQ(block->ffn_in->weight.sizes(), (std::vector<std::int64_t>{24, 8}));
  ASSERT_EQ(block->ffn_out->weight.sizes(), (std::vector<std::int64_t>{8, 12}));
  auto x = torch::randn({5, 8});
  auto w1 = block->ffn_in->weight.narrow(0, 0, 12), b1 = block->ffn_in->bias.narrow(0, 0, 12);
  auto w3 = block->ffn_in->weight.narrow(0, 12, 12), b3 = block->ffn_in->bias.narrow(0, 12, 12);
  auto expected = torch::matmul(torch::silu(torch::matmul(x, w1.t()) + b1) * (torch::matmul(x, w3.t()) + b3),
                                block->ffn_out->weight.t()) + block->ffn_out->bias;
  EXPECT_TRUE(torch::allclose(block->feed_forward(x), expected, 1e-5, 1e-6));

  ModelSpec spec = small_spec(20, 6, 8, 12);
  spec.ffn_activation = "swiglu";
  SasRec model(spec);
  model->eval();
  auto offsets = torch::tensor({0, 2, 8, 11}, torch::kLong);
  auto items = torch::randint(1, 21, {11}, torch::kLong);
  EXPECT_TRUE(torch::allclose(model->encode_packed(items, offsets), unpad(model->encode(pad_packed(items, offsets, 6)), offsets),
                              1e-4, 1e-5));
}

TEST(SasRecItemBias, ScoresAreDotProductPlusALearnedBiasPerItem) {
  torch::manual_seed(5);
  ModelSpec spec = small_spec(12, 6, 8, 8);
  spec.item_bias = true;
  SasRec model(spec);
  model->eval();
  ASSERT_TRUE(model->item_bias.defined());
  EXPECT_EQ(model->item_bias.sizes(), (std::vector<std::int64_t>{13}));
  EXPECT_TRUE(model->item_bias.eq(0).all().item<bool>());  // starts with no effect

  auto items = torch::tensor({{0, 0, 3, 7, 1, 9}, {2, 4, 6, 8, 10, 12}}, torch::kLong);
  auto hidden = model->encode(items);  // [2, 6, 9]
  ASSERT_EQ(hidden.size(2), 9);
  EXPECT_TRUE(hidden.select(2, 8).eq(1).all().item<bool>());
  auto table = model->item_embeddings();  // [13, 9]
  ASSERT_EQ(table.size(1), 9);
  EXPECT_TRUE(torch::equal(table.narrow(1, 0, 8), model->item_embedding->weight));

  {
    torch::NoGradGuard no_grad;
    model->item_bias.copy_(torch::arange(13, torch::kFloat) * 0.5);
  }
  auto last = model->encode(items).select(1, 5);  // [2, 9]
  auto scores = torch::matmul(last, model->item_embeddings().t());
  auto expected = torch::matmul(last.narrow(1, 0, 8), model->item_embedding->weight.t()) + torch::arange(13, torch::kFloat) * 0.5;
  EXPECT_TRUE(torch::allclose(scores, expected, 1e-5, 1e-6));

  // The full-softmax loss trains the bias: a target's bias gets a negative gradient.
  model->train();
  auto h = model->encode(items).select(1, 5);
  auto loss = train::full_softmax_cross_entropy(h, model->item_embeddings(), torch::tensor({5, 11}, torch::kLong));
  loss.backward();
  ASSERT_TRUE(model->item_bias.grad().defined());
  EXPECT_LT(model->item_bias.grad()[5].item<float>(), 0.0f);
  EXPECT_LT(model->item_bias.grad()[11].item<float>(), 0.0f);
  EXPECT_GT(model->item_bias.grad()[1].item<float>(), 0.0f);
  EXPECT_EQ(model->item_bias.grad()[0].item<float>(), 0.0f);  // padding is never a candidate
}

}  // namespace
}  // namespace tessera::models
