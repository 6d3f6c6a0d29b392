#pragma once
// Loads any tessera model checkpoint (item-ID sequence model or TIGER) behind one object, so
// that `tessera eval`, `tessera recommend`, benchmarks and serving need no per-family code.
//
// Not thread-safe: one caller at a time.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tessera/data/dataset.h"
#include "tessera/eval/evaluator.h"
#include "tessera/infer/retrieval.h"
#include "tessera/infer/tiger_recommender.h"
#include "tessera/train/checkpoint.h"
#include "tessera/train/config.h"

namespace tessera::infer {

class LoadedModel {
 public:
  // Reads the checkpoint's kind and restores the model in eval mode. If `dataset` is given,
  // the checkpoint must have been trained on it. Throws tessera::Error naming the file.
  static LoadedModel load(const std::string& checkpoint_path, const data::Dataset* dataset);
  // The same for a checkpoint already in memory (e.g. from a model bundle); `where` names it in
  // errors.
  static LoadedModel from_checkpoint(const train::Checkpoint& checkpoint, const std::string& where, const data::Dataset* dataset);

  const std::string& kind() const { return kind_; }  // "sequence_model" or "tiger"
  const train::TrainConfig& config() const { return config_; }
  std::string name() const { return config_.model; }

  // Full-ranking (sequence models) or beam-search (TIGER) evaluation with the same options.
  eval::EvalResult evaluate(const data::Dataset& dataset, const eval::EvalOptions& options);

  // Top k items after each history, best first; with exclude_history, items of the history
  // are never returned (TIGER's beam search skips them). TIGER widens its beam to k if the
  // configured beam is narrower. users: dataset user IDs for TIGER's user token, or empty.
  // timestamps: one list per history (same lengths); required when uses_time(), else ignored.
  std::vector<std::vector<ScoredItem>> recommend(std::span<const std::int64_t> users,
                                                 const std::vector<std::span<const std::int32_t>>& histories, std::int64_t k,
                                                 bool exclude_history, const Timestamps* timestamps = nullptr);

  // Whether the model reads the histories' timestamps (HSTU with time buckets).
  bool uses_time() const { return sequence_model_ && sequence_model_->uses_time(); }

  // TIGER only (nullptr otherwise): the generator and its semantic IDs.
  TigerRecommender* tiger() { return tiger_.get(); }

 private:
  std::string kind_;
  train::TrainConfig config_;
  std::shared_ptr<models::SequenceModelImpl> sequence_model_;
  std::unique_ptr<SequenceModelScorer> scorer_;
  std::unique_ptr<TigerRecommender> tiger_;
};

}  // namespace tessera::infer
