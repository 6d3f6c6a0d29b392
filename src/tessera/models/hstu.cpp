#include "tessera/models/hstu.h"

#include <cmath>

#include "tessera/models/dropout.h"
#include "tessera/models/jagged_attention.h"
#include "tessera/models/packing.h"

namespace tessera::models {

HstuLayerImpl::HstuLayerImpl(std::int64_t d_model, std::int64_t heads, std::int64_t dh, std::int64_t len, double p,
                             std::int64_t time_buckets, bool norm_affine)
    : num_heads(heads), head_dim(dh), max_len(len), dropout(p) {
  const auto width = heads * dh;
  // Affine norms keep libtorch's eps (1e-5), plain ones the public code's 1e-6.
  auto norm = [&](std::int64_t n) {
    return torch::nn::LayerNorm(torch::nn::LayerNormOptions({n}).elementwise_affine(norm_affine).eps(norm_affine ? 1e-5 : 1e-6));
  };
  input_norm = register_module("input_norm", norm(d_model));
  uvqk = register_module("uvqk", torch::nn::Linear(d_model, 4 * width));
  attention_norm = register_module("attention_norm", norm(width));
  out = register_module("out", torch::nn::Linear(width, d_model));
  position_bias = register_parameter("position_bias", torch::zeros({len}));
  if (time_buckets > 0) time_bias = register_parameter("time_bias", torch::zeros({time_buckets}));
  torch::NoGradGuard no_grad;
  // Small U, V, Q, K at the start (the public setup's initialisation): a 12-epoch run of
  // configs/hstu-ml1m.json reached validation NDCG@10 0.1267 with it, 0.1156 with libtorch's
  // default Linear initialisation.
  uvqk->weight.normal_(0.0, 0.02);
  uvqk->bias.zero_();
  torch::nn::init::xavier_uniform_(out->weight);
  position_bias.normal_(0.0, 0.02);
  if (time_buckets > 0) time_bias.normal_(0.0, 0.02);
}

std::optional<TimeBias> HstuLayerImpl::time_term(const torch::Tensor& pair_buckets) const {
  if (!time_bias.defined()) return std::nullopt;
  TORCH_CHECK(pair_buckets.defined(), "HSTU layer with time buckets called without the pairs' time buckets");
  return TimeBias{pair_buckets, time_bias};
}

std::vector<torch::Tensor> HstuLayerImpl::project(const torch::Tensor& x) {
  return torch::silu(uvqk(input_norm(x))).chunk(4, -1);
}

torch::Tensor HstuLayerImpl::output(const torch::Tensor& x, const torch::Tensor& attended, const torch::Tensor& u) {
  return x + out(models::dropout(attention_norm(attended) * u, dropout, is_training()));
}

torch::Tensor HstuLayerImpl::forward_packed(const torch::Tensor& x, const torch::Tensor& offsets, const torch::Tensor& pair_buckets) {
  const auto T = x.size(0);
  auto parts = project(x);  // u, v, q, k: [T, H * dh]
  auto view = [&](const torch::Tensor& t) { return t.reshape({T, num_heads, head_dim}); };
  const auto time = time_term(pair_buckets);
  auto attended = jagged_causal_pointwise_attention(view(parts[2]), view(parts[3]), view(parts[1]), offsets, position_bias,
                                                    static_cast<double>(max_len), time ? &*time : nullptr);
  return output(x, attended.reshape({T, num_heads * head_dim}), parts[0]);
}

torch::Tensor HstuLayerImpl::forward_padded(const torch::Tensor& x, const torch::Tensor& valid, const torch::Tensor& pair_buckets) {
  const auto B = x.size(0), L = x.size(1);
  auto parts = project(x);  // [B, L, H * dh]
  auto heads = [&](const torch::Tensor& t) { return t.reshape({B, L, num_heads, head_dim}).transpose(1, 2); };
  const auto time = time_term(pair_buckets);
  auto attended = padded_causal_pointwise_attention(heads(parts[2]), heads(parts[3]), heads(parts[1]), valid, position_bias,
                                                    static_cast<double>(max_len), time ? &*time : nullptr);  // [B, H, L, dh]
  return output(x, attended.transpose(1, 2).reshape({B, L, num_heads * head_dim}), parts[0]);
}

HstuImpl::HstuImpl(const ModelSpec& opts) : options(opts) {
  const auto dh = opts.head_dim > 0 ? opts.head_dim : opts.d_model / opts.num_heads;
  item_embedding = register_module(
      "item_embedding", torch::nn::Embedding(torch::nn::EmbeddingOptions(opts.num_items + 1, opts.d_model).padding_idx(0)));
  position_embedding = register_module("position_embedding", torch::nn::Embedding(opts.max_len, opts.d_model));
  layers = register_module("layers", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < opts.num_blocks; ++i) {
    layers->push_back(HstuLayer(opts.d_model, opts.num_heads, dh, opts.max_len, opts.dropout, opts.time_buckets, opts.layer_norm_affine));
  }
  item_bias = register_item_bias(*this, opts);
  torch::NoGradGuard no_grad;
  // As in the public setup: small item rows, so the input (x sqrt(d)) has norm ~1 and the layers'
  // updates, not the current item's own row, dominate the output (which is tied to the same table).
  item_embedding->weight.normal_(0.0, 0.02);
  item_embedding->weight[0].zero_();
  position_embedding->weight.normal_(0.0, opts.position_init_std);
}

torch::Tensor HstuImpl::finish(const torch::Tensor& hidden) const { return scoring_hidden(hidden, options); }

void HstuImpl::require_timestamps(const torch::Tensor& timestamps) const {
  TORCH_CHECK(timestamps.defined(), "this HSTU model uses time buckets (time_buckets = ", options.time_buckets,
              "), so every history needs timestamps");
}

torch::Tensor HstuImpl::encode(const torch::Tensor& items, const torch::Tensor& timestamps) {
  const auto L = items.size(1);
  TORCH_CHECK(L <= options.max_len, "sequence length ", L, " exceeds max_len ", options.max_len);
  auto valid = items.ne(0);  // [B, L]
  torch::Tensor pair_buckets;
  if (uses_time()) {
    require_timestamps(timestamps);
    pair_buckets = padded_pair_time_buckets(timestamps, valid, options.time_buckets);
  }
  auto x = item_embedding(items) * std::sqrt(static_cast<double>(options.d_model)) + position_embedding(padded_positions(valid, options));
  auto mask = valid.unsqueeze(-1).to(x.dtype());
  x = models::dropout(x, options.dropout, is_training()) * mask;
  for (const auto& layer : *layers) x = layer->as<HstuLayer>()->forward_padded(x, valid, pair_buckets) * mask;
  return finish(x);
}

torch::Tensor HstuImpl::encode_packed(const torch::Tensor& items, const torch::Tensor& offsets, const torch::Tensor& timestamps) {
  torch::Tensor pair_buckets;
  if (uses_time()) {
    require_timestamps(timestamps);
    pair_buckets = packed_pair_time_buckets(timestamps, offsets, options.time_buckets);
  }
  auto x = item_embedding(items) * std::sqrt(static_cast<double>(options.d_model)) + position_embedding(packed_positions(offsets, options));
  x = models::dropout(x, options.dropout, is_training());
  for (const auto& layer : *layers) x = layer->as<HstuLayer>()->forward_packed(x, offsets, pair_buckets);
  return finish(x);
}

torch::Tensor HstuImpl::item_embeddings() { return scoring_items(item_embedding->weight, options, item_bias); }

double HstuImpl::flops_per_token(std::int64_t n) const {
  const double d = static_cast<double>(options.d_model);
  const double width = static_cast<double>(options.num_heads * (options.head_dim > 0 ? options.head_dim : options.d_model / options.num_heads));
  // Multiply-adds per token and layer: projection d x 4w, output w x d, and causal attention
  // over (n + 1) / 2 keys on average, for scores (w) and the weighted sum (w).
  const double per_layer = 4 * d * width + width * d + (static_cast<double>(n) + 1.0) / 2.0 * 2.0 * width;
  return 2.0 * static_cast<double>(options.num_blocks) * per_layer;
}

}  // namespace tessera::models
