#include <array>
#include <set>

#include <gtest/gtest.h>

#include "infer/tiger_fixture.h"
#include "tessera/core/error.h"
#include "tessera/models/tiger.h"

namespace tessera::models {
namespace {

TEST(Tiger, HistoryTokensAreLeftPaddedCodesOfTheMostRecentItems) {
  auto ids = testing::random_semantic_ids(12, 1);
  auto model = testing::small_tiger(*ids);  // max_items 6, level sizes {8, 6, 3}
  std::vector<std::int32_t> longer = {1, 2, 3, 4, 5, 6, 7, 8};
  std::vector<std::int32_t> shorter = {9};
  std::vector<std::span<const std::int32_t>> histories = {longer, shorter};
  auto tokens = model->history_tokens(ids->codes, histories);
  ASSERT_EQ(tokens.size(0), 2);
  ASSERT_EQ(tokens.size(1), 6 * 3);
  // Row 0 keeps items 3..8; row 1 is padding then item 9.
  for (int i = 0; i < 6; ++i) {
    for (int l = 0; l < 3; ++l) {
      EXPECT_EQ(tokens[0][i * 3 + l].item<std::int64_t>(), model->token(l, ids->code(3 + i)[static_cast<std::size_t>(l)]));
    }
  }
  for (int t = 0; t < 15; ++t) EXPECT_EQ(tokens[1][t].item<std::int64_t>(), 0);
  EXPECT_EQ(tokens[1][15].item<std::int64_t>(), 1 + ids->code(9)[0]);
  EXPECT_EQ(tokens[1][16].item<std::int64_t>(), 1 + 8 + ids->code(9)[1]);
  EXPECT_EQ(tokens[1][17].item<std::int64_t>(), 1 + 8 + 6 + ids->code(9)[2]);
  EXPECT_EQ(model->bos_token(), 1 + 8 + 6 + 3);
}

// Teacher-forced training works end to end: the model learns to generate the semantic ID of the
// most recent history item, which a model that ignored the encoder could not.
void expect_learns_to_copy_the_last_item(bool tie_output) {
  auto ids = testing::random_semantic_ids(20, 2);
  auto model = testing::small_tiger(*ids, 0, tie_output);
  model->train();
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(3e-3));
  std::mt19937_64 rng(3);
  auto batch = [&](std::int64_t B) {
    std::vector<std::vector<std::int32_t>> h(static_cast<std::size_t>(B));
    auto targets = torch::empty({B, 3}, torch::kLong);
    for (std::int64_t b = 0; b < B; ++b) {
      auto& row = h[static_cast<std::size_t>(b)];
      row.resize(1 + rng() % 4);
      for (auto& item : row) item = static_cast<std::int32_t>(1 + rng() % 20);
      for (int l = 0; l < 3; ++l) targets[b][l] = ids->code(row.back())[static_cast<std::size_t>(l)];
    }
    return std::make_pair(h, targets);
  };
  auto loss_of = [&](const std::vector<std::vector<std::int32_t>>& h, const torch::Tensor& targets) {
    std::vector<std::span<const std::int32_t>> views(h.begin(), h.end());
    auto logits = model->decode_teacher_forced(model->encode(model->history_tokens(ids->codes, views), {}), targets);
    torch::Tensor loss = torch::zeros({});
    for (int l = 0; l < 3; ++l) loss = loss + torch::cross_entropy_loss(logits[static_cast<std::size_t>(l)], targets.select(1, l));
    return loss / 3.0;
  };
  auto [h0, t0] = batch(64);
  const double before = loss_of(h0, t0).item<double>();
  for (int step = 0; step < 150; ++step) {
    auto [h, t] = batch(32);
    optimizer.zero_grad();
    loss_of(h, t).backward();
    optimizer.step();
  }
  model->eval();
  torch::NoGradGuard no_grad;
  const double after = loss_of(h0, t0).item<double>();
  EXPECT_LT(after, 0.25 * before) << "before " << before << " after " << after;
}

TEST(Tiger, LearnsToCopyTheLastItem) { expect_learns_to_copy_the_last_item(false); }

TEST(Tiger, LearnsToCopyTheLastItemWithTiedOutput) { expect_learns_to_copy_the_last_item(true); }

// Teacher-forced decoding of G candidate IDs per request (the training task's target plus its
// history negatives) gives each candidate the logits it gets decoded alone against its request's
// memory; requests with different history lengths (padding) check that no request's keys leak
// into another's.
TEST(Tiger, GroupedTeacherForcedDecodingEqualsDecodingEachCandidateAlone) {
  auto ids = testing::random_semantic_ids(12, 1);
  auto model = testing::small_tiger(*ids);  // level sizes {8, 6, 3}
  model->eval();
  std::vector<std::int32_t> h0 = {1, 2, 3, 4}, h1 = {5}, h2 = {6, 7};
  std::vector<std::span<const std::int32_t>> histories = {h0, h1, h2};
  auto memory = model->encode(model->history_tokens(ids->codes, histories), {});
  const std::int64_t B = 3, G = 3;
  auto candidates = torch::empty({B * G, 3}, torch::kLong);
  for (std::int64_t r = 0; r < B * G; ++r) {
    for (int l = 0; l < 3; ++l) candidates[r][l] = ids->code(static_cast<std::int32_t>(1 + (r * 5) % 12))[static_cast<std::size_t>(l)];
  }
  auto grouped = model->decode_teacher_forced(memory, candidates);
  auto rows = torch::arange(B, torch::kLong).repeat_interleave(G);
  const models::TigerMemory per_row{memory.memory.index_select(0, rows), memory.bias.index_select(0, rows),
                                    memory.history.index_select(0, rows)};
  auto alone = model->decode_teacher_forced(per_row, candidates);
  ASSERT_EQ(grouped.size(), 3u);
  for (std::size_t l = 0; l < 3; ++l) {
    ASSERT_EQ(grouped[l].sizes(), alone[l].sizes());
    EXPECT_TRUE(torch::allclose(grouped[l], alone[l], 1e-5, 1e-5)) << "level " << l;
  }
  // Two candidates of one request differ, so the grouping did not copy one row's logits.
  EXPECT_FALSE(torch::allclose(grouped[2][0], grouped[2][1]));
  EXPECT_THROW(model->decode_teacher_forced(memory, candidates.narrow(0, 0, 4)), c10::Error);
}

// repeat_bias: continues_history marks, for each decoder row and level, exactly the codes that
// extend the row's prefix into one of its own request's history items (checked against a
// brute-force walk over the history), teacher-forced logits move by repeat_weight[level] on those
// codes and nowhere else, and the weights get a gradient (they are learned).
TEST(Tiger, RepeatBiasMarksTheCodesThatContinueAHistoryItem) {
  auto ids = testing::random_semantic_ids(40, 3);
  auto model = testing::small_tiger(*ids, 0, false, /*repeat_bias=*/true);  // max_items 6, level sizes {8, 6, 3}
  std::vector<std::vector<std::int32_t>> history_items = {{1, 2, 3, 4, 5, 6, 7, 8}, {9}, {10, 11, 10}};
  std::vector<std::span<const std::int32_t>> histories(history_items.begin(), history_items.end());
  auto memory = model->encode(model->history_tokens(ids->codes, histories), {});
  // Per request: candidates that are history items (full hits), then other items (partial or no hits).
  const std::int64_t B = 3, G = 4, L = 3;
  // Item 1 is in request 0's history but older than the 6 items the encoder reads.
  const std::vector<std::int32_t> candidate_items = {3, 8, 1, 33, 9, 12, 25, 40, 11, 10, 30, 17};
  auto candidates = torch::empty({B * G, L}, torch::kLong);
  for (std::int64_t r = 0; r < B * G; ++r) {
    for (std::int64_t l = 0; l < L; ++l) candidates[r][l] = ids->code(candidate_items[static_cast<std::size_t>(r)])[static_cast<std::size_t>(l)];
  }
  auto prefix = torch::empty({B * G, L}, torch::kLong);
  prefix.select(1, 0).fill_(model->bos_token());
  for (std::int64_t l = 1; l < L; ++l) prefix.select(1, l).copy_(candidates.select(1, l - 1) + model->token(l - 1, 0));
  std::int64_t marked = 0;
  for (std::int64_t l = 0; l < L; ++l) {
    const auto feature = model->continues_history(memory.history, prefix, l);
    const auto K = ids->level_sizes[static_cast<std::size_t>(l)];
    ASSERT_EQ(feature.sizes(), (std::vector<std::int64_t>{B * G, K}));
    for (std::int64_t r = 0; r < B * G; ++r) {
      const auto& h = history_items[static_cast<std::size_t>(r / G)];
      const std::size_t first = h.size() > 6 ? h.size() - 6 : 0;  // the encoder reads the last 6 items
      for (std::int64_t c = 0; c < K; ++c) {
        bool expected = false;
        for (std::size_t i = first; i < h.size(); ++i) {
          const auto code = ids->code(h[i]);
          bool same_prefix = true;
          for (std::int64_t j = 0; j < l; ++j) same_prefix = same_prefix && code[static_cast<std::size_t>(j)] == candidates[r][j].item<std::int64_t>();
          expected = expected || (same_prefix && code[static_cast<std::size_t>(l)] == c);
        }
        EXPECT_EQ(feature[r][c].item<float>(), expected ? 1.0f : 0.0f) << "row " << r << ", level " << l << ", code " << c;
        marked += expected ? 1 : 0;
      }
    }
  }
  EXPECT_GT(marked, B * G);  // every level has hits, so the check is not vacuous
  auto last = model->continues_history(memory.history, prefix, L - 1);
  EXPECT_EQ(last[0][ids->code(3)[2]].item<float>(), 1.0f);  // a history item
  EXPECT_EQ(last[2][ids->code(1)[2]].item<float>(), 0.0f);  // beyond the encoder's 6 items

  auto biased = model->decode_teacher_forced(memory, candidates);
  torch::Tensor saved = model->repeat_weight.detach().clone();
  {
    torch::NoGradGuard no_grad;
    model->repeat_weight.zero_();
  }
  auto plain = model->decode_teacher_forced(memory, candidates);
  for (std::int64_t l = 0; l < L; ++l) {
    auto expected = plain[static_cast<std::size_t>(l)] + saved[l] * model->continues_history(memory.history, prefix, l);
    EXPECT_TRUE(torch::allclose(biased[static_cast<std::size_t>(l)], expected, 1e-5, 1e-5)) << "level " << l;
  }
  model->train();
  auto logits = model->decode_teacher_forced(memory, candidates);
  torch::stack({logits[0].sum(), logits[1].sum(), logits[2].sum()}).sum().backward();
  ASSERT_TRUE(model->repeat_weight.grad().defined());
  EXPECT_GT(model->repeat_weight.grad().abs().min().item<float>(), 0.0f);
  // A memory without its history tokens cannot be scored with the bias.
  const models::TigerMemory no_history{memory.memory, memory.bias};
  EXPECT_THROW(model->decode_teacher_forced(no_history, candidates), c10::Error);
}

// With tie_output there is no output layer: level l's logits are the hidden state times the input
// embedding rows of level l's codes, so a gradient on the logits reaches those rows.
TEST(Tiger, TiedOutputScoresCodesWithTheirEmbeddingRows) {
  auto ids = testing::random_semantic_ids(12, 1);
  auto model = testing::small_tiger(*ids, 0, true);  // level sizes {8, 6, 3}
  for (const auto& p : model->named_parameters()) EXPECT_FALSE(p.key().starts_with("output")) << p.key();
  auto hidden = torch::randn({5, 32});
  for (std::int64_t l = 0; l < 3; ++l) {
    const auto size = model->spec.level_sizes[static_cast<std::size_t>(l)];
    auto rows = model->token_embedding->weight.narrow(0, model->token(l, 0), size);
    EXPECT_TRUE(torch::allclose(model->level_logits(hidden, l), hidden.matmul(rows.t()))) << "level " << l;
  }
  model->token_embedding->weight.mutable_grad() = torch::Tensor();
  model->level_logits(hidden, 1).sum().backward();
  auto grad = model->token_embedding->weight.grad();
  ASSERT_TRUE(grad.defined());
  EXPECT_GT(grad.narrow(0, model->token(1, 0), 6).abs().sum().item<double>(), 0.0);
  EXPECT_EQ(grad.narrow(0, model->token(0, 0), 8).abs().sum().item<double>(), 0.0);
}

// item_buckets: each history item gets one embedding row of its own, the same wherever it
// occurs, and padding gets none.
TEST(Tiger, ItemBucketsGiveEachHistoryItemItsOwnEmbedding) {
  auto ids = testing::random_semantic_ids(12, 1);
  auto spec = testing::small_tiger(*ids)->spec;
  spec.item_buckets = 1000003;
  auto model = std::make_shared<TigerImpl>(spec);
  std::vector<std::int32_t> all = {1, 2, 3, 4, 5, 6};
  std::vector<std::int32_t> rest = {7, 8, 9, 10, 11, 12};
  std::vector<std::int32_t> again = {12, 3};  // left-padded: 4 padding items, then 12 and 3
  std::vector<std::span<const std::int32_t>> histories = {all, rest, again};
  const auto tokens = model->history_tokens(ids->codes, histories);
  const auto buckets = model->item_buckets_of(tokens);
  ASSERT_EQ(buckets.size(0), 3);
  ASSERT_EQ(buckets.size(1), 6);
  std::set<std::int64_t> distinct;
  for (int r = 0; r < 2; ++r) {
    for (int i = 0; i < 6; ++i) {
      const auto b = buckets[r][i].item<std::int64_t>();
      EXPECT_GE(b, 0);
      EXPECT_LT(b, spec.item_buckets);
      distinct.insert(b);
    }
  }
  EXPECT_EQ(distinct.size(), 12u);  // 12 items, a million buckets
  EXPECT_EQ(buckets[2][4].item<std::int64_t>(), buckets[1][5].item<std::int64_t>());  // item 12
  EXPECT_EQ(buckets[2][5].item<std::int64_t>(), buckets[0][2].item<std::int64_t>());  // item 3

  // Only the rows of real items receive gradient; the padding items' row (key 0) does not.
  auto memory = model->encode(tokens.narrow(0, 2, 1), torch::Tensor());
  memory.memory.sum().backward();
  const auto grad = model->item_embedding->weight.grad();
  ASSERT_TRUE(grad.defined());
  EXPECT_GT(grad[buckets[2][4].item<std::int64_t>()].abs().sum().item<double>(), 0.0);
  EXPECT_GT(grad[buckets[2][5].item<std::int64_t>()].abs().sum().item<double>(), 0.0);
  EXPECT_EQ(grad[buckets[2][0].item<std::int64_t>()].abs().sum().item<double>(), 0.0);
  EXPECT_EQ(grad.abs().sum(1).gt(0).sum().item<std::int64_t>(), 2);
}

// item_dropout removes an occurrence's whole item vector in training (the rest are scaled by
// 1 / (1 - p)), never in evaluation, and padding items stay zero either way.
TEST(Tiger, ItemDropoutDropsWholeItemVectorsInTrainingOnly) {
  auto ids = testing::random_semantic_ids(12, 1);
  auto spec = testing::small_tiger(*ids)->spec;
  spec.item_buckets = 1009;
  spec.item_dropout = 0.5;
  auto model = std::make_shared<TigerImpl>(spec);
  std::vector<std::vector<std::int32_t>> rows;
  for (int b = 0; b < 200; ++b) rows.push_back({static_cast<std::int32_t>(1 + b % 12), static_cast<std::int32_t>(1 + (b * 5) % 12)});
  rows.push_back({4});  // one padding item in front
  std::vector<std::span<const std::int32_t>> histories(rows.begin(), rows.end());
  const auto tokens = model->history_tokens(ids->codes, histories);
  const auto rows_of_items = model->item_embedding(model->item_buckets_of(tokens)).detach();  // [B, 2, d]

  model->eval();
  const auto evaluated = model->history_item_vectors(tokens).detach();
  EXPECT_TRUE(torch::allclose(evaluated.narrow(0, 0, 200), rows_of_items.narrow(0, 0, 200)));
  EXPECT_EQ(evaluated[200][0].abs().sum().item<double>(), 0.0);  // padding

  model->train();
  torch::manual_seed(7);
  const auto trained = model->history_item_vectors(tokens).detach();
  std::int64_t dropped = 0, kept = 0;
  for (std::int64_t b = 0; b < 200; ++b) {
    for (std::int64_t i = 0; i < 2; ++i) {
      const auto v = trained[b][i];
      if (v.abs().sum().item<double>() == 0.0) {
        ++dropped;
      } else {
        EXPECT_TRUE(torch::allclose(v, rows_of_items[b][i] * 2.0)) << b << " " << i;
        ++kept;
      }
    }
  }
  EXPECT_GT(dropped, 150);  // 400 draws at p = 0.5
  EXPECT_GT(kept, 150);
  EXPECT_EQ(trained[200][0].abs().sum().item<double>(), 0.0);
  spec.item_dropout = 1.0;
  EXPECT_THROW(TigerImpl{spec}, tessera::Error);
}

// The FLOP count behind a TIGER run's achieved GFLOP/s, against the model's matrix products
// listed one by one for a small spec (2 per multiply-add).
TEST(Tiger, FlopsPerExampleCountsEveryMatrixProduct) {
  TigerSpec spec;
  spec.level_sizes = {5, 4, 3};
  spec.d_model = 8;
  spec.num_heads = 2;
  spec.head_dim = 3;
  spec.ffn_dim = 16;
  spec.encoder_layers = 2;
  spec.decoder_layers = 3;
  const std::int64_t d = 8, inner = 6, f = 16, codes = 12, L = 3;
  auto gemms = [](std::initializer_list<std::array<std::int64_t, 3>> shapes) {
    double macs = 0;
    for (const auto& [m, k, n] : shapes) macs += static_cast<double>(m * k * n);
    return macs;
  };
  for (std::int64_t user : {0, 1}) {
    spec.user_buckets = user ? 10 : 0;
    TigerImpl model(spec);
    const std::int64_t items = 4, S = items * L + user, P = L;
    const double encoder = gemms({{S, d, inner}, {S, d, inner}, {S, d, inner},  // Q, K, V
                                  {S, inner, S}, {S, S, inner},                 // scores, context
                                  {S, inner, d},                                // output projection
                                  {S, d, f}, {S, f, d}});                       // feed-forward
    const double memory_kv = gemms({{S, d, inner}, {S, d, inner}});
    const double per_sequence = gemms({{P, d, inner}, {P, d, inner}, {P, d, inner}, {P, inner, P}, {P, P, inner}, {P, inner, d},
                                       {P, d, inner}, {P, inner, S}, {P, S, inner}, {P, inner, d},
                                       {P, d, f}, {P, f, d}});
    const double output = static_cast<double>(d * codes);  // each position scores its own level's codes only
    for (std::int64_t G : {1, 3}) {
      const double expected = 2.0 * (2 * encoder + 3 * (memory_kv + static_cast<double>(G) * per_sequence) + static_cast<double>(G) * output);
      EXPECT_DOUBLE_EQ(model.flops_per_example(items, G), expected) << "user token " << user << ", " << G << " decoder sequences";
    }
  }
}

TEST(Tiger, UserBucketsAreStableAndInRange) {
  for (std::int64_t u = 0; u < 1000; ++u) {
    const auto b = hashed_user_bucket(u, 37);
    EXPECT_GE(b, 0);
    EXPECT_LT(b, 37);
    EXPECT_EQ(b, hashed_user_bucket(u, 37));
  }
  EXPECT_NE(hashed_user_bucket(1, 1000000), hashed_user_bucket(2, 1000000));
}

}  // namespace
}  // namespace tessera::models
