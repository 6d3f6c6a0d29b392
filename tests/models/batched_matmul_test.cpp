// batched_matmul: the parallel small-product path gives torch::matmul's values and gradients,
// including transposed and permuted operands, and hands every other case to torch::matmul.
#include <gtest/gtest.h>

#include "tessera/models/batched_matmul.h"

namespace tessera::models {
namespace {

void expect_matches_matmul(const torch::Tensor& a0, const torch::Tensor& b0) {
  auto a = a0.detach().clone().requires_grad_(true), b = b0.detach().clone().requires_grad_(true);
  auto ra = a0.detach().clone().requires_grad_(true), rb = b0.detach().clone().requires_grad_(true);
  auto out = batched_matmul(a, b);
  auto ref = torch::matmul(ra, rb);
  ASSERT_EQ(out.sizes(), ref.sizes());
  EXPECT_TRUE(torch::allclose(out, ref, 1e-5, 1e-5)) << (out - ref).abs().max().item<double>();
  auto weight = torch::randn_like(ref);  // a loss that weighs every output differently
  (out * weight).sum().backward();
  (ref * weight).sum().backward();
  EXPECT_TRUE(torch::allclose(a.grad(), ra.grad(), 1e-5, 1e-5)) << (a.grad() - ra.grad()).abs().max().item<double>();
  EXPECT_TRUE(torch::allclose(b.grad(), rb.grad(), 1e-5, 1e-5)) << (b.grad() - rb.grad()).abs().max().item<double>();
}

TEST(BatchedMatmul, MatchesMatmulInValuesAndGradients) {
  torch::manual_seed(3);
  // Attention's shapes: [B, H, T, d] x [B, H, d, S], then [B, H, T, S] x [B, H, S, d].
  expect_matches_matmul(torch::randn({5, 3, 7, 4}), torch::randn({5, 3, 4, 9}));
  expect_matches_matmul(torch::randn({5, 3, 7, 9}), torch::randn({5, 3, 9, 4}));
  expect_matches_matmul(torch::randn({2, 1, 1}), torch::randn({2, 1, 6}));  // single rows and a k of 1
  expect_matches_matmul(torch::randn({64, 17, 31}), torch::randn({64, 31, 5}));
}

TEST(BatchedMatmul, TransposedAndPermutedOperandsGiveTheSameResult) {
  torch::manual_seed(4);
  // keys.transpose(-1, -2), as attention passes it, and a transposed left operand.
  auto keys = torch::randn({4, 2, 9, 6});
  expect_matches_matmul(torch::randn({4, 2, 5, 6}), keys.transpose(-1, -2));
  expect_matches_matmul(torch::randn({4, 2, 6, 5}).transpose(-1, -2), torch::randn({4, 2, 6, 3}));
  expect_matches_matmul(torch::randn({4, 2, 6, 5}).transpose(-1, -2), keys.transpose(-1, -2));
  // A permuted (neither contiguous nor a plain transpose) operand is copied, with the same result.
  expect_matches_matmul(torch::randn({2, 5, 4, 6}).permute({0, 2, 1, 3}), torch::randn({2, 4, 6, 3}));
}

TEST(BatchedMatmul, OtherCasesFallBackToMatmul) {
  torch::manual_seed(5);
  expect_matches_matmul(torch::randn({3, 4, 5}, torch::kDouble), torch::randn({3, 5, 2}, torch::kDouble));  // dtype
  expect_matches_matmul(torch::randn({3, 4, 5}), torch::randn({1, 5, 2}));                                   // broadcast
  expect_matches_matmul(torch::randn({2, 80, 70}), torch::randn({2, 70, 60}));  // 336,000 > kSmallProduct
  expect_matches_matmul(torch::randn({4, 5}), torch::randn({5, 3}));            // no batch dimension
  auto empty = batched_matmul(torch::randn({0, 3, 4}), torch::randn({0, 4, 2}));
  EXPECT_EQ(empty.sizes(), (std::vector<std::int64_t>{0, 3, 2}));
  auto zero_k = batched_matmul(torch::randn({2, 3, 0}), torch::randn({2, 0, 2}));
  EXPECT_TRUE(torch::equal(zero_k, torch::zeros({2, 3, 2})));
}

}  // namespace
}  // namespace tessera::models
