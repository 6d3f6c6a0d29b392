#include "tessera/train/training_task.h"

#include "tessera/core/error.h"
#include "tessera/train/sequence_task.h"
#include "tessera/train/tiger_task.h"

namespace tessera::train {

eval::EvalOptions validation_options(const TrainConfig& config) {
  eval::EvalOptions options;
  options.split = data::Split::kValidation;
  options.cutoffs = {10};
  options.exclude_history = config.eval_exclude_history;
  options.bootstrap_samples = 0;
  options.max_users = config.eval_users;
  return options;
}

std::unique_ptr<TrainingTask> make_training_task(const data::Dataset& dataset, const TrainConfig& config) {
  if (config.model == "tiger") return make_tiger_task(dataset, config);
  if (config.model == "sasrec" || config.model == "hstu") return make_sequence_task(dataset, config);
  throw Error("config key 'model': unknown model '" + config.model + "'");
}

}  // namespace tessera::train
