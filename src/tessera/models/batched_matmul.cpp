#include "tessera/models/batched_matmul.h"

#include <cblas.h>

#include <ATen/Parallel.h>
#include <ATen/record_function.h>

namespace tessera::models {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// One operand of the products as contiguous row-major storage, read transposed when
// `transposed` (then the storage is the operand's transpose, read in place).
struct Operand {
  torch::Tensor storage;
  bool transposed = false;
};

Operand as_operand(const torch::Tensor& t) {
  if (!t.is_contiguous() && t.transpose(-1, -2).is_contiguous()) return {t.transpose(-1, -2), true};
  return {t.contiguous(), false};
}

bool takes_parallel_path(const torch::Tensor& a, const torch::Tensor& b) {
  if (!a.device().is_cpu() || !b.device().is_cpu() || a.scalar_type() != torch::kFloat || b.scalar_type() != torch::kFloat) return false;
  if (a.dim() < 3 || a.dim() != b.dim() || a.sizes().slice(0, a.dim() - 2) != b.sizes().slice(0, b.dim() - 2)) return false;
  if (a.size(-1) != b.size(-2)) return false;
  return a.size(-2) * a.size(-1) * b.size(-1) <= kSmallProduct;
}

// [..., m, k] x [..., k, n] -> [..., m, n] for float CPU operands with equal batch sizes.
torch::Tensor parallel_products(const torch::Tensor& a, const torch::Tensor& b) {
  RECORD_FUNCTION("tessera::batched_matmul", std::vector<c10::IValue>());
  const auto A = as_operand(a), B = as_operand(b);
  const auto m = a.size(-2), k = a.size(-1), n = b.size(-1);
  auto sizes = a.sizes().vec();
  sizes.back() = n;
  auto c = torch::empty(sizes, a.options());
  const auto batch = m == 0 || n == 0 ? 0 : c.numel() / (m * n);
  if (batch == 0) return c;
  if (k == 0) return c.zero_();
  const float* pa = A.storage.data_ptr<float>();
  const float* pb = B.storage.data_ptr<float>();
  float* pc = c.data_ptr<float>();
  const auto ta = A.transposed ? CblasTrans : CblasNoTrans, tb = B.transposed ? CblasTrans : CblasNoTrans;
  const auto lda = A.transposed ? m : k, ldb = B.transposed ? k : n;
  // Enough products per task that scheduling stays negligible next to the arithmetic.
  const auto grain = std::max<std::int64_t>(1, (1 << 15) / std::max<std::int64_t>(1, m * n * k));
  at::parallel_for(0, batch, grain, [&](std::int64_t begin, std::int64_t end) {
    for (auto i = begin; i < end; ++i) {
      cblas_sgemm(CblasRowMajor, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.0f, pa + i * m * k,
                  static_cast<int>(lda), pb + i * k * n, static_cast<int>(ldb), 0.0f, pc + i * m * n, static_cast<int>(n));
    }
  });
  return c;
}

struct BatchedMatmul : public torch::autograd::Function<BatchedMatmul> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& a, const torch::Tensor& b) {
    ctx->save_for_backward({a, b});
    return parallel_products(a, b);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& a = saved[0];
    const auto& b = saved[1];
    const auto& g = grads[0];
    torch::Tensor grad_a, grad_b;
    if (ctx->needs_input_grad(0)) grad_a = batched_matmul(g, b.transpose(-1, -2));  // [m, n] x [n, k]
    if (ctx->needs_input_grad(1)) grad_b = batched_matmul(a.transpose(-1, -2), g);  // [k, m] x [m, n]
    return {grad_a, grad_b};
  }
};

}  // namespace

torch::Tensor batched_matmul(const torch::Tensor& a, const torch::Tensor& b) {
  if (!takes_parallel_path(a, b)) return torch::matmul(a, b);
  return BatchedMatmul::apply(a, b);
}

}  // namespace tessera::models
