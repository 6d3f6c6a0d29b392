#include "tessera/train/losses.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "tessera/train/softmax_rows.h"

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
    const auto d = hidden.size(1);
    hidden = hidden.contiguous();
    targets = targets.contiguous();
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
        softmax_minus_one_hot_rows(p + b * V1, e - b, V1, t + b, loss + b);
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
