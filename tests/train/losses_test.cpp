// The fused full-softmax loss must equal plain cross-entropy over materialised logits, in value
// and in both gradients, for any chunking.
#include <gtest/gtest.h>

#include <cmath>

#include "tessera/train/losses.h"

namespace tessera::train {
namespace {

struct Reference {
  double loss;
  torch::Tensor grad_hidden, grad_table;
};

Reference reference_loss(const torch::Tensor& h0, const torch::Tensor& w0, const torch::Tensor& targets) {
  auto h = h0.detach().clone().requires_grad_(true);
  auto w = w0.detach().clone().requires_grad_(true);
  auto logits = torch::mm(h, w.t());
  auto mask = torch::zeros_like(logits);
  mask.select(1, 0).fill_(-1e30);  // padding column is never a candidate
  auto loss = torch::nn::functional::cross_entropy(logits + mask, targets);
  loss.backward();
  return {loss.item<double>(), h.grad(), w.grad()};
}

TEST(FullSoftmaxCrossEntropy, MatchesMaterialisedCrossEntropyForEveryChunking) {
  torch::manual_seed(3);
  const std::int64_t N = 37, V = 53, d = 8;
  auto hidden = torch::randn({N, d});
  auto table = torch::randn({V + 1, d});
  auto targets = torch::randint(1, V + 1, {N}, torch::kLong);
  auto ref = reference_loss(hidden, table, targets);
  for (std::int64_t chunk : {0, 1, 5, 16, 37, 100}) {
    auto h = hidden.clone().requires_grad_(true);
    auto w = table.clone().requires_grad_(true);
    auto loss = full_softmax_cross_entropy(h, w, targets, chunk);
    (loss * 2.0).backward();  // backward must scale by the incoming gradient
    EXPECT_NEAR(loss.item<double>(), ref.loss, 1e-5) << "chunk " << chunk;
    EXPECT_TRUE(torch::allclose(h.grad(), ref.grad_hidden * 2.0, 1e-4, 1e-6)) << "chunk " << chunk;
    EXPECT_TRUE(torch::allclose(w.grad(), ref.grad_table * 2.0, 1e-4, 1e-6)) << "chunk " << chunk;
    EXPECT_EQ(w.grad()[0].abs().sum().item<float>(), 0.0f) << "padding row must get no gradient";
  }
}

TEST(SampledSoftmaxCrossEntropy, EqualsFullSoftmaxWhenNegativesAreAllOtherItemsUniformly) {
  torch::manual_seed(4);
  const std::int64_t N = 11, V = 20, d = 6;
  auto hidden = torch::randn({N, d});
  auto table = torch::randn({V + 1, d});
  auto targets = torch::randint(1, V + 1, {N}, torch::kLong);
  auto negatives = torch::arange(1, V + 1, torch::kLong);  // every item once; the target is an accidental hit
  auto log_q = torch::full({V}, std::log(1.0 / V));
  auto sampled = sampled_softmax_cross_entropy(hidden, table, targets, negatives, log_q, torch::full({N}, std::log(1.0 / V)));
  auto full = full_softmax_cross_entropy(hidden, table, targets);
  EXPECT_NEAR(sampled.item<double>(), full.item<double>(), 1e-5);
}

TEST(SampledSoftmaxCrossEntropy, LogQCorrectionLowersFrequentNegatives) {
  auto hidden = torch::ones({1, 2});
  auto table = torch::ones({4, 2});
  auto targets = torch::tensor({1}, torch::kLong);
  auto negatives = torch::tensor({2, 3}, torch::kLong);
  auto uniform = sampled_softmax_cross_entropy(hidden, table, targets, negatives, torch::zeros({2}), torch::zeros({1}));
  // Negatives sampled often (high q) get their logits lowered, so the loss falls.
  auto corrected = sampled_softmax_cross_entropy(hidden, table, targets, negatives, torch::full({2}, std::log(0.9)),
                                                 torch::full({1}, std::log(0.1)));
  EXPECT_NEAR(uniform.item<double>(), std::log(3.0), 1e-6);
  EXPECT_LT(corrected.item<double>(), uniform.item<double>());
}

TEST(GroupedSampledSoftmaxCrossEntropy, EqualsPerSequenceSharedLossesWeightedByRows) {
  torch::manual_seed(9);
  const std::int64_t V = 30, d = 6;
  auto table = torch::randn({V + 1, d}, torch::requires_grad());
  auto offsets = torch::tensor({0, 3, 4, 8}, torch::kLong);
  auto hidden = torch::randn({8, d}, torch::requires_grad());
  auto targets = torch::randint(1, V + 1, {8}, torch::kLong);
  auto seq_negatives = torch::randint(1, V + 1, {3, 5}, torch::kLong);
  seq_negatives[0][1] = targets[0];  // an accidental hit
  auto shared = torch::randint(1, V + 1, {4}, torch::kLong);
  auto log_expected = torch::randn({V + 1});

  auto grouped = grouped_sampled_softmax_cross_entropy(hidden, table, targets, offsets, seq_negatives, shared, log_expected);
  // Reference: each sequence alone with the shared-negatives loss over its own negatives plus the
  // shared ones, weighted by its rows.
  torch::Tensor reference = torch::zeros({});
  for (std::int64_t b = 0; b < 3; ++b) {
    const auto begin = offsets[b].item<std::int64_t>(), end = offsets[b + 1].item<std::int64_t>();
    auto negatives = torch::cat({seq_negatives[b], shared});
    auto rows = targets.slice(0, begin, end);
    auto loss = sampled_softmax_cross_entropy(hidden.slice(0, begin, end), table, rows, negatives,
                                              log_expected.index_select(0, negatives), log_expected.index_select(0, rows));
    reference = reference + loss * static_cast<double>(end - begin) / 8.0;
  }
  EXPECT_TRUE(torch::allclose(grouped, reference, 1e-5, 1e-6)) << grouped.item<float>() << " vs " << reference.item<float>();
  auto g = torch::autograd::grad({grouped}, {hidden, table});
  auto r = torch::autograd::grad({reference}, {hidden, table});
  EXPECT_TRUE(torch::allclose(g[0], r[0], 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(g[1], r[1], 1e-5, 1e-6));
  // Without per-sequence negatives it is the shared loss.
  auto only_shared = grouped_sampled_softmax_cross_entropy(hidden, table, targets, offsets, torch::empty({3, 0}, torch::kLong), shared, log_expected);
  auto plain = sampled_softmax_cross_entropy(hidden, table, targets, shared, log_expected.index_select(0, shared), log_expected.index_select(0, targets));
  EXPECT_TRUE(torch::allclose(only_shared, plain, 1e-6, 1e-6));
}

TEST(PositionSampledSoftmaxCrossEntropy, MatchesGatheredReferenceWithRepeatsAndAccidentalHits) {
  torch::manual_seed(9);
  const std::int64_t N = 23, V = 15, d = 5, M = 7;
  auto hidden = torch::randn({N, d});
  auto table = torch::randn({V + 1, d});
  auto targets = torch::randint(1, V + 1, {N}, torch::kLong);
  auto negatives = torch::randint(1, V + 1, {N, M}, torch::kLong);  // repeats happen (V is small)
  negatives.select(1, 0).copy_(targets);                           // an accidental hit in every row
  auto log_expected = torch::rand({V + 1}) - 2.0;                  // arbitrary logQ per item

  // Reference: gather each row's candidate logits and take plain cross-entropy with autograd.
  auto h = hidden.clone().requires_grad_(true);
  auto w = table.clone().requires_grad_(true);
  auto positive = (h * w.index_select(0, targets)).sum(1, true) - log_expected.index_select(0, targets).unsqueeze(1);
  auto negative = torch::bmm(w.index_select(0, negatives.reshape({-1})).view({N, M, d}), h.unsqueeze(2)).squeeze(2) -
                  log_expected.index_select(0, negatives.reshape({-1})).view({N, M});
  negative = negative.masked_fill(negatives.eq(targets.unsqueeze(1)), -1e9);
  auto ref = torch::nn::functional::cross_entropy(torch::cat({positive, negative}, 1), torch::zeros({N}, torch::kLong));
  ref.backward();

  for (std::int64_t chunk : {0, 4, 23}) {
    auto h2 = hidden.clone().requires_grad_(true);
    auto w2 = table.clone().requires_grad_(true);
    auto loss = position_sampled_softmax_cross_entropy(h2, w2, targets, negatives, log_expected, chunk);
    loss.backward();
    EXPECT_NEAR(loss.item<double>(), ref.item<double>(), 1e-5) << "chunk " << chunk;
    EXPECT_TRUE(torch::allclose(h2.grad(), h.grad(), 1e-4, 1e-6)) << "chunk " << chunk;
    EXPECT_TRUE(torch::allclose(w2.grad(), w.grad(), 1e-4, 1e-6)) << "chunk " << chunk;
  }
}

// TIGER's code loss: the mean over levels of cross-entropy against a target of (1 - eps) on the
// code plus eps / K on every code, written out from log-softmax by hand.
TEST(CodeCrossEntropy, IsTheLevelMeanOfSmoothedCrossEntropy) {
  torch::manual_seed(5);
  const std::int64_t N = 9, K = 7, L = 3;
  std::vector<torch::Tensor> logits;
  for (std::int64_t l = 0; l < L; ++l) logits.push_back(torch::randn({N, K}));
  auto targets = torch::randint(0, K, {N, L}, torch::kLong);
  for (double eps : {0.0, 0.1, 0.5}) {
    double expected = 0;
    for (std::int64_t l = 0; l < L; ++l) {
      auto log_p = torch::log_softmax(logits[static_cast<std::size_t>(l)], 1);
      auto smoothed = torch::full({N, K}, eps / static_cast<double>(K));
      smoothed.scatter_add_(1, targets.select(1, l).unsqueeze(1), torch::full({N, 1}, 1.0 - eps));
      expected += -(smoothed * log_p).sum(1).mean().item<double>() / static_cast<double>(L);
    }
    EXPECT_NEAR(code_cross_entropy(logits, targets, eps).item<double>(), expected, 1e-5) << "eps " << eps;
  }
  // Smoothing raises the loss of a confident, correct prediction.
  std::vector<torch::Tensor> confident = {torch::full({1, K}, -10.0).index_fill_(1, torch::tensor({2}), 10.0)};
  auto code = torch::full({1, 1}, 2, torch::kLong);
  EXPECT_LT(code_cross_entropy(confident, code, 0.0).item<double>(), 1e-6);
  EXPECT_GT(code_cross_entropy(confident, code, 0.1).item<double>(), 1.0);
}

// The full-ID log-likelihood is the sum of each level's log-softmax at its code, so over every
// combination of codes it is a distribution (its exponentials sum to 1).
TEST(CodeLogLikelihood, SumsLevelLogSoftmaxAndIsADistributionOverAllIds) {
  torch::manual_seed(8);
  const std::int64_t N = 4;
  const std::vector<std::int64_t> sizes = {5, 3};
  std::vector<torch::Tensor> logits;
  for (auto k : sizes) logits.push_back(torch::randn({N, k}) * 2.0);
  std::vector<std::int64_t> all;
  for (std::int64_t a = 0; a < sizes[0]; ++a) {
    for (std::int64_t b = 0; b < sizes[1]; ++b) {
      all.push_back(a);
      all.push_back(b);
    }
  }
  const auto combos = static_cast<std::int64_t>(all.size()) / 2;
  auto codes = torch::tensor(all, torch::kLong).view({combos, 2});
  for (std::int64_t n = 0; n < N; ++n) {
    std::vector<torch::Tensor> row;
    for (const auto& l : logits) row.push_back(l.slice(0, n, n + 1).expand({combos, l.size(1)}));
    auto ll = code_log_likelihood(row, codes);
    EXPECT_NEAR(ll.exp().sum().item<double>(), 1.0, 1e-5);
    const auto a = codes[7][0].item<std::int64_t>(), b = codes[7][1].item<std::int64_t>();
    const double expected = torch::log_softmax(logits[0][n], 0)[a].item<double>() + torch::log_softmax(logits[1][n], 0)[b].item<double>();
    EXPECT_NEAR(ll[7].item<double>(), expected, 1e-5);
  }
}

// Pairwise logistic loss: the mean of softplus(negative - positive) over valid pairs only; it
// raises the positive and lowers the negatives; no valid pair gives 0.
TEST(RankedAboveLoss, IsTheMeanSoftplusOverValidPairs) {
  auto positive = torch::tensor({1.0f, -2.0f}).requires_grad_();
  auto negative = torch::tensor({{0.0f, 3.0f}, {-2.0f, 5.0f}}).requires_grad_();
  auto valid = torch::tensor({1, 1, 1, 0}).view({2, 2}).to(torch::kBool);
  auto loss = ranked_above_loss(positive, negative, valid);
  auto softplus = [](double x) { return std::log1p(std::exp(x)); };
  EXPECT_NEAR(loss.item<double>(), (softplus(-1.0) + softplus(2.0) + softplus(0.0)) / 3.0, 1e-6);
  loss.backward();
  EXPECT_LT(positive.grad()[0].item<double>(), 0.0);  // descent raises the positive
  EXPECT_GT(negative.grad()[0][1].item<double>(), 0.0);  // and lowers the negative
  EXPECT_EQ(negative.grad()[1][1].item<double>(), 0.0);  // an invalid pair has no say
  EXPECT_EQ(ranked_above_loss(positive, negative, torch::zeros({2, 2}, torch::kBool)).item<double>(), 0.0);
}

TEST(UnlikelihoodLoss, IsTheMeanOfMinusLogOneMinusPOverValidEntries) {
  auto log_likelihood = torch::log(torch::tensor({{0.5f, 0.01f}, {0.9f, 0.2f}})).requires_grad_();
  auto valid = torch::tensor({1, 1, 1, 0}).view({2, 2}).to(torch::kBool);
  auto loss = unlikelihood_loss(log_likelihood, valid);
  EXPECT_NEAR(loss.item<double>(), -(std::log(0.5) + std::log(0.99) + std::log(0.1)) / 3.0, 1e-5);
  loss.backward();
  const auto grad = log_likelihood.grad();
  EXPECT_GT(grad[0][0].item<double>(), 0.0);                             // descent lowers a negative's likelihood
  EXPECT_GT(grad[1][0].item<double>(), 10 * grad[0][1].item<double>());  // far harder for a likely item than an unlikely one
  EXPECT_EQ(grad[1][1].item<double>(), 0.0);                             // an invalid entry has no say
  EXPECT_TRUE(std::isfinite(unlikelihood_loss(torch::zeros({1, 1}), torch::ones({1, 1}, torch::kBool)).item<double>()));
  EXPECT_EQ(unlikelihood_loss(log_likelihood, torch::zeros({2, 2}, torch::kBool)).item<double>(), 0.0);
}

}  // namespace
}  // namespace tessera::train
