// tessera eval: full-catalogue leave-last-out evaluation of a checkpoint next to the popularity baseline.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "cli/commands.h"
#include "tessera/core/atomic_file.h"
#include "tessera/core/error.h"
#include "tessera/data/dataset.h"
#include "tessera/eval/evaluator.h"
#include "tessera/eval/popularity.h"
#include "tessera/eval/report.h"
#include "tessera/infer/model_loader.h"

namespace tessera::cli {

void add_eval_command(CLI::App& app) {
  struct Args {
    std::string data, checkpoint, json_out, split = "both";
    bool exclude_history = false, no_popularity = false, beam_renormalize = false;
    int bootstrap = 1000;
    int beam_width = 0;  // 0: the checkpoint's own
    std::vector<int> cutoffs = eval::default_cutoffs();
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("eval", "Evaluate a checkpoint (SASRec: full ranking; TIGER: beam search) with HR/Recall, NDCG, MRR and 95% bootstrap CIs");
  cmd->add_option("--data", args->data, "Prepared dataset (.tsd) the model was trained on")->required();
  cmd->add_option("--checkpoint", args->checkpoint, "Checkpoint (e.g. runs/x/best.ckpt); omit to evaluate popularity only");
  cmd->add_option("--split", args->split, "validation, test or both")->check(CLI::IsMember({"validation", "test", "both"}));
  cmd->add_flag("--exclude-history", args->exclude_history, "Remove each user's history items from the ranking (HSTU protocol)");
  cmd->add_flag("--no-popularity", args->no_popularity, "Skip the popularity baseline");
  cmd->add_option("--bootstrap", args->bootstrap, "Bootstrap resamples for the 95% intervals (0 = none)")->check(CLI::Range(0, 100000));
  cmd->add_option("--cutoffs", args->cutoffs, "K values for HR@K/NDCG@K")->delimiter(',');
  cmd->add_option("--beam-width", args->beam_width, "TIGER only: beam width for this evaluation (default: the checkpoint's)")
      ->check(CLI::Range(1, 10000));
  cmd->add_flag("--beam-renormalize", args->beam_renormalize,
                "TIGER only: softmax over the codes the trie allows at each step instead of over all codes");
  cmd->add_option("--json", args->json_out, "Write all results as JSON to this file");
  cmd->callback([args] {
    auto dataset = data::load_dataset(args->data);
    std::optional<infer::LoadedModel> model;
    if (!args->checkpoint.empty()) model = infer::LoadedModel::load(args->checkpoint, &dataset);
    if (args->beam_width > 0 || args->beam_renormalize) {
      if (!model || !model->tiger()) {
        throw Error(std::string(args->beam_width > 0 ? "--beam-width" : "--beam-renormalize") + " applies to TIGER checkpoints only; " +
                    (model ? "'" + args->checkpoint + "' is a " + model->name() + " model" : std::string("no --checkpoint was given")));
      }
      if (args->beam_width > 0) model->tiger()->options().beam_width = args->beam_width;
      if (args->beam_renormalize) model->tiger()->options().renormalize = true;
    }
    std::optional<eval::PopularityScorer> popularity;
    if (!args->no_popularity || !model) popularity.emplace(dataset);
    std::vector<data::Split> splits;
    if (args->split != "test") splits.push_back(data::Split::kValidation);
    if (args->split != "validation") splits.push_back(data::Split::kTest);

    nlohmann::json out = {{"dataset", dataset.name}, {"checkpoint", args->checkpoint}, {"results", nlohmann::json::array()}};
    for (auto split : splits) {
      eval::EvalOptions options;
      options.split = split;
      options.cutoffs = args->cutoffs;
      options.exclude_history = args->exclude_history;
      options.bootstrap_samples = args->bootstrap;
      std::vector<eval::EvalResult> results;
      if (model) results.push_back(model->evaluate(dataset, options));
      if (popularity) results.push_back(eval::evaluate(*popularity, dataset, options));
      fmt::print("{}\n", eval::format_table(results));
      for (const auto& r : results) out["results"].push_back(eval::to_json(r));
    }
    if (!args->json_out.empty()) {
      write_text_atomically(args->json_out, out.dump(2) + "\n");
      fmt::print("wrote {}\n", args->json_out);
    }
  });
}

}  // namespace tessera::cli
