#pragma once
// SASRec (Kang & McAuley, ICDM 2018): causal self-attention over item IDs.
// This implementation: learned positional embeddings counted from the most recent item (or the
// oldest, ModelSpec::positions_from_start), pre-LayerNorm blocks (x + Attn(LN(x)), x + FFN(LN(x)))
// with a GELU or SwiGLU feed-forward layer (ModelSpec::ffn_activation), dropout, a final
// LayerNorm, and the output layer tied to the input item embeddings (plus an optional per-item
// bias, ModelSpec::item_bias).

#include <cstdint>

#include "tessera/models/sequence_model.h"

namespace tessera::models {

// Additive attention bias for left-padded histories: query i may attend key j when j <= i and
// j is a real item; every position may attend to itself, so padding rows never have an
// all-blocked softmax. items: [B, L] int64 (0 = padding). Returns [B * num_heads, L, L] float,
// 0 = may attend, -1e9 = may not.
torch::Tensor causal_padding_bias(const torch::Tensor& items, std::int64_t num_heads);

// Multi-head causal self-attention with a fused QKV projection.
struct CausalSelfAttentionImpl : torch::nn::Module {
  CausalSelfAttentionImpl(std::int64_t d_model, std::int64_t num_heads, double dropout);
  // x: [B, L, d]; attn_bias: [B * num_heads, L, L] from causal_padding_bias().
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& attn_bias);
  // Packed rows x: [T, d] with offsets [B + 1]: the projections run on real rows only, the
  // attention itself on the left-padded [B, L] layout. Returns [T, d].
  torch::Tensor forward_packed(const torch::Tensor& x, const torch::Tensor& offsets, const torch::Tensor& attn_bias);

  std::int64_t num_heads;
  double dropout;
  torch::nn::Linear qkv{nullptr}, out{nullptr};

 private:
  // projected: [B, L, 3d] (q | k | v). Returns the attended values [B, L, d] before `out`.
  torch::Tensor attend(const torch::Tensor& projected, const torch::Tensor& attn_bias);
};
TORCH_MODULE(CausalSelfAttention);

struct SasRecBlockImpl : torch::nn::Module {
  SasRecBlockImpl(std::int64_t d_model, std::int64_t num_heads, std::int64_t ffn_dim, double dropout, bool swiglu = false);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& attn_bias);
  torch::Tensor forward_packed(const torch::Tensor& x, const torch::Tensor& offsets, const torch::Tensor& attn_bias);
  // The feed-forward sublayer on normalised input, before its output dropout.
  torch::Tensor feed_forward(const torch::Tensor& x);

  double dropout;
  bool swiglu;  // ffn_in is [2 ffn_dim, d]: gate and value halves
  torch::nn::LayerNorm ln_attn{nullptr}, ln_ffn{nullptr};
  CausalSelfAttention attn{nullptr};
  torch::nn::Linear ffn_in{nullptr}, ffn_out{nullptr};
};
TORCH_MODULE(SasRecBlock);

struct SasRecImpl : SequenceModelImpl {
  explicit SasRecImpl(const ModelSpec& spec);

  torch::Tensor encode(const torch::Tensor& items, const torch::Tensor& timestamps = {}) override;
  // Embeddings, LayerNorms, projections and feed-forward layers on real rows only; attention
  // padded (softmax attention has no jagged kernel here).
  torch::Tensor encode_packed(const torch::Tensor& items, const torch::Tensor& offsets, const torch::Tensor& timestamps = {}) override;
  torch::Tensor item_embeddings() override;
  double flops_per_token(std::int64_t sequence_length) const override;

  ModelSpec options;
  torch::nn::Embedding item_embedding{nullptr}, position_embedding{nullptr};
  torch::nn::ModuleList blocks{nullptr};
  torch::nn::LayerNorm final_norm{nullptr};
  torch::Tensor item_bias;  // [V + 1] with ModelSpec::item_bias, else undefined

 private:
  torch::Tensor finish(const torch::Tensor& x);
};
TORCH_MODULE(SasRec);

}  // namespace tessera::models
