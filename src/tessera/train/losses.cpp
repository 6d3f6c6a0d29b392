#include "tessera/train/losses.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "tessera/models/packing.h"
#include "tessera/train/softmax_rows.h"

namespace tessera::train {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Forward computes the loss and, chunk by chunk, the gradients of the mean loss with respect to
// hidden and item_table; backward multiplies them by the incoming scalar gradient. With
// `negatives` ([N, M] int64) each row's softmax runs over its target and its own negatives
// (corrected by log_expected [V+1] float) instead of over every item; the full softmax passes
// empty 1-d tensors for both.
struct FusedSoftmaxCrossEntropy : public torch::autograd::Function<FusedSoftmaxCrossEntropy> {
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor hidden, torch::Tensor table, torch::Tensor targets,
                               torch::Tensor negatives, torch::Tensor log_expected, std::int64_t chunk_rows) {
    const auto N = hidden.size(0);
    const auto V1 = table.size(0);
    const auto d = hidden.size(1);
    hidden = hidden.contiguous();
    targets = targets.contiguous();
    const bool sampled = negatives.dim() == 2;  // the full softmax passes empty 1-d placeholders
    const std::int64_t M = sampled ? negatives.size(1) : 0;
    if (sampled) {
      negatives = negatives.contiguous();
      log_expected = log_expected.to(torch::kFloat).contiguous();
    }
    // Transposed layouts make both gradient products run ~2x faster in BLAS for small d (measured).
    auto table_t = table.t().contiguous();            // [d, V+1]
    auto grad_hidden_t = torch::empty({d, N}, hidden.options());
    auto grad_table_t = torch::zeros({d, V1}, table.options());
    std::vector<double> row_loss(static_cast<std::size_t>(N));
    if (chunk_rows <= 0) chunk_rows = std::max<std::int64_t>(64, (std::int64_t{1} << 20) / V1);  // ~4 MiB of logits: stays in cache
    auto logits = torch::empty({std::min(N, chunk_rows), V1}, hidden.options());
    for (std::int64_t start = 0; start < N; start += chunk_rows) {
      const auto end = std::min(N, start + chunk_rows);
      const auto rows = end - start;
      auto h = hidden.slice(0, start, end);
      auto block = logits.slice(0, 0, rows);
      torch::mm_out(block, h, table_t);  // [rows, V+1]
      float* p = block.data_ptr<float>();
      const std::int64_t* t = targets.data_ptr<std::int64_t>() + start;
      double* loss = row_loss.data() + start;
      at::parallel_for(0, rows, 8, [&](std::int64_t b, std::int64_t e) {
        if (sampled) {
          sampled_softmax_rows(p + b * V1, e - b, V1, t + b, negatives.data_ptr<std::int64_t>() + (start + b) * M, M,
                               log_expected.data_ptr<float>(), loss + b);
        } else {
          softmax_minus_one_hot_rows(p + b * V1, e - b, V1, t + b, loss + b);
        }
      });
      auto out = grad_hidden_t.slice(1, start, end);
      torch::mm_out(out, table_t, block.t());  // [d, rows] = W^T (softmax - onehot)^T
      grad_table_t.addmm_(h.t(), block);        // [d, V+1] += h^T (softmax - onehot)
    }
    double loss_sum = 0;
    for (double l : row_loss) loss_sum += l;  // fixed order: deterministic
    const double inv_n = 1.0 / static_cast<double>(std::max<std::int64_t>(N, 1));
    ctx->save_for_backward({grad_hidden_t.t().mul(inv_n), grad_table_t.t().mul(inv_n)});
    return torch::full({}, loss_sum * inv_n, hidden.options());
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_output) {
    auto saved = ctx->get_saved_variables();
    auto g = grad_output[0];
    return {saved[0] * g, saved[1] * g, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

// The shapes both fused entry points share: hidden [N, d], item_table [V+1, d], targets [N].
void check_rows(const char* what, const torch::Tensor& hidden, const torch::Tensor& item_table, const torch::Tensor& targets) {
  TORCH_CHECK(hidden.dim() == 2 && item_table.dim() == 2 && hidden.size(1) == item_table.size(1), what,
              ": hidden [N, d] and item_table [V+1, d] expected");
  TORCH_CHECK(targets.dim() == 1 && targets.size(0) == hidden.size(0), what, ": targets must be [N]");
}

}  // namespace

torch::Tensor full_softmax_cross_entropy(const torch::Tensor& hidden, const torch::Tensor& item_table,
                                         const torch::Tensor& targets, std::int64_t chunk_rows) {
  check_rows("full_softmax_cross_entropy", hidden, item_table, targets);
  // Autograd functions take no undefined tensors: empty placeholders stand for "no negatives".
  auto none = torch::empty({0}, torch::kLong);
  return FusedSoftmaxCrossEntropy::apply(hidden, item_table, targets, none, torch::empty({0}), chunk_rows);
}

torch::Tensor position_sampled_softmax_cross_entropy(const torch::Tensor& hidden, const torch::Tensor& item_table,
                                                     const torch::Tensor& targets, const torch::Tensor& negatives,
                                                     const torch::Tensor& log_expected, std::int64_t chunk_rows) {
  check_rows("position_sampled_softmax_cross_entropy", hidden, item_table, targets);
  TORCH_CHECK(negatives.dim() == 2 && negatives.size(0) == hidden.size(0), "negatives must be [N, M]");
  TORCH_CHECK(log_expected.dim() == 1 && log_expected.size(0) == item_table.size(0), "log_expected must be [V+1]");
  return FusedSoftmaxCrossEntropy::apply(hidden, item_table, targets, negatives, log_expected, chunk_rows);
}

namespace {

// Negative logits minus their logQ, with accidental hits (a negative equal to the row's target)
// removed. scores, log_q: [N, M] or broadcastable; ids: [N, M] or [1, M].
torch::Tensor corrected_negatives(const torch::Tensor& scores, const torch::Tensor& log_q, const torch::Tensor& ids,
                                  const torch::Tensor& targets) {
  return (scores - log_q).masked_fill(targets.unsqueeze(1).eq(ids), -1e9);
}

torch::Tensor target_first_cross_entropy(const std::vector<torch::Tensor>& logit_parts, const torch::Tensor& targets) {
  return torch::nn::functional::cross_entropy(torch::cat(logit_parts, 1), torch::zeros({targets.size(0)}, targets.options()));
}

}  // namespace

torch::Tensor sampled_softmax_cross_entropy(const torch::Tensor& hidden, const torch::Tensor& item_table,
                                            const torch::Tensor& targets, const torch::Tensor& negatives,
                                            const torch::Tensor& log_q_negative, const torch::Tensor& log_q_target) {
  auto target_emb = item_table.index_select(0, targets);                     // [N, d]
  auto positive = (hidden * target_emb).sum(1, /*keepdim=*/true) - log_q_target.unsqueeze(1);  // [N, 1]
  auto negative = corrected_negatives(torch::mm(hidden, item_table.index_select(0, negatives).t()), log_q_negative.unsqueeze(0),
                                      negatives.unsqueeze(0), targets);  // [N, M]
  return target_first_cross_entropy({positive, negative}, targets);
}

torch::Tensor grouped_sampled_softmax_cross_entropy(const torch::Tensor& hidden, const torch::Tensor& item_table,
                                                    const torch::Tensor& targets, const torch::Tensor& offsets,
                                                    const torch::Tensor& seq_negatives, const torch::Tensor& shared_negatives,
                                                    const torch::Tensor& log_expected) {
  const auto B = offsets.size(0) - 1;
  TORCH_CHECK(seq_negatives.dim() == 2 && seq_negatives.size(0) == B, "grouped sampled softmax: seq_negatives [B, M] expected");
  auto positive = (hidden * item_table.index_select(0, targets)).sum(1, /*keepdim=*/true) -
                  log_expected.index_select(0, targets).unsqueeze(1);  // [N, 1]
  std::vector<torch::Tensor> parts{positive};
  if (seq_negatives.size(1) > 0) {
    const auto M = seq_negatives.size(1);
    auto counts = offsets.slice(0, 1) - offsets.slice(0, 0, -1);
    const auto L = std::max<std::int64_t>(1, counts.max().item<std::int64_t>());
    auto negative_rows = item_table.index_select(0, seq_negatives.reshape({-1})).view({B, M, -1});  // [B, M, d]
    // Each sequence's rows against its own negatives: one batched product over padded rows.
    auto scores = models::unpad(torch::bmm(models::pad_packed(hidden, offsets, L), negative_rows.transpose(1, 2)), offsets);  // [N, M]
    auto row_sequence = torch::repeat_interleave(counts);                                                             // [N]
    auto ids = seq_negatives.index_select(0, row_sequence);                                                           // [N, M]
    parts.push_back(corrected_negatives(scores, log_expected.index_select(0, ids.reshape({-1})).view(ids.sizes()), ids, targets));
  }
  if (shared_negatives.numel() > 0) {
    parts.push_back(corrected_negatives(torch::mm(hidden, item_table.index_select(0, shared_negatives).t()),
                                        log_expected.index_select(0, shared_negatives).unsqueeze(0), shared_negatives.unsqueeze(0),
                                        targets));
  }
  return target_first_cross_entropy(parts, targets);
}

torch::Tensor code_cross_entropy(const std::vector<torch::Tensor>& level_logits, const torch::Tensor& targets,
                                 double label_smoothing) {
  const auto L = static_cast<std::int64_t>(level_logits.size());
  TORCH_CHECK(L >= 1 && targets.dim() == 2 && targets.size(1) == L, "code_cross_entropy: one logits tensor per target column");
  torch::Tensor loss = torch::zeros({});
  for (std::int64_t l = 0; l < L; ++l) {
    loss = loss + torch::cross_entropy_loss(level_logits[static_cast<std::size_t>(l)], targets.select(1, l), {},
                                            at::Reduction::Mean, -100, label_smoothing);
  }
  return loss / static_cast<double>(L);
}

torch::Tensor code_log_likelihood(const std::vector<torch::Tensor>& level_logits, const torch::Tensor& codes) {
  const auto L = static_cast<std::int64_t>(level_logits.size());
  TORCH_CHECK(L >= 1 && codes.dim() == 2 && codes.size(1) == L, "code_log_likelihood: one logits tensor per code column");
  torch::Tensor total = torch::zeros({codes.size(0)});
  for (std::int64_t l = 0; l < L; ++l) {
    total = total + torch::log_softmax(level_logits[static_cast<std::size_t>(l)], 1).gather(1, codes.select(1, l).unsqueeze(1)).squeeze(1);
  }
  return total;
}

namespace {

// Mean of `terms` over the entries where `valid` is set; 0 when none is.
torch::Tensor masked_mean(const torch::Tensor& terms, const torch::Tensor& valid) {
  auto weights = valid.to(torch::kFloat);
  return (terms * weights).sum() / weights.sum().clamp_min(1.0);
}

}  // namespace

torch::Tensor ranked_above_loss(const torch::Tensor& positive, const torch::Tensor& negative, const torch::Tensor& valid) {
  TORCH_CHECK(positive.dim() == 1 && negative.dim() == 2 && negative.size(0) == positive.size(0) && valid.sizes() == negative.sizes(),
              "ranked_above_loss: positive [B], negative and valid [B, M] expected");
  return masked_mean(torch::nn::functional::softplus(negative - positive.unsqueeze(1)), valid);
}

torch::Tensor unlikelihood_loss(const torch::Tensor& log_likelihood, const torch::Tensor& valid) {
  TORCH_CHECK(valid.sizes() == log_likelihood.sizes(), "unlikelihood_loss: log_likelihood and valid of one shape expected");
  // -log(1 - exp(ll)) = -log(-expm1(ll)); ll is kept a hair below 0 so a certain item stays finite.
  return masked_mean(-torch::log(-torch::expm1(log_likelihood.clamp_max(-1e-6))), valid);
}

}  // namespace tessera::train
