#pragma once
// The one training loop for every model family (the family-specific part is a TrainingTask,
// training_task.h): AdamW with warmup and decay, gradient clipping, early stopping on the
// task's validation metric (NDCG@10 with full ranking for item-ID models, Recall@10 by beam
// search for TIGER), checkpoints every epoch, and exact resume.
//
// A run directory holds:
//   config.json       the effective configuration
//   last.ckpt         the state after the latest finished epoch (resumable)
//   best.ckpt         the weights with the best validation metric so far
//   train_log.jsonl   one JSON line per epoch (loss, throughput, validation metric, lr)
// Resuming from last.ckpt gives bit-identical results to an uninterrupted run with the same
// seed and thread count.

#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "tessera/data/dataset.h"
#include "tessera/models/registry.h"
#include "tessera/models/sequence_model.h"
#include "tessera/train/checkpoint.h"
#include "tessera/train/config.h"

namespace tessera::train {

struct TrainOptions {
  std::string run_dir;                 // created if missing
  bool resume = false;                 // continue from run_dir/last.ckpt
  std::int64_t stop_after_epochs = 0;  // end this call after this many epochs (as if interrupted); 0 = never
  std::string dataset_path;            // recorded in checkpoints, for people
  std::string profile_path;            // if set: chrome-trace JSON of training steps 10..14 (libtorch profiler)
};

struct TrainResult {
  std::int64_t epochs_completed = 0;   // in total, including epochs before a resume
  std::int64_t best_epoch = 0;
  std::string valid_metric;            // what early stopping maximised ("ndcg@10", "recall@10")
  double best_valid_metric = 0;
  bool early_stopped = false;
  double train_seconds = 0;            // wall time in training steps, all epochs of the run (resumes included)
  double total_seconds = 0;            // wall time of this call, validation and checkpoints included
  // Rates over the run's epochs (see train_log.jsonl: epoch_seconds and the work counters).
  double examples_per_second = 0;      // training examples (sequences for SASRec) per training second
  double tokens_per_second = 0;        // positions with a loss per training second
  // 1 - computed / padded token slots over all steps: the share of a padded batch's work that the
  // packed (jagged) path skipped. 0 for the padded path or when the task does not count tokens.
  double padding_fraction_saved = 0;
  double padding_fraction = 0;         // padding slots / padded slots of the batches (what packing can save)
  double achieved_gflops = 0;          // task-estimated FLOPs per second of train_seconds, in GFLOP/s; 0 = unknown
  double final_train_loss = 0;
  std::string best_checkpoint;         // path to best.ckpt
};

// Trains config.model on `dataset`. Throws tessera::Error on bad configuration or inputs.
TrainResult train_model(const data::Dataset& dataset, const TrainConfig& config, const TrainOptions& options);

// An item-ID sequence model restored from a checkpoint for evaluation or recommendation (eval
// mode). TIGER checkpoints load with tiger_task.h::load_trained_tiger().
struct TrainedModel {
  std::shared_ptr<models::SequenceModelImpl> model;
  TrainConfig config;
  nlohmann::json meta;  // checkpoint metadata (dataset name and fingerprint, epoch, ...)
};

// Loads best.ckpt / last.ckpt (or any checkpoint path). If `dataset` is given, checks that the
// checkpoint was trained on it (same fingerprint) and throws tessera::Error if not.
TrainedModel load_trained_model(const std::string& checkpoint_path, const data::Dataset* dataset = nullptr);
// The same for a checkpoint already read from `path` (named in errors).
TrainedModel load_trained_model(const Checkpoint& checkpoint, const std::string& path, const data::Dataset* dataset);

// The model spec a config describes, for a dataset with num_items items.
models::ModelSpec model_spec(const TrainConfig& config, std::int64_t num_items);

}  // namespace tessera::train
