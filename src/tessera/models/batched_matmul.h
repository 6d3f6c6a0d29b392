#pragma once
// Products of many small matrices (attention over short sequences: one product per sequence and
// head), differentiable, and run in parallel over the batch.
//
// Why: Debian's libtorch has no MKL, so its CPU bmm runs the products of a batch one after the
// other, each a BLAS call behind a `select`; with thousands of 80 x 32 products per call (TIGER's
// attention) that loop, not the arithmetic, was half of a training step. Here each thread takes a
// share of the batch and calls single-threaded BLAS (cblas_sgemm) on every product of it, reading
// a transposed operand in place instead of copying it.
//
// Thread safety: none needed beyond libtorch's (no state).

#include <torch/torch.h>

namespace tessera::models {

// a: [..., m, k], b: [..., k, n] with the same leading (batch) sizes; returns [..., m, n] = a @ b,
// with gradients for both. The parallel path takes float CPU tensors whose products are small
// (m * n * k <= kSmallProduct, so that BLAS runs each on one thread); anything else (another
// device or dtype, larger products, broadcast batch sizes) is computed by torch::matmul, so the
// result is always the same function.
torch::Tensor batched_matmul(const torch::Tensor& a, const torch::Tensor& b);

// The largest m * n * k that the parallel path takes: OpenBLAS computes products below 4 x 65,536
// multiply-adds on the calling thread, so threads never nest.
inline constexpr std::int64_t kSmallProduct = 1 << 18;

}  // namespace tessera::models
