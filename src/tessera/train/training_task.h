#pragma once
// TrainingTask: what one model family contributes to the shared training loop (trainer.h).
//
// The loop owns everything that is the same for every model: epochs, shuffling and length
// bucketing, learning-rate schedule, AdamW, clipping, validation cadence, early stopping,
// checkpoints, exact resume, logs and progress. A task owns the model, turns a batch of its
// training examples into a loss, and validates the model on the validation split. Item-ID
// sequence models (SASRec, HSTU) train one example per user (every position carries a loss);
// TIGER trains one example per (history, next item) pair.
//
// Tasks are used from one thread.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "tessera/data/dataset.h"
#include "tessera/eval/evaluator.h"
#include "tessera/train/config.h"

namespace tessera::train {

class TrainingTask {
 public:
  virtual ~TrainingTask() = default;

  // Checkpoint "kind" ("sequence_model", "tiger"), and the unit of progress ("seq", "ex").
  virtual std::string kind() const = 0;
  virtual std::string unit() const = 0;

  virtual torch::nn::Module& module() = 0;

  // Training examples of one epoch are 0..num_examples()-1; example_length() (history length)
  // groups similar lengths into batches when length_bucketing is on.
  virtual std::int64_t num_examples() const = 0;
  virtual std::int64_t example_length(std::int64_t example) const = 0;

  struct StepLoss {
    torch::Tensor loss;         // scalar, differentiable
    std::int64_t targets = 0;   // predictions that carry a loss (tokens for throughput)
    // Token slots: `real_tokens` are the input tokens that are items, `computed_tokens` what the
    // model actually ran on (= real_tokens for a packed batch), `padded_tokens` what a padded
    // [B, L] batch of the same examples holds. All 0 when the task does not count them.
    std::int64_t real_tokens = 0;
    std::int64_t computed_tokens = 0;
    std::int64_t padded_tokens = 0;
    double flops = 0;           // estimated forward + backward FLOPs of the step (model + loss); 0 = unknown
  };
  // Loss of one batch in training mode. `step` (0-based optimizer step) seeds any sampling.
  virtual StepLoss loss(const std::vector<std::int64_t>& examples, std::int64_t step) = 0;

  // The validation metric that early stopping maximises ("ndcg@10", "recall@10"), and a
  // validation run that returns it (and optionally more metrics, keyed the same way).
  virtual std::string metric() const = 0;
  virtual std::map<std::string, double> validate() = 0;
  // A second metric of validate() that decides between epochs whose metric() ties (see
  // model_selection.h); empty = none, a tie keeps the earlier epoch.
  virtual std::string tiebreak_metric() const { return ""; }

  // Extra metadata saved in every checkpoint so the model can be rebuilt from it alone
  // (e.g. TIGER's semantic IDs). Default: none.
  virtual nlohmann::json model_meta() const { return nlohmann::json::object(); }
};

// The evaluation options of validation runs during training: validation split, cutoff 10, no
// bootstrap, config.eval_users users and config.eval_exclude_history.
eval::EvalOptions validation_options(const TrainConfig& config);

// The task for config.model (throws tessera::Error for an unknown model or bad inputs, such as
// a semantic-ID file made for another dataset). The seed must already be set.
std::unique_ptr<TrainingTask> make_training_task(const data::Dataset& dataset, const TrainConfig& config);

}  // namespace tessera::train
