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
  EXPECT_TRUE(torch::equal(sequence_positions(offsets, false), torch::tensor({2, 1, 0, 0, 1, 0}, torch::kLong)));
  EXPECT_TRUE(torch::equal(sequence_positions(offsets, true), torch::tensor({0, 1, 2, 0, 0, 1}, torch::kLong)));
  EXPECT_THROW(padded_index(offsets, 2), c10::Error);
}

TEST(TimeBucket, IsLogSpacedAndCapped) {
  EXPECT_EQ(time_bucket(0, 128), 0);
  EXPECT_EQ(time_bucket(1, 128), 0);
  EXPECT_EQ(time_bucket(2, 128), 2);        // ln 2 / 0.301 = 2.3
  EXPECT_EQ(time_bucket(86400, 128), 37);   // one day
  EXPECT_EQ(time_bucket(31536000, 128), 57);  // one year
  EXPECT_EQ(time_bucket(31536000, 40), 39);   // capped at the last bucket
  auto buckets = packed_pair_time_buckets(torch::tensor({10, 12, 86410, 5, 5}, torch::kLong), offsets_of({3, 0, 2}), 64);
  // Sequence 0 (3 x 3 block, row-major, j <= i used), then sequence 2 (2 x 2).
  auto expected = torch::tensor({0, 0, 0, 2, 0, 0, 37, 37, 0, 0, 0, 0, 0}, torch::kUInt8);
  EXPECT_TRUE(torch::equal(buckets, expected));

  // The batched paths agree with time_bucket() on every pair, for gaps of any size and for
  // times out of order.
  torch::manual_seed(5);
  for (bool sorted : {true, false}) {
    auto times = torch::exp(torch::rand({60}) * 40.0).to(torch::kLong);
    if (sorted) times = times.cumsum(0);
    auto pairs = packed_pair_time_buckets(times, offsets_of({60}), 128);
    auto padded = padded_pair_time_buckets(times.view({1, 60}), torch::ones({1, 60}, torch::kBool), 128);
    const auto* t = times.data_ptr<std::int64_t>();
    for (std::int64_t i = 0; i < 60; ++i) {
      for (std::int64_t j = 0; j <= i; ++j) {
        const auto want = time_bucket(t[i] - t[j], 128);
        ASSERT_EQ(pairs[i * 60 + j].item<std::int64_t>(), want) << i << "," << j;
        ASSERT_EQ(padded[0][i][j].item<std::int64_t>(), want) << i << "," << j;
      }
    }
  }
}

// The jagged kernel against the dense padded reference, with or without the time term.
void expect_kernel_matches_reference(bool timed) {
  torch::manual_seed(1);
  const std::vector<std::int64_t> lengths = {5, 1, 7, 3, 0, 7};
  const std::int64_t H = 2, D = 4, Dv = 3, L = 7, max_len = 9, num_buckets = 12;
  auto offsets = offsets_of(lengths);
  const auto T = offsets[-1].item<std::int64_t>();
  auto q = torch::randn({T, H, D}).requires_grad_();
  auto k = torch::randn({T, H, D}).requires_grad_();
  auto v = torch::randn({T, H, Dv}).requires_grad_();
  auto bias = (torch::randn({max_len}) * 0.5).requires_grad_();
  auto time_bias = (torch::randn({num_buckets}) * 0.5).requires_grad_();
  // Non-decreasing times within each sequence, with gaps from 0 s to about a year.
  auto timestamps = torch::exp(torch::rand({T}) * 17.0).to(torch::kLong).cumsum(0);
  auto grad = torch::randn({T, H, Dv});
  std::vector<torch::Tensor> params = {q, k, v, bias};
  if (timed) params.push_back(time_bias);

  TimeBias packed_time{timed ? packed_pair_time_buckets(timestamps, offsets, num_buckets) : torch::Tensor(), time_bias};
  auto jagged = jagged_causal_pointwise_attention(q, k, v, offsets, bias, 5.0, timed ? &packed_time : nullptr);
  (jagged * grad).sum().backward();
  std::vector<torch::Tensor> jagged_grads;
  for (auto& p : params) {
    jagged_grads.push_back(p.grad().clone());
    p.mutable_grad().zero_();
  }

  auto heads = [&](const torch::Tensor& t) { return pad_packed(t, offsets, L).transpose(1, 2); };  // [B, H, L, .]
  auto valid = pad_packed(torch::ones({T}, torch::kLong), offsets, L).to(torch::kBool);
  TimeBias padded_time{timed ? padded_pair_time_buckets(pad_packed(timestamps, offsets, L), valid, num_buckets) : torch::Tensor(), time_bias};
  auto padded = padded_causal_pointwise_attention(heads(q), heads(k), heads(v), valid, bias, 5.0, timed ? &padded_time : nullptr);
  auto reference = unpad(padded.transpose(1, 2), offsets);
  (reference * grad).sum().backward();

  EXPECT_TRUE(torch::allclose(jagged, reference, 1e-4, 1e-5));
  for (std::size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(torch::allclose(jagged_grads[i], params[i].grad(), 1e-4, 1e-5)) << "parameter " << i;
  }
  const auto& jb = jagged_grads[3];
  EXPECT_GT(jb.abs().sum().item<double>(), 0.0);
  EXPECT_EQ(jb[max_len - 1].item<float>(), 0.0f);  // no sequence reaches distance 8
  if (timed) {
    EXPECT_GT(jagged_grads[4].abs().sum().item<double>(), 0.0);
    // Unlike the position term, the time term changes the output.
    auto untimed = jagged_causal_pointwise_attention(q, k, v, offsets, bias, 5.0);
    EXPECT_FALSE(torch::allclose(jagged, untimed, 1e-4, 1e-5));
  } else {
    EXPECT_FALSE(time_bias.grad().defined() && time_bias.grad().abs().sum().item<double>() > 0);
  }
}

