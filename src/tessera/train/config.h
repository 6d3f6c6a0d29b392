#pragma once
// Training configuration: one flat set of named fields, loaded from a JSON file and then
// overridden from the command line with `--set key=value`. Key names follow the papers
// (d_model, num_blocks, num_heads, max_len, num_negatives, ...). The effective configuration is
// saved next to every run (config.json) and inside every checkpoint.
//
// Unknown keys and values of the wrong type are errors that name the file (or "--set") and key.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace tessera::train {

struct TrainConfig {
  // Model.
  std::string model = "sasrec";  // "sasrec", "hstu" or "tiger"
  std::int64_t max_len = 200;    // history length the model sees (most recent items)
  std::int64_t d_model = 50;     // embedding and hidden width
  std::int64_t num_blocks = 2;   // transformer blocks
  std::int64_t num_heads = 1;    // attention heads (d_model must be divisible)
  std::int64_t ffn_dim = 0;      // feed-forward width; 0 = d_model (as in SASRec)
  std::string ffn_activation = "gelu";  // sasrec: "gelu" or "swiglu" (W2 (silu(W1 x) * W3 x))
  double dropout = 0.2;
  bool l2_normalize = false;     // score by cosine similarity / temperature
  double temperature = 1.0;      // used with l2_normalize (HSTU's public setup: 0.05)
  bool item_bias = false;        // sasrec, hstu: a learned score offset per item added to the dot product
  std::int64_t time_buckets = 0; // hstu: attention bias per log-spaced time bucket (needs timestamps); 0 = off
  std::string positions = "from_end";  // sasrec, hstu: learned positions counted "from_end" (most recent
                                       // item = 0, as SASRec) or "from_start" (oldest item read = 0, as HSTU's code)
  double position_init_std = 0.02;  // sasrec, hstu: position embeddings start ~ N(0, std) (HSTU's public
                                    // setup: sqrt(1 / d_model), about 0.141 at d = 50)
  bool layer_norm_affine = true;    // hstu: learned scale and shift in the layer norms (false: plain
                                    // normalisation with eps 1e-6, as HSTU's public code)

  // Generative retrieval (TIGER). num_blocks is the encoder depth.
  std::string semantic_ids;          // semantic-ID file from `tessera tokenize` (required for tiger)
  std::int64_t num_decoder_blocks = 0;  // decoder depth; 0 = num_blocks
  std::int64_t head_dim = 0;         // per-head width (HSTU: d_qk = d_v); 0 = d_model / num_heads
  std::int64_t user_buckets = 0;     // hashed user-ID tokens in the encoder input; 0 = none
  std::int64_t item_buckets = 0;     // tiger: a hashed embedding of each history item (by its full semantic ID)
                                     // added to its tokens in the encoder input; 0 = none (codes only, as the paper)
  double item_dropout = 0.0;         // tiger, training: drop each history item's item embedding with this
                                     // probability (needs item_buckets > 0)
  double label_smoothing = 0.0;      // tiger, training: smooth each level's code target, (1 - eps) on the code
                                     // and eps spread over the codebook; 0 = plain cross-entropy
  std::int64_t history_negatives = 0;  // tiger, training: per example, this many items drawn from its own history
                                       // are pushed down by history_negative_loss (a repeat of the target is
                                       // skipped); 0 = off
  std::string history_negative_loss = "pairwise";  // tiger: "pairwise" ranks the target's full-ID log-likelihood
                                                   // above each drawn item's (logistic); "unlikelihood" adds
                                                   // -log(1 - p(drawn item)), which only bites on likely ones
  double history_negative_weight = 0.1;  // tiger: weight of that loss next to the code cross-entropy. Pairwise on
                                         // Beauty: 0.1 lost to no such loss, 0.3 did worse. Unlikelihood pulls by
                                         // weight x p, so it needs about 10 (BENCHMARKS.md)
  bool tie_output = false;           // score each code with its input embedding row (weight tying) instead of
                                     // a separate output layer
  bool repeat_bias = false;          // tiger: a learned score per level for codes that continue one of the
                                     // user's history items (models/tiger.h); false = the paper's model
  std::int64_t beam_width = 20;      // constrained beam search for validation and inference
  std::int64_t max_targets_per_user = 0;  // train on each user's most recent N targets only; 0 = all

