#pragma once
// The training task of TIGER (models/tiger.h): one example per (history, next item) pair of
// every user's training sequence (each position after the first is a target; the history is
// the up to max_len items before it; with max_targets_per_user only each user's most recent
// targets), teacher-forced cross-entropy over the target's semantic-ID
// codes (mean over levels), plus, with history_negatives > 0, a loss on items drawn from the
// same history (pairwise: rank the target's whole-ID log-likelihood above theirs;
// unlikelihood: lower their probability), and validation Recall@10 by constrained beam search.
//
// The semantic IDs come from config.semantic_ids and must have been made for the same dataset
// (fingerprint and item count are checked). A copy of them is stored in every checkpoint, so a
// checkpoint alone rebuilds the model and its trie.

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "tessera/models/tiger.h"
#include "tessera/tokenize/semantic_ids.h"
#include "tessera/train/checkpoint.h"
#include "tessera/train/training_task.h"

namespace tessera::train {

std::unique_ptr<TrainingTask> make_tiger_task(const data::Dataset& dataset, const TrainConfig& config);

// The model a config describes for these semantic IDs.
models::TigerSpec tiger_spec(const TrainConfig& config, const tokenize::SemanticIds& ids);

struct TrainedTiger {
  std::shared_ptr<models::TigerImpl> model;  // eval mode
  std::shared_ptr<const tokenize::SemanticIds> semantic_ids;
  TrainConfig config;
  nlohmann::json meta;
};

// Loads a TIGER checkpoint (best.ckpt, last.ckpt). If `dataset` is given, checks that the
// checkpoint was trained on it. Throws tessera::Error naming the file otherwise.
TrainedTiger load_trained_tiger(const std::string& checkpoint_path, const data::Dataset* dataset = nullptr);
// The same for a checkpoint already read from `path` (named in errors).
TrainedTiger load_trained_tiger(const Checkpoint& checkpoint, const std::string& path, const data::Dataset* dataset);

}  // namespace tessera::train
