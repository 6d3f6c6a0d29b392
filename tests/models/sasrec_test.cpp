// SASRec's packed path (projections and feed-forward on real rows, attention padded) computes
// the padded path's function, values and gradients.
#include <gtest/gtest.h>

#include "tessera/models/packing.h"
#include "tessera/models/sasrec.h"

namespace tessera::models {
namespace {

class SasRecPositions : public ::testing::TestWithParam<bool> {};

TEST_P(SasRecPositions, PackedAndPaddedPathsComputeTheSameFunction) {
  torch::manual_seed(4);
  ModelSpec spec;
  spec.positions_from_start = GetParam();
  spec.num_items = 25;
  spec.max_len = 7;
  spec.d_model = 8;
  spec.num_heads = 2;
  spec.ffn_dim = 16;
  spec.dropout = 0.0;
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

}  // namespace
}  // namespace tessera::models
