// HSTU: the jagged attention kernel agrees with the dense padded reference (values and
// gradients), the packed and padded model paths compute the same function, and attention is
// causal and never crosses sequences.
#include <gtest/gtest.h>

#include "tessera/models/hstu.h"
#include "tessera/models/jagged_attention.h"
#include "tessera/models/packing.h"

namespace tessera::models {
namespace {

torch::Tensor offsets_of(const std::vector<std::int64_t>& lengths) {
  std::vector<std::int64_t> off = {0};
  for (auto n : lengths) off.push_back(off.back() + n);
  return torch::tensor(off, torch::kLong);
}

TEST(Packing, PadAndUnpadAreInverse) {
  auto offsets = offsets_of({3, 1, 0, 2});
  auto packed = torch::arange(1, 7, torch::kLong);  // 1 2 3 | 4 | | 5 6
  auto padded = pad_packed(packed, offsets, 3);
  auto expected = torch::tensor({1, 2, 3, 0, 0, 4, 0, 0, 0, 0, 5, 6}, torch::kLong).view({4, 3});
  EXPECT_TRUE(torch::equal(padded, expected));
  EXPECT_TRUE(torch::equal(unpad(padded, offsets), packed));
  EXPECT_TRUE(torch::equal(positions_from_end(offsets), torch::tensor({2, 1, 0, 0, 1, 0}, torch::kLong)));
  EXPECT_THROW(padded_index(offsets, 2), c10::Error);
}

TEST(JaggedAttention, MatchesThePaddedReferenceInValueAndGradient) {
  torch::manual_seed(1);
  const std::vector<std::int64_t> lengths = {5, 1, 7, 3, 0, 7};
  const std::int64_t H = 2, D = 4, Dv = 3, L = 7, max_len = 9;
  auto offsets = offsets_of(lengths);
  const auto T = offsets[-1].item<std::int64_t>();
  auto q = torch::randn({T, H, D}).requires_grad_();
  auto k = torch::randn({T, H, D}).requires_grad_();
  auto v = torch::randn({T, H, Dv}).requires_grad_();
  auto bias = (torch::randn({max_len}) * 0.5).requires_grad_();
  auto grad = torch::randn({T, H, Dv});

  auto jagged = jagged_causal_pointwise_attention(q, k, v, offsets, bias, 5.0);
  (jagged * grad).sum().backward();
  auto jq = q.grad().clone(), jk = k.grad().clone(), jv = v.grad().clone(), jb = bias.grad().clone();
  q.mutable_grad().zero_();
  k.mutable_grad().zero_();
  v.mutable_grad().zero_();
  bias.mutable_grad().zero_();

  auto heads = [&](const torch::Tensor& t) { return pad_packed(t, offsets, L).transpose(1, 2); };  // [B, H, L, .]
  auto valid = pad_packed(torch::ones({T}, torch::kLong), offsets, L).to(torch::kBool);
  auto padded = padded_causal_pointwise_attention(heads(q), heads(k), heads(v), valid, bias, 5.0);
  auto reference = unpad(padded.transpose(1, 2), offsets);
  (reference * grad).sum().backward();

  EXPECT_TRUE(torch::allclose(jagged, reference, 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(jq, q.grad(), 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(jk, k.grad(), 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(jv, v.grad(), 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(jb, bias.grad(), 1e-4, 1e-5));
  EXPECT_GT(jb.abs().sum().item<double>(), 0.0);
  EXPECT_EQ(jb[max_len - 1].item<float>(), 0.0f);  // no sequence reaches distance 8
}

TEST(JaggedAttention, RejectsASequenceLongerThanTheBias) {
  auto q = torch::randn({4, 1, 2});
  EXPECT_THROW(jagged_causal_pointwise_attention(q, q, q, offsets_of({4}), torch::zeros({3}), 3.0), c10::Error);
}

ModelSpec small_hstu_spec() {
  ModelSpec spec;
  spec.name = "hstu";
  spec.num_items = 30;
  spec.max_len = 8;
  spec.d_model = 12;
  spec.num_blocks = 2;
  spec.num_heads = 2;
  spec.head_dim = 5;
  spec.dropout = 0.0;
  spec.l2_normalize = true;
  spec.temperature = 0.1;
  return spec;
}

TEST(Hstu, PackedAndPaddedPathsComputeTheSameFunction) {
  torch::manual_seed(2);
  Hstu model(small_hstu_spec());
  model->train();  // dropout 0: both paths deterministic
  auto offsets = offsets_of({4, 8, 1, 6});
  const auto T = offsets[-1].item<std::int64_t>();
  auto items = torch::randint(1, 31, {T}, torch::kLong);
  auto packed = model->encode_packed(items, offsets);
  auto padded = unpad(model->encode(pad_packed(items, offsets, 8)), offsets);
  ASSERT_EQ(packed.sizes(), padded.sizes());
  EXPECT_TRUE(torch::allclose(packed, padded, 1e-4, 1e-5));

  auto target = torch::randn_like(packed);
  model->zero_grad();
  (packed * target).sum().backward();
  std::vector<torch::Tensor> packed_grads;
  for (const auto& p : model->parameters()) packed_grads.push_back(p.grad().clone());
  model->zero_grad();
  (unpad(model->encode(pad_packed(items, offsets, 8)), offsets) * target).sum().backward();
  std::size_t i = 0;
  for (const auto& p : model->parameters()) {
    EXPECT_TRUE(torch::allclose(packed_grads[i], p.grad(), 1e-3, 1e-5)) << "parameter " << i;
    ++i;
  }
}

TEST(Hstu, OutputsDependOnlyOnEarlierItemsOfTheSameSequence) {
  torch::manual_seed(3);
  Hstu model(small_hstu_spec());
  model->eval();
  auto offsets = offsets_of({5, 3});
  auto items = torch::tensor({1, 2, 3, 4, 5, 6, 7, 8}, torch::kLong);
  auto before = model->encode_packed(items, offsets);
  auto changed = items.clone();
  changed[3] = 20;  // a later item of sequence 0
  changed[5] = 21;  // the first item of sequence 1
  auto after = model->encode_packed(changed, offsets);
  // Positions are counted from the end, so earlier rows of sequence 0 keep their inputs and
  // must not move; rows 3 and 4 (at or after the change) must.
  EXPECT_TRUE(torch::allclose(before.slice(0, 0, 3), after.slice(0, 0, 3)));
  EXPECT_FALSE(torch::allclose(before[3], after[3]));
  EXPECT_FALSE(torch::allclose(before[4], after[4]));
  // With l2_normalize, every state has norm 1 / temperature.
  EXPECT_TRUE(torch::allclose(before.norm(2, -1), torch::full({8}, 10.0f), 1e-4, 1e-4));
}

}  // namespace
}  // namespace tessera::models
