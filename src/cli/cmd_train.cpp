// tessera train: fit a sequence model on a prepared dataset.
#include <filesystem>

#include <fmt/format.h>

#include "cli/commands.h"
#include "tessera/core/error.h"
#include "tessera/data/dataset.h"
#include "tessera/train/trainer.h"

namespace tessera::cli {

void add_train_command(CLI::App& app) {
  struct Args {
    std::string data, config, out;
    std::vector<std::string> overrides;
    bool resume = false;
    std::int64_t stop_after = 0;
    std::string profile;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("train", "Train a model (SASRec, HSTU or TIGER; the config's model key) with early stopping on validation (NDCG@10; Recall@10 for TIGER)");
  cmd->add_option("--data", args->data, "Prepared dataset (.tsd) from `tessera prepare`")->required();
  cmd->add_option("--config", args->config, "JSON config file (see configs/); defaults are used for missing keys");
  cmd->add_option("--set", args->overrides, "Override a config key: --set d_model=64 --set loss=sampled");
  cmd->add_option("--out", args->out, "Run directory for config.json, checkpoints and train_log.jsonl")->required();
  cmd->add_flag("--resume", args->resume, "Continue the interrupted run in --out from last.ckpt (uses its config.json)");
  cmd->add_option("--stop-after-epochs", args->stop_after, "Stop after this many epochs in this call (resume later)");
  cmd->add_option("--profile", args->profile, "Write a chrome-trace profile of training steps 10-14 to this file");
  cmd->callback([args] {
    auto dataset = data::load_dataset(args->data);
    train::TrainConfig config;
    if (args->resume && args->config.empty()) {
      const auto saved = (std::filesystem::path(args->out) / "config.json").string();
      if (!std::filesystem::exists(saved)) {
        throw Error(fmt::format("--resume: {} holds no run to resume ({} is missing)", args->out, saved));
      }
      config = train::load_config(saved);
    } else if (!args->config.empty()) {
      config = train::load_config(args->config);
    }
    train::apply_overrides(config, args->overrides);
    train::TrainOptions options;
    options.run_dir = args->out;
    options.resume = args->resume;
    options.stop_after_epochs = args->stop_after;
    options.dataset_path = args->data;
    options.profile_path = args->profile;
    auto r = train::train_model(dataset, config, options);
    if (config.train_on_validation) {
      fmt::print("trained {} on {} (training included the validation targets): {} epochs, no validation\n", config.model, dataset.name,
                 r.epochs_completed);
    } else {
      fmt::print("trained {} on {}: {} epochs{}, best validation {} {:.4f} at epoch {}\n", config.model, dataset.name,
                 r.epochs_completed, r.early_stopped ? " (early stop)" : "", r.valid_metric, r.best_valid_metric, r.best_epoch);
    }
    fmt::print("training: {:.1f} s, {:.1f} examples/s, {:.0f} tokens/s\n", r.train_seconds, r.examples_per_second, r.tokens_per_second);
    fmt::print("best checkpoint: {}\n", r.best_checkpoint);
  });
}

}  // namespace tessera::cli
