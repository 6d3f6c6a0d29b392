#include "tessera/models/attention.h"

#include <cmath>

#include "tessera/models/batched_matmul.h"
#include "tessera/models/dropout.h"

namespace tessera::models {

MultiHeadAttentionImpl::MultiHeadAttentionImpl(std::int64_t d_model, std::int64_t heads, std::int64_t hd, double p)
    : num_heads(heads), head_dim(hd), dropout(p) {
  const auto inner = heads * hd;
  q = register_module("q", torch::nn::Linear(torch::nn::LinearOptions(d_model, inner).bias(false)));
  k = register_module("k", torch::nn::Linear(torch::nn::LinearOptions(d_model, inner).bias(false)));
  v = register_module("v", torch::nn::Linear(torch::nn::LinearOptions(d_model, inner).bias(false)));
  o = register_module("o", torch::nn::Linear(torch::nn::LinearOptions(inner, d_model).bias(false)));
}

torch::Tensor MultiHeadAttentionImpl::split_heads(const torch::Tensor& x) const {
  return x.view({x.size(0), x.size(1), num_heads, head_dim}).transpose(1, 2);
}

torch::Tensor MultiHeadAttentionImpl::project_keys(const torch::Tensor& x) { return split_heads(k(x)).contiguous(); }
torch::Tensor MultiHeadAttentionImpl::project_values(const torch::Tensor& x) { return split_heads(v(x)).contiguous(); }

torch::Tensor MultiHeadAttentionImpl::attend(const torch::Tensor& query_input, const torch::Tensor& keys,
                                             const torch::Tensor& values, const torch::Tensor& bias) {
  const auto B = query_input.size(0), T = query_input.size(1);
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
  auto queries = split_heads(q(query_input));  // [B, H, T, hd]
  torch::Tensor context;
  if (T == 1) {
    // One query per sequence (incremental decoding): broadcast products instead of B*H tiny
    // GEMVs, which libtorch's CPU bmm (without MKL) dispatches one by one.
    auto scores = (queries * keys).sum(-1).unsqueeze(2) * scale;  // [B, H, 1, S]
    if (bias.defined()) scores = scores + bias;
    auto weights = models::dropout(torch::softmax(scores, -1), dropout, is_training());
    context = (weights.squeeze(2).unsqueeze(-1) * values).sum(2).unsqueeze(2);  // [B, H, 1, hd]
  } else {
    auto scores = batched_matmul(queries, keys.transpose(-1, -2)) * scale;
    if (bias.defined()) scores = scores + bias;
    auto weights = models::dropout(torch::softmax(scores, -1), dropout, is_training());
    context = batched_matmul(weights, values);  // [B, H, T, hd]
  }
  return o(context.transpose(1, 2).reshape({B, T, num_heads * head_dim}));
}

torch::Tensor MultiHeadAttentionImpl::attend_shared(const torch::Tensor& query_input, const torch::Tensor& keys,
                                                    const torch::Tensor& values, const torch::Tensor& bias) {
  const auto N = query_input.size(0), B = keys.size(0);
  TORCH_CHECK(query_input.size(1) == 1 && B > 0 && N % B == 0, "attend_shared: ", N, " single-token queries for ", B, " requests");
  const auto G = N / B;
  if (G == 1) return attend(query_input, keys, values, bias);
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
  auto queries = q(query_input).view({B, G, num_heads, head_dim}).permute({0, 2, 1, 3});  // [B, H, G, hd]
  auto scores = batched_matmul(queries, keys.transpose(-1, -2)) * scale;                 // [B, H, G, S]
  if (bias.defined()) scores = scores + bias;
  auto weights = models::dropout(torch::softmax(scores, -1), dropout, is_training());
  auto context = batched_matmul(weights, values);  // [B, H, G, hd]
  return o(context.permute({0, 2, 1, 3}).reshape({N, 1, num_heads * head_dim}));
}

torch::Tensor MultiHeadAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& context, const torch::Tensor& bias) {
  const auto& source = context.defined() ? context : x;
  return attend(x, project_keys(source), project_values(source), bias);
}

}  // namespace tessera::models
