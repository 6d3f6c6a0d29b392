#pragma once
// The interface shared by every item-ID sequence model (SASRec now, HSTU next): it reads a batch
// of histories and returns one hidden vector per position; the score of item i at a position is
// the dot product of that vector with row i of item_embeddings(). Training (losses), evaluation
// and retrieval use only this interface.
//
// Histories are left-padded: a batch is [B, L] int64 with 0 = padding, and each row's most
// recent item sits in the last column, so the hidden state that predicts the next item of every
// user is hidden[:, L-1].

#include <cstdint>
#include <string>

#include <torch/torch.h>

namespace tessera::models {

// What every item-ID sequence model is built from (the model-related keys of the config).
struct ModelSpec {
  std::string name = "sasrec";  // "sasrec" or "hstu"
  std::int64_t num_items = 0;   // items are 1..num_items, 0 = padding
  std::int64_t max_len = 200;   // longest history the model reads
  std::int64_t d_model = 50;
  std::int64_t num_blocks = 2;
  std::int64_t num_heads = 1;
  std::int64_t head_dim = 0;    // HSTU: per-head width of Q, K and V (d_qk = d_v); 0 = d_model / num_heads
  std::int64_t ffn_dim = 50;
  // SASRec's feed-forward layer: "gelu" (W2 gelu(W1 x)) or "swiglu" (W2 (silu(W1 x) * W3 x), as in
  // LLaMA-style and eSASRec blocks; W1 and W3 are one [2 ffn_dim, d] projection).
  std::string ffn_activation = "gelu";
  double dropout = 0.2;
  // Score = cos(hidden, item) / temperature instead of the raw dot product (as in HSTU's public
  // setup): encode() returns unit-length states divided by the temperature and
  // item_embeddings() unit-length rows, so every consumer still takes plain dot products.
  bool l2_normalize = false;
  double temperature = 1.0;
  // A learned scalar per item added to its score (a popularity prior the dot product does not
  // have to encode). Kept inside the dot-product contract: encode() appends a constant 1 to every
  // hidden state and item_embeddings() the bias as a last column, so both are d + 1 wide.
  bool item_bias = false;
  // HSTU: learned attention bias per time bucket of the gap t_i - t_j between a query item and
  // each earlier item (models/jagged_attention.h time_bucket). 0 = off; otherwise 1..256 buckets,
  // and every history must come with timestamps.
  std::int64_t time_buckets = 0;
  // Where learned positions are counted from: the most recent item (false: position 0 is the
  // item whose successor is predicted, as in SASRec's left-padded code) or the oldest item the
  // model reads (true: position 0 is the first item of the window, as in HSTU's right-padded
  // public code, so a position says how far into the history an item is).
  bool positions_from_start = false;
  // Standard deviation of the learned position embeddings at the start, N(0, std). HSTU's public
  // setup uses sqrt(1 / d_model) (truncated at 2 std), so a position starts with about the norm
  // of an item row times sqrt(d); at 0.02 positions start almost silent.
  double position_init_std = 0.02;
  // HSTU: LayerNorms with a learned scale and shift (true), or plain normalisation with eps
  // 1e-6 (false, as HSTU's public code).
  bool layer_norm_affine = true;
};

// The scoring space shared by every model. With l2_normalize, hidden states [..., d] become unit
// length / temperature and item rows [V + 1, d] unit length (row 0 stays 0). With item_bias, a
// constant 1 is appended to every hidden state and `bias` ([V + 1], required then) to the item
// rows as a last column. Both return their input unchanged when neither option is on.
torch::Tensor scoring_hidden(const torch::Tensor& hidden, const ModelSpec& spec);
torch::Tensor scoring_items(const torch::Tensor& item_rows, const ModelSpec& spec, const torch::Tensor& bias = {});

// The [V + 1] parameter behind ModelSpec::item_bias, registered on `model` as "item_bias" and
// starting at 0; an undefined tensor when the option is off.
torch::Tensor register_item_bias(torch::nn::Module& model, const ModelSpec& spec);

// The learned-position index of every input token, as spec.positions_from_start says:
// for a left-padded batch (valid: [B, L] bool, false = padding) [B, L] int64 (0 in padding),
// for a packed batch (offsets [B + 1]) [T] int64.
torch::Tensor padded_positions(const torch::Tensor& valid, const ModelSpec& spec);
torch::Tensor packed_positions(const torch::Tensor& offsets, const ModelSpec& spec);

struct SequenceModelImpl : torch::nn::Module {
  // items: [B, L] int64, 0 = padding, left-padded. Returns hidden states [B, L, d] float.
  // timestamps: [B, L] int64 seconds in the same layout, or undefined; models that use time
  // (uses_time()) require them, the others ignore them.
  virtual torch::Tensor encode(const torch::Tensor& items, const torch::Tensor& timestamps = {}) = 0;

  // The same on packed sequences (models/packing.h): items [T] int64 (no padding), offsets
  // [B + 1] int64, timestamps [T] int64 or undefined. Returns [T, d]. Models with a jagged path
  // (HSTU) compute on real tokens only; the default pads to [B, longest], runs encode() and
  // drops the padding rows.
  virtual torch::Tensor encode_packed(const torch::Tensor& items, const torch::Tensor& offsets, const torch::Tensor& timestamps = {});

  // Whether encode() needs the histories' timestamps (HSTU with time buckets).
  virtual bool uses_time() const { return false; }

  // Output item table [num_items + 1, d] float; row 0 is padding and is never a valid item.
  virtual torch::Tensor item_embeddings() = 0;

  // Forward FLOPs of encode() per real (non-padding) token, for throughput reports.
  virtual double flops_per_token(std::int64_t sequence_length) const = 0;
};

}  // namespace tessera::models
