#pragma once
// TIGER (Rajput et al., NeurIPS 2023): an encoder-decoder transformer that reads a user's history
// as semantic-ID tokens and generates the next item's semantic ID, one code per decoder step.
//
// Vocabulary. Semantic IDs have `num_levels` positions; position l has level_sizes[l] codes.
// Token 0 is padding, code c at level l is token 1 + offset(l) + c, and the last token is the
// decoder's begin-of-sequence. Input and output share this token space, but the logits of
// decoder step l are taken over level l's codes only (a generated ID is always well-formed).
//
// Encoder input: the history's items, oldest first, each as its num_levels tokens, left-padded
// ([B, T] int64, T = items * num_levels), with learned positions counted from the most recent
// token, plus an optional hashed user token appended after the history. With item_buckets > 0,
// each history item's tokens also get one embedding of the item itself, looked up by a hash of
// its full semantic ID (which names exactly one item) into item_buckets rows; in training,
// item_dropout removes each occurrence's item embedding with that probability (the survivors are
// scaled by 1 / (1 - item_dropout)), so the model cannot lean on memorised items alone.
//
// Repeat bias (repeat_bias): one learned score per level, added to the logit of every code that,
// after the codes generated so far, continues the semantic ID of one of the request's own history
// items (the items the encoder reads). At the last level that marks exactly the history items;
// at earlier levels it marks the prefixes they share with the candidate. The scores start at 0
// and are trained with everything else, so the model learns from the data how much a repeat (or
// a close relative of a history item) is worth: on Beauty, where users never take an item twice,
// the last level's score went to about -2.3 (BENCHMARKS.md). Training and beam search add it
// alike (TigerMemory::history carries the history to the decoder).
//
// Decoding: teacher-forced for training (decode_teacher_forced), or step by step with a
// DecoderState for beam search (infer/beam_search.h). The state caches each decoder layer's
// cross-attention keys/values (computed once per request) and self-attention keys/values (one
// row appended per step); with the cache off, every step re-runs the decoder on the whole
// prefix, for comparison.
//
// Not thread-safe in training mode; in eval mode concurrent calls with separate states are safe.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "tessera/models/attention.h"

namespace tessera::models {

struct TigerSpec {
  std::vector<std::int64_t> level_sizes;  // codes per semantic-ID position (disambiguation included)
  std::int64_t max_items = 20;            // history items the encoder reads (most recent)
  std::int64_t d_model = 128;
  std::int64_t num_heads = 6;
  std::int64_t head_dim = 64;
  std::int64_t ffn_dim = 1024;
  std::int64_t encoder_layers = 4;
  std::int64_t decoder_layers = 4;
  double dropout = 0.1;
  std::int64_t user_buckets = 0;  // hashed user-ID tokens; 0 = no user token
  std::int64_t item_buckets = 0;  // hashed per-item embeddings added to history tokens; 0 = none
  double item_dropout = 0.0;      // training: drop a history item's whole item embedding with this probability
  bool tie_output = false;        // score codes with their input embedding rows instead of a separate output layer
  bool repeat_bias = false;       // learned per-level score for codes that continue a history item (file comment)
};

// Encoder output for a batch of B requests.
struct TigerMemory {
  torch::Tensor memory;  // [B, S, d_model] float
  torch::Tensor bias;    // [B, 1, 1, S] float additive mask (0 = real token, -1e9 = padding)
  torch::Tensor history; // [B, T] int64: the encoder's input tokens (history_tokens()), read by repeat_bias
};

// Incremental decoding state of N sequences (beams); see the file comment.
struct DecoderState {
  bool kv_cache = true;
  std::int64_t step = 0;                     // codes generated so far
  torch::Tensor memory, memory_bias;         // [N, S, d], [N, 1, 1, S]; cache mode: bias per request [B, 1, 1, S]
  std::vector<torch::Tensor> cross_k, cross_v;  // per layer [B, H, S, hd] (cache mode): one per request, shared by its beams
  std::vector<torch::Tensor> self_k, self_v;    // per layer [N, H, step+1, hd] (cache mode)
  torch::Tensor prefix;                      // [N, step+1] int64 decoder input tokens so far
  torch::Tensor history;                     // [B, T] per request: TigerMemory::history
};

struct EncoderLayerImpl : torch::nn::Module {
  EncoderLayerImpl(const TigerSpec& spec);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& bias);
  double dropout;
  torch::nn::LayerNorm ln_attn{nullptr}, ln_ffn{nullptr};
  MultiHeadAttention attn{nullptr};
  torch::nn::Linear ffn_in{nullptr}, ffn_out{nullptr};
};
TORCH_MODULE(EncoderLayer);

struct DecoderLayerImpl : torch::nn::Module {
  DecoderLayerImpl(const TigerSpec& spec);
  double dropout;
  torch::nn::LayerNorm ln_self{nullptr}, ln_cross{nullptr}, ln_ffn{nullptr};
  MultiHeadAttention self_attn{nullptr}, cross_attn{nullptr};
  torch::nn::Linear ffn_in{nullptr}, ffn_out{nullptr};
  torch::Tensor feed_forward(const torch::Tensor& x);
};
TORCH_MODULE(DecoderLayer);

struct TigerImpl : torch::nn::Module {
  explicit TigerImpl(TigerSpec spec);

