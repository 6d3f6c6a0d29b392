#include "tessera/train/training_task.h"

#include "tessera/core/error.h"
#include "tessera/train/sequence_task.h"
#include "tessera/train/tiger_task.h"

namespace tessera::train {

std::unique_ptr<TrainingTask> make_training_task(const data::Dataset& dataset, const TrainConfig& config) {
  if (config.model == "tiger") return make_tiger_task(dataset, config);
  if (config.model == "sasrec") return make_sequence_task(dataset, config);
  throw Error("config key 'model': unknown model '" + config.model + "'");
}

}  // namespace tessera::train
