#include "tessera/models/tiger.h"

#include <cmath>
#include <limits>
#include <numeric>

#include "tessera/core/error.h"
#include "tessera/models/dropout.h"

namespace tessera::models {

namespace {
constexpr float kBlocked = -1e9f;
}

EncoderLayerImpl::EncoderLayerImpl(const TigerSpec& s) : dropout(s.dropout) {
  ln_attn = register_module("ln_attn", torch::nn::LayerNorm(torch::nn::LayerNormOptions({s.d_model})));
  attn = register_module("attn", MultiHeadAttention(s.d_model, s.num_heads, s.head_dim, s.dropout));
  ln_ffn = register_module("ln_ffn", torch::nn::LayerNorm(torch::nn::LayerNormOptions({s.d_model})));
  ffn_in = register_module("ffn_in", torch::nn::Linear(s.d_model, s.ffn_dim));
  ffn_out = register_module("ffn_out", torch::nn::Linear(s.ffn_dim, s.d_model));
}

torch::Tensor EncoderLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& bias) {
  auto drop = [&](const torch::Tensor& t) { return models::dropout(t, dropout, is_training()); };
  auto h = x + drop(attn->forward(ln_attn(x), torch::Tensor(), bias));
  return h + drop(ffn_out(drop(torch::gelu(ffn_in(ln_ffn(h))))));
}

DecoderLayerImpl::DecoderLayerImpl(const TigerSpec& s) : dropout(s.dropout) {
  ln_self = register_module("ln_self", torch::nn::LayerNorm(torch::nn::LayerNormOptions({s.d_model})));
  self_attn = register_module("self_attn", MultiHeadAttention(s.d_model, s.num_heads, s.head_dim, s.dropout));
  ln_cross = register_module("ln_cross", torch::nn::LayerNorm(torch::nn::LayerNormOptions({s.d_model})));
  cross_attn = register_module("cross_attn", MultiHeadAttention(s.d_model, s.num_heads, s.head_dim, s.dropout));
  ln_ffn = register_module("ln_ffn", torch::nn::LayerNorm(torch::nn::LayerNormOptions({s.d_model})));
  ffn_in = register_module("ffn_in", torch::nn::Linear(s.d_model, s.ffn_dim));
  ffn_out = register_module("ffn_out", torch::nn::Linear(s.ffn_dim, s.d_model));
}

torch::Tensor DecoderLayerImpl::feed_forward(const torch::Tensor& x) {
  return ffn_out(models::dropout(torch::gelu(ffn_in(ln_ffn(x))), dropout, is_training()));
}