  std::int64_t num_levels() const { return static_cast<std::int64_t>(spec.level_sizes.size()); }
  std::int64_t token(std::int64_t level, std::int64_t code) const { return 1 + offsets[static_cast<std::size_t>(level)] + code; }
  std::int64_t bos_token() const { return 1 + total_codes; }

  // Encoder input for histories of semantic IDs. codes: row-major item codes as in
  // tokenize::SemanticIds::codes ((num_items + 1) * num_levels); histories: item IDs, oldest
  // first (the most recent max_items are used). Returns [B, T] int64 left-padded tokens.
  torch::Tensor history_tokens(std::span<const std::int32_t> codes, const std::vector<std::span<const std::int32_t>>& histories) const;

  // The item_embedding row of each history item in tokens ([B, T] from history_tokens()):
  // [B, T / num_levels] int64 in [0, item_buckets), the same for every occurrence of an item.
  // Padding items get row 0 too; encode() masks them out.
  torch::Tensor item_buckets_of(const torch::Tensor& tokens) const;

  // What encode() adds for each history item's own identity: [B, T / num_levels, d_model], the
  // item_embedding row of each real item (zero for padding items), with item_dropout applied in
  // training mode. Requires item_buckets > 0.
  torch::Tensor history_item_vectors(const torch::Tensor& tokens);

  // tokens: [B, T] int64 from history_tokens(); users: [B] int64 bucket IDs in [0, user_buckets)
  // or undefined (required iff user_buckets > 0).
  TigerMemory encode(const torch::Tensor& tokens, const torch::Tensor& users);

  // Training: target codes [N, num_levels] int64, N = B * G: G candidate IDs per request
  // (request b's in rows b*G .. b*G+G-1), each decoded as its own sequence while the
  // cross-attention keys/values are computed once per request. Returns per-level logits,
  // [N, level_sizes[l]].
  std::vector<torch::Tensor> decode_teacher_forced(const TigerMemory& memory, const torch::Tensor& target_codes);

  // Beam search: a state for the B requests of `memory`, then one step at a time.
  DecoderState start_decoding(const TigerMemory& memory, bool kv_cache);
  // Feeds state.prefix's last token and returns logits over level state.step's codes [N, K].
  torch::Tensor decode_step(DecoderState& state);
  // Appends the chosen tokens ([N] int64, decoder vocabulary) after reorder(): state rows
  // become rows `rows` ([N'] int64) of the old state. rows must keep every request's beams
  // together and in request order (new row i belongs to request i / (N' / B)), as beam search
  // does, so the per-request cross-attention cache is never copied.
  void reorder(DecoderState& state, const torch::Tensor& rows) const;
  void append(DecoderState& state, const torch::Tensor& tokens) const;

  // Logits over level `level`'s codes for decoder outputs hidden [N, d_model]: [N, level_sizes[level]].
  torch::Tensor level_logits(const torch::Tensor& hidden, std::int64_t level);

  // The repeat-bias feature: [N, level_sizes[level]] float, 1 where code c at `level`, after the
  // first `level` codes of decoder row n (prefix: [N, > level] decoder tokens, BOS first), makes
  // the start of a semantic ID among the items of history row n / (N / B) (history: [B, T]
  // tokens from history_tokens(); padding items never match), else 0.
  torch::Tensor continues_history(const torch::Tensor& history, const torch::Tensor& prefix, std::int64_t level) const;

  // Forward FLOPs (2 per multiply-add) of one training example with a history of `items` items:
  // the encoder over its tokens, then `decoder_sequences` teacher-forced code sequences (the
  // target and any history negatives) that share one projection of the memory's
  // cross-attention keys and values, each with its output logits.
  double flops_per_example(std::int64_t items, std::int64_t decoder_sequences = 1) const;

  TigerSpec spec;
  std::vector<std::int64_t> offsets;  // offsets[l] = sum of level_sizes[0..l)
  std::int64_t total_codes = 0;
  torch::nn::Embedding token_embedding{nullptr}, encoder_positions{nullptr}, decoder_positions{nullptr};
  torch::nn::Embedding user_embedding{nullptr}, item_embedding{nullptr};
  torch::nn::ModuleList encoder_layers{nullptr}, decoder_layers{nullptr};
  torch::nn::LayerNorm encoder_norm{nullptr}, decoder_norm{nullptr};
  torch::nn::Linear output{nullptr};  // d_model -> total_codes (level l uses rows offsets[l] ...); none when tied
  torch::Tensor repeat_weight;        // [num_levels] learned repeat-bias scores; undefined without repeat_bias

 private:
  // prefix: [B * G, P] decoder tokens, G sequences per request of memory ([B, S, d]).
  torch::Tensor run_decoder(const torch::Tensor& memory, const torch::Tensor& memory_bias, const torch::Tensor& prefix);
  // logits [N, K] of `level` plus, with repeat_bias, repeat_weight[level] x continues_history().
  torch::Tensor with_repeat_bias(torch::Tensor logits, const torch::Tensor& history, const torch::Tensor& prefix, std::int64_t level) const;
};
TORCH_MODULE(Tiger);

// The user token of dataset user `user` when the model has `buckets` user buckets (a fixed
// 64-bit mix of the ID, modulo buckets; the TIGER paper hashes users into 2,000 buckets).
std::int64_t hashed_user_bucket(std::int64_t user, std::int64_t buckets);

}  // namespace tessera::models
