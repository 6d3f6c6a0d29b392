#pragma once
// HSTU (Zhai et al., ICML 2024, "Actions Speak Louder than Words"): the Hierarchical Sequential
// Transduction Unit over item IDs. Each layer:
//   U, V, Q, K = split(SiLU(W_uvqk LayerNorm(x) + b))            one fused input projection
//   A_ij       = SiLU(Q_i . K_j + rab[i - j]) / max_len, j <= i    pointwise, causal, no softmax
//   x         <- x + W_o Dropout(LayerNorm(A V) * U)               gated output, residual
// with a learned relative-position bias `rab` per layer (shared by its heads) and, with
// ModelSpec::time_buckets > 0, a learned bias per time bucket of t_i - t_j added to it (HSTU's
// relative attention bias over positions and time; each query uses its own item's timestamp, so
// nothing about the target's time leaks in). Input: item
// embedding * sqrt(d) + learned position (ModelSpec::positions_from_start), dropout. Output:
// the last layer's states (unit length / temperature with l2_normalize, as in the public setup).
// Initialisation as in the public setup: W_uvqk ~ N(0, 0.02) with zero bias, so every layer
// starts close to the identity, and W_o Xavier-uniform. Two more details of the public code are
// options: plain LayerNorms without scale and shift (ModelSpec::layer_norm_affine) and larger
// initial positions (ModelSpec::position_init_std).
//
// Two execution paths compute the same function: encode() on left-padded [B, L] batches (dense
// attention with masks), and encode_packed() on packed sequences (jagged attention, cost
// proportional to real tokens; models/jagged_attention.h).

#include <cstdint>
#include <optional>

#include "tessera/models/jagged_attention.h"
#include "tessera/models/sequence_model.h"

namespace tessera::models {

struct HstuLayerImpl : torch::nn::Module {
  // norm_affine: LayerNorms with learned scale and shift (else plain, eps 1e-6; ModelSpec::layer_norm_affine).
  HstuLayerImpl(std::int64_t d_model, std::int64_t num_heads, std::int64_t head_dim, std::int64_t max_len, double dropout,
                std::int64_t time_buckets = 0, bool norm_affine = true);

  // Packed: x [T, d], offsets [B + 1] int64, pair_buckets the batch's packed_pair_time_buckets
  // (undefined without time buckets). Returns [T, d].
  torch::Tensor forward_packed(const torch::Tensor& x, const torch::Tensor& offsets, const torch::Tensor& pair_buckets = {});
  // Padded: x [B, L, d], valid [B, L] bool, pair_buckets padded_pair_time_buckets [B, L, L] or
  // undefined. Returns [B, L, d] (padding rows are x's rows).
  torch::Tensor forward_padded(const torch::Tensor& x, const torch::Tensor& valid, const torch::Tensor& pair_buckets = {});

  std::int64_t num_heads, head_dim, max_len;
  double dropout;
  torch::nn::LayerNorm input_norm{nullptr}, attention_norm{nullptr};
  torch::nn::Linear uvqk{nullptr}, out{nullptr};
  torch::Tensor position_bias;  // [max_len]: rab by distance i - j
  torch::Tensor time_bias;      // [time_buckets]: rab by time bucket, or undefined when off

 private:
  // u, v, q, k of x [..., d], each [..., H * head_dim].
  std::vector<torch::Tensor> project(const torch::Tensor& x);
  torch::Tensor output(const torch::Tensor& x, const torch::Tensor& attended, const torch::Tensor& u);
  std::optional<TimeBias> time_term(const torch::Tensor& pair_buckets) const;
};
TORCH_MODULE(HstuLayer);

struct HstuImpl : SequenceModelImpl {
  explicit HstuImpl(const ModelSpec& spec);

  torch::Tensor encode(const torch::Tensor& items, const torch::Tensor& timestamps = {}) override;
  torch::Tensor encode_packed(const torch::Tensor& items, const torch::Tensor& offsets, const torch::Tensor& timestamps = {}) override;
  bool uses_time() const override { return options.time_buckets > 0; }
  torch::Tensor item_embeddings() override;
  double flops_per_token(std::int64_t sequence_length) const override;

  ModelSpec options;
  torch::nn::Embedding item_embedding{nullptr}, position_embedding{nullptr};
  torch::Tensor item_bias;  // [V + 1] with ModelSpec::item_bias, else undefined
  torch::nn::ModuleList layers{nullptr};

 private:
  torch::Tensor finish(const torch::Tensor& hidden) const;
  void require_timestamps(const torch::Tensor& timestamps) const;
};
TORCH_MODULE(Hstu);

}  // namespace tessera::models
