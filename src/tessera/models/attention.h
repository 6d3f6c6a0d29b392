#pragma once
// Multi-head scaled dot-product attention with separate query and key/value inputs, for
// encoder self-attention, decoder self-attention and cross-attention (TIGER). Keys and values
// can be projected once and reused, which is what the decoder's KV cache stores.
//
// Layout: activations are [B, T, d_model] float. Projected keys/values are [B, H, S, head_dim].
// The additive bias is broadcastable to [B, H, T, S] (0 = attend, large negative = blocked).
// A module instance is not thread-safe while training; in eval mode concurrent forward calls
// are safe (no state is kept between calls).

#include <cstdint>

#include <torch/torch.h>

namespace tessera::models {

struct MultiHeadAttentionImpl : torch::nn::Module {
  MultiHeadAttentionImpl(std::int64_t d_model, std::int64_t num_heads, std::int64_t head_dim, double dropout);

  // x: [B, S, d_model] -> [B, H, S, head_dim].
  torch::Tensor project_keys(const torch::Tensor& x);
  torch::Tensor project_values(const torch::Tensor& x);

  // query_input: [B, T, d_model]; keys, values: [B, H, S, head_dim]; bias: broadcastable to
  // [B, H, T, S] or undefined. Returns [B, T, d_model].
  torch::Tensor attend(const torch::Tensor& query_input, const torch::Tensor& keys, const torch::Tensor& values,
                       const torch::Tensor& bias);

  // One decoding step of G beams per request against keys/values computed once per request and
  // shared by its beams (TIGER's cross-attention cache): query_input [B*G, 1, d_model], request
  // b's beams in rows b*G .. b*G+G-1; keys, values [B, H, S, head_dim]; bias broadcastable to
  // [B, 1, 1, S] or undefined. Returns [B*G, 1, d_model], what attend() would return with keys
  // and values repeated per beam, without reading or copying them G times.
  torch::Tensor attend_shared(const torch::Tensor& query_input, const torch::Tensor& keys, const torch::Tensor& values,
                              const torch::Tensor& bias);

  // Plain attention of x over itself (or over `context`): projects and attends in one call.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context, const torch::Tensor& bias);

  std::int64_t num_heads, head_dim;
  double dropout;
  torch::nn::Linear q{nullptr}, k{nullptr}, v{nullptr}, o{nullptr};

 private:
  torch::Tensor split_heads(const torch::Tensor& x) const;  // [B, S, H*hd] -> [B, H, S, hd]
};
TORCH_MODULE(MultiHeadAttention);

}  // namespace tessera::models