TigerImpl::TigerImpl(TigerSpec s) : spec(std::move(s)) {
  if (spec.level_sizes.empty()) throw Error("tiger: semantic IDs need at least one level");
  for (auto size : spec.level_sizes) {
    if (size < 1) throw Error("tiger: every semantic-ID level needs at least one code");
    offsets.push_back(total_codes);
    total_codes += size;
  }
  const auto L = num_levels();
  token_embedding = register_module("token_embedding",
                                    torch::nn::Embedding(torch::nn::EmbeddingOptions(total_codes + 2, spec.d_model).padding_idx(0)));
  encoder_positions = register_module("encoder_positions", torch::nn::Embedding(spec.max_items * L, spec.d_model));
  decoder_positions = register_module("decoder_positions", torch::nn::Embedding(L, spec.d_model));
  if (spec.user_buckets > 0) user_embedding = register_module("user_embedding", torch::nn::Embedding(spec.user_buckets, spec.d_model));
  if (spec.item_buckets < 0) throw Error("tiger: item_buckets must be >= 0");
  if (spec.item_dropout < 0 || spec.item_dropout >= 1) throw Error("tiger: item_dropout must be in [0, 1)");
  if (spec.item_buckets > 0) item_embedding = register_module("item_embedding", torch::nn::Embedding(spec.item_buckets, spec.d_model));
  encoder_layers = register_module("encoder_layers", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < spec.encoder_layers; ++i) encoder_layers->push_back(EncoderLayer(spec));
  decoder_layers = register_module("decoder_layers", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < spec.decoder_layers; ++i) decoder_layers->push_back(DecoderLayer(spec));
  encoder_norm = register_module("encoder_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({spec.d_model})));
  decoder_norm = register_module("decoder_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({spec.d_model})));
  if (!spec.tie_output) {
    output = register_module("output", torch::nn::Linear(torch::nn::LinearOptions(spec.d_model, total_codes).bias(false)));
  }
  if (spec.repeat_bias) repeat_weight = register_parameter("repeat_weight", torch::zeros({L}));
  torch::NoGradGuard no_grad;
  for (auto* table : {&token_embedding, &encoder_positions, &decoder_positions}) (*table)->weight.normal_(0.0, 0.02);
  if (user_embedding) user_embedding->weight.normal_(0.0, 0.02);
  if (item_embedding) item_embedding->weight.normal_(0.0, 0.02);
  token_embedding->weight[0].zero_();
}

torch::Tensor TigerImpl::history_tokens(std::span<const std::int32_t> codes,
                                        const std::vector<std::span<const std::int32_t>>& histories) const {
  const auto L = num_levels();
  const auto B = static_cast<std::int64_t>(histories.size());
  std::int64_t items = 1;
  for (const auto& h : histories) items = std::max<std::int64_t>(items, std::min<std::int64_t>(spec.max_items, static_cast<std::int64_t>(h.size())));
  const auto T = items * L;
  auto tokens = torch::zeros({B, T}, torch::kLong);
  auto* out = tokens.data_ptr<std::int64_t>();
  for (std::int64_t b = 0; b < B; ++b) {
    const auto& h = histories[static_cast<std::size_t>(b)];
    const auto n = std::min<std::int64_t>(spec.max_items, static_cast<std::int64_t>(h.size()));
    const auto first = static_cast<std::int64_t>(h.size()) - n;
    std::int64_t* row = out + b * T + (items - n) * L;
    for (std::int64_t i = 0; i < n; ++i) {
      const auto item = h[static_cast<std::size_t>(first + i)];
      const auto* c = codes.data() + static_cast<std::int64_t>(item) * L;
      if ((static_cast<std::int64_t>(item) + 1) * L > static_cast<std::int64_t>(codes.size()) || item < 1) {
        throw Error("tiger: history item " + std::to_string(item) + " has no semantic ID");
      }
      for (std::int64_t l = 0; l < L; ++l) row[i * L + l] = token(l, c[l]);
    }
  }
  return tokens;
}

torch::Tensor TigerImpl::item_buckets_of(const torch::Tensor& tokens) const {
  const auto B = tokens.size(0), L = num_levels();
  TORCH_CHECK(tokens.size(1) % L == 0, "tiger: history of ", tokens.size(1), " tokens is not whole items of ", L);
  TORCH_CHECK(spec.item_buckets > 0, "tiger: the model has no item buckets");
  // The full ID as a number in base (total_codes + 2) (exact in int64 for 4 levels of 256 codes;
  // longer IDs wrap, which only makes it a hash sooner), then a multiplicative mix so that
  // key mod item_buckets does not just keep the last digits (items that share a prefix would
  // then collide).
  const auto groups = tokens.view({B, -1, L});
  auto key = torch::zeros({B, groups.size(1)}, tokens.options());
  for (std::int64_t l = 0; l < L; ++l) key = key * (total_codes + 2) + groups.select(2, l);
  key = key * static_cast<std::int64_t>(0x9E3779B97F4A7C15ULL);
  key = key.bitwise_xor(key.bitwise_right_shift(29)).bitwise_and(std::numeric_limits<std::int64_t>::max());
  return key.remainder(spec.item_buckets);
}

torch::Tensor TigerImpl::history_item_vectors(const torch::Tensor& tokens) {
  const auto B = tokens.size(0);
  auto items = item_embedding(item_buckets_of(tokens));  // [B, T / L, d]
  const auto real_items = tokens.ne(0).view({B, -1, num_levels()}).select(2, 0).unsqueeze(2).to(items.scalar_type());
  // One mask value per item occurrence ([B, T / L, 1]), so dropout removes whole item vectors.
  return items * models::dropout(real_items, spec.item_dropout, is_training());
}

TigerMemory TigerImpl::encode(const torch::Tensor& tokens, const torch::Tensor& users) {
  const auto B = tokens.size(0), T = tokens.size(1);
  TORCH_CHECK(T <= spec.max_items * num_levels(), "history of ", T, " tokens exceeds ", spec.max_items * num_levels());
  auto positions = torch::arange(T - 1, -1, -1, torch::kLong);
  auto x = token_embedding(tokens) + encoder_positions(positions).unsqueeze(0);
  auto valid = tokens.ne(0);
  if (spec.item_buckets > 0) x = x + history_item_vectors(tokens).repeat_interleave(num_levels(), 1);
  if (spec.user_buckets > 0) {
    TORCH_CHECK(users.defined() && users.size(0) == B, "tiger: a user bucket per request is required");
    x = torch::cat({x, user_embedding(users).unsqueeze(1)}, 1);
    valid = torch::cat({valid, torch::ones({B, 1}, torch::kBool)}, 1);
  }
  x = models::dropout(x, spec.dropout, is_training());
  auto bias = torch::zeros(valid.sizes(), torch::kFloat).masked_fill_(valid.logical_not(), kBlocked).view({B, 1, 1, -1});
  for (const auto& layer : *encoder_layers) x = layer->as<EncoderLayer>()->forward(x, bias);
  return {encoder_norm(x), bias, tokens};
}

torch::Tensor TigerImpl::run_decoder(const torch::Tensor& memory, const torch::Tensor& memory_bias, const torch::Tensor& prefix) {
  const auto N = prefix.size(0), P = prefix.size(1), B = memory.size(0);
  TORCH_CHECK(B > 0 && N % B == 0, "tiger: ", N, " decoder sequences for ", B, " requests");
  const auto G = N / B;
  auto x = token_embedding(prefix) + decoder_positions(torch::arange(P, torch::kLong)).unsqueeze(0);
  x = models::dropout(x, spec.dropout, is_training());
  auto causal = torch::full({P, P}, kBlocked).triu(1).view({1, 1, P, P});
  for (const auto& module : *decoder_layers) {
    auto* layer = module->as<DecoderLayer>();
    auto drop = [&](const torch::Tensor& t) { return models::dropout(t, layer->dropout, is_training()); };
    x = x + drop(layer->self_attn->forward(layer->ln_self(x), torch::Tensor(), causal));
    // Cross-attention has no mask between decoder positions, so a request's G sequences can
    // attend as one [G * P]-token query against its keys/values, projected once.
    auto queries = layer->ln_cross(x).view({B, G * P, -1});
    x = x + drop(layer->cross_attn->forward(queries, memory, memory_bias).view({N, P, -1}));
    x = x + drop(layer->feed_forward(x));
  }
  return decoder_norm(x);
}

torch::Tensor TigerImpl::level_logits(const torch::Tensor& hidden, std::int64_t level) {
  const auto size = spec.level_sizes[static_cast<std::size_t>(level)];
  auto weight = spec.tie_output ? token_embedding->weight.narrow(0, token(level, 0), size)
                                : output->weight.narrow(0, offsets[static_cast<std::size_t>(level)], size);
  return torch::matmul(hidden, weight.t());
}

std::vector<torch::Tensor> TigerImpl::decode_teacher_forced(const TigerMemory& m, const torch::Tensor& target_codes) {
  const auto B = target_codes.size(0), L = num_levels();
  TORCH_CHECK(target_codes.size(1) == L, "tiger: targets need ", L, " codes");
  // Decoder input: BOS, then the target's first L-1 codes as tokens.
  auto prefix = torch::empty({B, L}, torch::kLong);
  prefix.select(1, 0).fill_(bos_token());
  for (std::int64_t l = 1; l < L; ++l) prefix.select(1, l).copy_(target_codes.select(1, l - 1) + token(l - 1, 0));
  auto hidden = run_decoder(m.memory, m.bias, prefix);  // [B, L, d]
  std::vector<torch::Tensor> logits;
  for (std::int64_t l = 0; l < L; ++l) logits.push_back(with_repeat_bias(level_logits(hidden.select(1, l), l), m.history, prefix, l));
  return logits;
}

torch::Tensor TigerImpl::continues_history(const torch::Tensor& history, const torch::Tensor& prefix, std::int64_t level) const {
  const auto L = num_levels(), B = history.size(0), N = prefix.size(0);
  TORCH_CHECK(level >= 0 && level < L, "tiger: no level ", level);
  TORCH_CHECK(B > 0 && N % B == 0, "tiger: ", N, " decoder rows for ", B, " histories");
  TORCH_CHECK(history.size(1) % L == 0, "tiger: history of ", history.size(1), " tokens is not whole items of ", L);
  TORCH_CHECK(prefix.size(1) > level, "tiger: a prefix of ", prefix.size(1), " tokens cannot give level ", level, "'s codes");
  const auto K = spec.level_sizes[static_cast<std::size_t>(level)];
  auto items = history.view({B, 1, -1, L}).expand({B, N / B, history.size(1) / L, L}).reshape({N, -1, L});  // [N, M, L]
  auto next = items.select(2, level);  // [N, M] tokens; 0 for padding items
  auto hit = next.ne(0);
  if (level > 0) hit = hit.logical_and(items.narrow(2, 0, level).eq(prefix.narrow(1, 1, level).unsqueeze(1)).all(2));
  auto codes = (next - token(level, 0)).clamp(0, K - 1);
  return torch::zeros({N, K}).scatter_add_(1, codes, hit.to(torch::kFloat)).clamp_max_(1.0);
}

torch::Tensor TigerImpl::with_repeat_bias(torch::Tensor logits, const torch::Tensor& history, const torch::Tensor& prefix,
                                          std::int64_t level) const {
  if (!spec.repeat_bias) return logits;
  TORCH_CHECK(history.defined(), "tiger: repeat_bias needs the encoder's history tokens (TigerMemory::history)");
  return logits + repeat_weight[level] * continues_history(history, prefix, level);
}

DecoderState TigerImpl::start_decoding(const TigerMemory& m, bool kv_cache) {
  DecoderState state;
  state.kv_cache = kv_cache;
  state.memory = m.memory;
  state.memory_bias = m.bias;
  state.prefix = torch::full({m.memory.size(0), 1}, bos_token(), torch::kLong);
  state.history = m.history;
  if (kv_cache) {
    for (const auto& module : *decoder_layers) {
      auto* layer = module->as<DecoderLayer>();
      state.cross_k.push_back(layer->cross_attn->project_keys(m.memory));
      state.cross_v.push_back(layer->cross_attn->project_values(m.memory));
    }
    state.self_k.resize(state.cross_k.size());
    state.self_v.resize(state.cross_k.size());
  }
  return state;
}

torch::Tensor TigerImpl::decode_step(DecoderState& state) {
  const auto step = state.step;
  TORCH_CHECK(step < num_levels(), "tiger: all ", num_levels(), " codes were already generated");
  if (!state.kv_cache) {
    auto hidden = run_decoder(state.memory, state.memory_bias, state.prefix);
    return with_repeat_bias(level_logits(hidden.select(1, step), step), state.history, state.prefix, step);
  }
  auto last = state.prefix.select(1, step).unsqueeze(1);  // [N, 1]
  auto x = token_embedding(last) + decoder_positions->weight[step].view({1, 1, -1});
  for (std::size_t i = 0; i < decoder_layers->size(); ++i) {
    auto* layer = (*decoder_layers)[i]->as<DecoderLayer>();
    auto h = layer->ln_self(x);
    auto k = layer->self_attn->project_keys(h), v = layer->self_attn->project_values(h);
    state.self_k[i] = step == 0 ? k : torch::cat({state.self_k[i], k}, 2);
    state.self_v[i] = step == 0 ? v : torch::cat({state.self_v[i], v}, 2);
    x = x + layer->self_attn->attend(h, state.self_k[i], state.self_v[i], torch::Tensor());
    x = x + layer->cross_attn->attend_shared(layer->ln_cross(x), state.cross_k[i], state.cross_v[i], state.memory_bias);
    x = x + layer->feed_forward(x);
  }
  return with_repeat_bias(level_logits(decoder_norm(x).select(1, 0), step), state.history, state.prefix, step);
}

void TigerImpl::reorder(DecoderState& state, const torch::Tensor& rows) const {
  state.prefix = state.prefix.index_select(0, rows);
  if (state.kv_cache) {  // cross-attention keys/values and the memory bias stay per request
    for (auto* list : {&state.self_k, &state.self_v}) {
      for (auto& t : *list) {
        if (t.defined()) t = t.index_select(0, rows);
      }
    }
  } else {
    state.memory_bias = state.memory_bias.index_select(0, rows);
    state.memory = state.memory.index_select(0, rows);
  }
}

void TigerImpl::append(DecoderState& state, const torch::Tensor& tokens) const {
  state.prefix = torch::cat({state.prefix, tokens.view({-1, 1})}, 1);
  ++state.step;
}

double TigerImpl::flops_per_example(std::int64_t items, std::int64_t decoder_sequences) const {
  const double d = static_cast<double>(spec.d_model), inner = static_cast<double>(spec.num_heads * spec.head_dim);
  const double f = static_cast<double>(spec.ffn_dim), G = static_cast<double>(decoder_sequences);
  const double S = static_cast<double>(items * num_levels() + (spec.user_buckets > 0 ? 1 : 0));
  const double P = static_cast<double>(num_levels());
  // Multiply-adds. Encoder layer: Q, K, V, O projections, scores and context, feed-forward.
  const double encoder_layer = S * (4 * d * inner + 2 * S * inner + 2 * d * f);
  // Decoder layer, per sequence: self-attention (projections, scores, context), cross-attention
  // queries and output, its scores and context over the memory, feed-forward; once per example:
  // the memory's cross-attention keys and values.
  const double decoder_layer = G * P * (6 * d * inner + 2 * P * inner + 2 * S * inner + 2 * d * f) + 2 * S * d * inner;
  // Output: position l scores level l's codes only.
  const double output = G * d * static_cast<double>(total_codes);
  return 2.0 * (static_cast<double>(spec.encoder_layers) * encoder_layer + static_cast<double>(spec.decoder_layers) * decoder_layer + output);
}

std::int64_t hashed_user_bucket(std::int64_t user, std::int64_t buckets) {
  std::uint64_t z = static_cast<std::uint64_t>(user) + 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return static_cast<std::int64_t>(z % static_cast<std::uint64_t>(buckets));
}

}  // namespace tessera::models