  // Loss.
  std::string loss = "full";          // "full": softmax over all items; "sampled": sampled softmax
  std::int64_t num_negatives = 128;   // sampled softmax: catalogue negatives per batch (shared by all positions)
  bool negatives_per_sequence = false;  // sampled softmax: draw the num_negatives for each sequence of the batch instead
  bool negatives_per_position = false;  // sampled softmax: draw the num_negatives for every position (HSTU's public setup);
                                        // costs as much as the full softmax
  std::string negative_sampler = "uniform";  // "uniform" or "popularity" (unigram^0.75); both logQ-corrected
  std::int64_t in_batch_negatives = 0;  // sampled softmax: also this many targets of the batch as negatives
                                        // (popularity-distributed); logQ uses the mixture of both samplers

  // Item-ID sequence models (SASRec, HSTU).
  bool packed_batches = true;      // jagged batches without padding (HSTU computes on real tokens only)
  bool random_windows = false;     // a sequence longer than max_len + 1 trains on a window at a uniformly
                                   // random place each time it is drawn, not always on its last items
  double stochastic_length_alpha = 0;  // HSTU's stochastic length: 0 = off; else a training sequence of
                                       // n > max_len^(alpha/2) items is cut, with probability
                                       // 1 - max_len^alpha / n^2, to a random ordered subset of that size

  // Optimisation.
  std::int64_t batch_size = 128;   // sequences per step
  bool length_bucketing = true;    // group users of similar length into batches (less padding)
  std::int64_t epochs = 200;       // upper bound; early stopping usually ends sooner
  double lr = 1e-3;
  double weight_decay = 0.0;       // AdamW decoupled weight decay
  double adam_beta2 = 0.98;
  std::int64_t warmup_steps = 100; // linear warmup
  std::string lr_schedule = "constant";  // "constant", "cosine" or "linear" decay after warmup
  double min_lr_ratio = 0.1;       // decay floor as a fraction of lr
  double grad_clip = 1.0;          // max global gradient norm; 0 = off
  double ema_decay = 0.0;          // 0 = off; else validate, save and test an exponential moving
                                   // average of the weights (train/weight_average.h) with this decay

  // Validation, early stopping, checkpoints.
  std::int64_t eval_every = 1;     // epochs between validation runs
  std::int64_t patience = 10;      // stop after this many validations without improvement
  std::int64_t eval_users = 0;     // validate on at most this many users (0 = all)
  bool eval_exclude_history = false;  // mask history items when computing validation NDCG@10
  // Train on every item but the test target (the public HSTU code's ML-1M protocol): the
  // validation target becomes one more training target. Validation would then score items the
  // model was trained on, so no validation runs: the run trains exactly `epochs` epochs and its
  // final model is best.ckpt. Sequence models (sasrec, hstu) only.
  bool train_on_validation = false;
  std::int64_t seed = 42;
  std::int64_t threads = 0;        // 0 = all cores

  // Effective ffn width.
  std::int64_t ffn_width() const { return ffn_dim > 0 ? ffn_dim : d_model; }
  std::int64_t decoder_blocks() const { return num_decoder_blocks > 0 ? num_decoder_blocks : num_blocks; }
  std::int64_t head_width() const { return head_dim > 0 ? head_dim : d_model / num_heads; }

  // Throws tessera::Error if a value is out of range (names the key).
  void validate() const;
};

nlohmann::json to_json(const TrainConfig& config);

// Applies the keys of `json` to `config`. `source` names where they came from (a path or
// "--set") for error messages.
void apply_json(TrainConfig& config, const nlohmann::json& json, const std::string& source);

// A config saved by a run (checkpoint meta, result file) as the current binary reads it: keys it
// lacks, options added after it was written, at their defaults. Throws like apply_json.
nlohmann::json saved_config_json(const nlohmann::json& saved, const std::string& source);

// Reads a JSON config file on top of the defaults.
TrainConfig load_config(const std::string& path);

// Applies "key=value" overrides; the value is parsed as JSON if it can be, else as a string.
void apply_overrides(TrainConfig& config, const std::vector<std::string>& overrides);

}  // namespace tessera::train