TEST(JaggedAttention, MatchesThePaddedReferenceInValueAndGradient) { expect_kernel_matches_reference(false); }

TEST(JaggedAttention, WithTimeBucketsMatchesThePaddedReferenceInValueAndGradient) { expect_kernel_matches_reference(true); }

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

TEST(Packing, PaddedPositionsCountFromEitherEndOfEachRow) {
  auto valid = torch::tensor({0, 0, 1, 1, 1, 0, 1, 1, 1, 1}, torch::kBool).view({2, 5});  // left-padded
  ModelSpec spec;
  EXPECT_TRUE(torch::equal(padded_positions(valid, spec), torch::tensor({4, 3, 2, 1, 0, 4, 3, 2, 1, 0}, torch::kLong).view({2, 5})));
  spec.positions_from_start = true;
  EXPECT_TRUE(torch::equal(padded_positions(valid, spec), torch::tensor({0, 0, 0, 1, 2, 0, 0, 1, 2, 3}, torch::kLong).view({2, 5})));
}

class HstuPositions : public ::testing::TestWithParam<bool> {};

TEST_P(HstuPositions, PackedAndPaddedPathsComputeTheSameFunction) {
  torch::manual_seed(2);
  auto spec = small_hstu_spec();
  spec.positions_from_start = GetParam();
  Hstu model(spec);
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
    // Relative to the whole gradient: the two paths sum in different orders, so single small
    // entries can differ by more than an element-wise tolerance.
    EXPECT_LT((packed_grads[i] - p.grad()).norm().item<double>(), 1e-5 * p.grad().norm().item<double>() + 1e-6) << "parameter " << i;
    ++i;
  }
}

TEST_P(HstuPositions, AnOutputDoesNotDependOnHowMuchPaddingItsRowHas) {
  torch::manual_seed(6);
  auto spec = small_hstu_spec();
  spec.positions_from_start = GetParam();
  Hstu model(spec);
  model->eval();
  auto items = torch::tensor({{3, 9, 27, 4}}, torch::kLong);
  auto tight = model->encode(items);                                                          // [1, 4, d]
  auto wide = model->encode(torch::cat({torch::zeros({1, 4}, torch::kLong), items}, 1));      // [1, 8, d]
  EXPECT_TRUE(torch::allclose(tight, wide.slice(1, 4, 8), 1e-4, 1e-5));
}

INSTANTIATE_TEST_SUITE_P(FromEndAndFromStart, HstuPositions, ::testing::Bool());

