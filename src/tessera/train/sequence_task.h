#pragma once
// The training task of item-ID sequence models (SASRec, HSTU): one example per user, next-item
// prediction at every position of the user's training sequence, full or sampled softmax over the
// item table, validation NDCG@10 with full ranking.

#include <memory>

#include "tessera/train/training_task.h"

namespace tessera::train {

std::unique_ptr<TrainingTask> make_sequence_task(const data::Dataset& dataset, const TrainConfig& config);

}  // namespace tessera::train
