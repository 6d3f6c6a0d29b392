#include "tessera/train/losses.h"

#include <algorithm>
#include <limits>

namespace tessera::train {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Forward computes the loss and, chunk by chunk, the gradients of the mean loss with respect to
// hidden and item_table; backward multiplies them by the incoming scalar gradient.
struct FusedSoftmaxCrossEntropy : public torch::autograd::Function<FusedSoftmaxCrossEntropy> {
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor hidden, torch::Tensor table, torch::Tensor targets,
                               std::int64_t chunk_rows) {
    const auto N = hidden.size(0);
    const auto V1 = table.size(0);
    hidden = hidden.contiguous();
    table = table.contiguous();
    auto grad_hidden = torch::empty_like(hidden);
    auto grad_table = torch::zeros_like(table);
    auto loss_sum = torch::zeros({}, hidden.options().dtype(torch::kDouble));
    if (chunk_rows <= 0) chunk_rows = std::max<std::int64_t>(64, (std::int64_t{1} << 22) / V1);
    const double inv_n = 1.0 / static_cast<double>(std::max<std::int64_t>(N, 1));
    const float neg_inf = -std::numeric_limits<float>::infinity();
    for (std::int64_t start = 0; start < N; start += chunk_rows) {
      const auto end = std::min(N, start + chunk_rows);
      auto h = hidden.slice(0, start, end);
      auto t = targets.slice(0, start, end).unsqueeze(1);  // [c, 1]
      auto logits = torch::mm(h, table.t());               // [c, V+1]
      logits.select(1, 0).fill_(neg_inf);
      auto target_logit = logits.gather(1, t).squeeze(1);
      auto row_max = std::get<0>(logits.max(1, /*keepdim=*/true));
      auto probs = logits.sub_(row_max).exp_();  // in place: logits -> exp(logits - max)
      auto denom = probs.sum(1, /*keepdim=*/true);
      probs.div_(denom);
      // loss = logsumexp - target_logit = max + log(sum) - target_logit
      loss_sum += (row_max.squeeze(1) + denom.log().squeeze(1) - target_logit).sum().to(torch::kDouble);
      probs.scatter_add_(1, t, torch::full({end - start, 1}, -1.0f, probs.options()));  // softmax - onehot
      probs.mul_(inv_n);
      auto grad_rows = grad_hidden.slice(0, start, end);
      torch::mm_out(grad_rows, probs, table);
      grad_table.addmm_(probs.t(), h);
    }
    ctx->save_for_backward({grad_hidden, grad_table});
    return (loss_sum * inv_n).to(hidden.scalar_type());
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_output) {
    auto saved = ctx->get_saved_variables();
    auto g = grad_output[0];
    return {saved[0] * g, saved[1] * g, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor full_softmax_cross_entropy(const torch::Tensor& hidden, const torch::Tensor& item_table,
                                         const torch::Tensor& targets, std::int64_t chunk_rows) {
  TORCH_CHECK(hidden.dim() == 2 && item_table.dim() == 2 && hidden.size(1) == item_table.size(1),
              "full_softmax_cross_entropy: hidden [N, d] and item_table [V+1, d] expected");
  TORCH_CHECK(targets.dim() == 1 && targets.size(0) == hidden.size(0), "targets must be [N]");
  return FusedSoftmaxCrossEntropy::apply(hidden, item_table, targets, chunk_rows);
}

torch::Tensor sampled_softmax_cross_entropy(const torch::Tensor& hidden, const torch::Tensor& item_table,
                                            const torch::Tensor& targets, const torch::Tensor& negatives,
                                            const torch::Tensor& log_q_negative, const torch::Tensor& log_q_target) {
  auto target_emb = item_table.index_select(0, targets);                     // [N, d]
  auto positive = (hidden * target_emb).sum(1, /*keepdim=*/true) - log_q_target.unsqueeze(1);  // [N, 1]
  auto negative = torch::mm(hidden, item_table.index_select(0, negatives).t()) - log_q_negative.unsqueeze(0);  // [N, M]
  auto hit = targets.unsqueeze(1).eq(negatives.unsqueeze(0));
  negative = negative.masked_fill(hit, -1e9);
  auto logits = torch::cat({positive, negative}, 1);
  return torch::nn::functional::cross_entropy(logits, torch::zeros({hidden.size(0)}, targets.options()));
}

}  // namespace tessera::train