TEST(Hstu, CountingPositionsFromTheStartChangesTheFunction) {
  auto spec = small_hstu_spec();
  torch::manual_seed(7);
  Hstu from_end(spec);
  spec.positions_from_start = true;
  torch::manual_seed(7);
  Hstu from_start(spec);  // the same weights, positions indexed the other way
  from_end->eval();
  from_start->eval();
  auto items = torch::tensor({{0, 0, 3, 9, 27, 4}}, torch::kLong);
  EXPECT_FALSE(torch::allclose(from_end->encode(items), from_start->encode(items), 1e-4, 1e-5));
}

TEST(Hstu, PlainLayerNormsHaveNoParametersAndKeepBothPathsEqual) {
  auto spec = small_hstu_spec();
  spec.layer_norm_affine = false;
  torch::manual_seed(8);
  Hstu plain(spec);
  for (const auto& p : plain->named_parameters()) EXPECT_EQ(p.key().find("norm"), std::string::npos) << p.key();
  auto affine_spec = small_hstu_spec();
  Hstu affine(affine_spec);
  // Each layer's two affine norms hold a scale and a shift each.
  const auto count = [](Hstu& m) {
    std::int64_t n = 0;
    for (const auto& p : m->parameters()) n += p.numel();
    return n;
  };
  const auto per_layer = 2 * (spec.d_model + spec.num_heads * spec.head_dim);
  EXPECT_EQ(count(affine) - count(plain), spec.num_blocks * per_layer);

  plain->eval();
  auto offsets = offsets_of({5, 2, 7});
  const auto T = offsets[-1].item<std::int64_t>();
  auto items = torch::randint(1, 31, {T}, torch::kLong);
  auto packed = plain->encode_packed(items, offsets);
  auto padded = unpad(plain->encode(pad_packed(items, offsets, 7)), offsets);
  EXPECT_TRUE(torch::allclose(packed, padded, 1e-4, 1e-5));
}

TEST(Hstu, PositionEmbeddingsStartAtTheConfiguredScale) {
  auto spec = small_hstu_spec();
  spec.max_len = 64;
  spec.position_init_std = 0.5;
  torch::manual_seed(9);
  Hstu model(spec);
  const auto std = model->position_embedding->weight.std().item<double>();
  EXPECT_NEAR(std, 0.5, 0.05);
}

TEST(Hstu, TimeBucketsUseTimestampsOnBothPathsAndRequireThem) {
  torch::manual_seed(4);
  auto spec = small_hstu_spec();
  spec.time_buckets = 64;
  Hstu model(spec);
  model->train();  // dropout 0
  ASSERT_TRUE(model->uses_time());
  auto offsets = offsets_of({4, 8, 1, 6});
  const auto T = offsets[-1].item<std::int64_t>();
  auto items = torch::randint(1, 31, {T}, torch::kLong);
  auto timestamps = torch::exp(torch::rand({T}) * 15.0).to(torch::kLong).cumsum(0);
  auto packed = model->encode_packed(items, offsets, timestamps);
  auto padded = unpad(model->encode(pad_packed(items, offsets, 8), pad_packed(timestamps, offsets, 8)), offsets);
  EXPECT_TRUE(torch::allclose(packed, padded, 1e-4, 1e-5));

  auto target = torch::randn_like(packed);
  model->zero_grad();
  (packed * target).sum().backward();
  for (const auto& layer : *model->layers) {
    const auto& time_bias = layer->as<HstuLayer>()->time_bias;
    ASSERT_TRUE(time_bias.grad().defined());
    EXPECT_GT(time_bias.grad().abs().sum().item<double>(), 0.0);
  }

  // Moving the first item of sequence 1 back by a year changes that sequence's later states
  // (their gaps to it change), and nothing in sequence 0.
  auto earlier = timestamps.clone();
  earlier[4] -= 31536000;
  auto moved = model->encode_packed(items, offsets, earlier);
  EXPECT_TRUE(torch::allclose(moved.slice(0, 0, 4), packed.slice(0, 0, 4)));
  EXPECT_FALSE(torch::allclose(moved.slice(0, 5, 12), packed.slice(0, 5, 12), 1e-4, 1e-5));

  EXPECT_THROW(model->encode_packed(items, offsets), c10::Error);
  EXPECT_THROW(model->encode(pad_packed(items, offsets, 8)), c10::Error);
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
