// tessera eval: full-catalogue leave-last-out evaluation of a checkpoint next to the popularity baseline.
#include <fmt/format.h>

#include <cmath>
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
    std::vector<double> level_weights;
    double popularity_weight = 0;
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
  cmd->add_option("--beam-level-weights", args->level_weights,
                 "TIGER only: scale each level's log-probability in the beam score (one weight per level, e.g. 1,1,0.5,1)")
      ->delimiter(',');
  cmd->add_option("--beam-popularity-weight", args->popularity_weight,
                  "TIGER only: add this weight (negative: a penalty) times log(1 + training count) of an item to a beam that finishes on it")
      ->check(CLI::Range(-100.0, 100.0));
  cmd->add_option("--json", args->json_out, "Write all results as JSON to this file");
  cmd->callback([args] {
    auto dataset = data::load_dataset(args->data);
    std::optional<infer::LoadedModel> model;
    if (!args->checkpoint.empty()) model = infer::LoadedModel::load(args->checkpoint, &dataset);
    const char* tiger_flag = args->beam_width > 0              ? "--beam-width"
                             : args->beam_renormalize            ? "--beam-renormalize"
                             : !args->level_weights.empty()      ? "--beam-level-weights"
                             : args->popularity_weight != 0      ? "--beam-popularity-weight"
                                                                 : nullptr;
    if (tiger_flag) {
      if (!model || !model->tiger()) {
        throw Error(std::string(tiger_flag) + " applies to TIGER checkpoints only; " +
                    (model ? "'" + args->checkpoint + "' is a " + model->name() + " model" : std::string("no --checkpoint was given")));
      }
      auto& beam = model->tiger()->options();
      if (args->beam_width > 0) beam.beam_width = args->beam_width;
      if (args->beam_renormalize) beam.renormalize = true;
      const auto levels = model->tiger()->semantic_ids().num_levels();
      if (!args->level_weights.empty() && static_cast<std::int64_t>(args->level_weights.size()) != levels) {
        throw Error(fmt::format("--beam-level-weights: {} weights given, but '{}' generates {} levels (one weight each)",
                                args->level_weights.size(), args->checkpoint, levels));
      }
      beam.level_weights = args->level_weights;  // the beam search also refuses negative weights
      if (args->popularity_weight != 0) {
        const auto counts = eval::training_item_counts(dataset);
        beam.item_bonus.resize(counts.size());
        for (std::size_t i = 0; i < counts.size(); ++i) {
          beam.item_bonus[i] = static_cast<float>(args->popularity_weight * std::log1p(static_cast<double>(counts[i])));
        }
      }
    }
    std::optional<eval::PopularityScorer> popularity;
    if (!args->no_popularity || !model) popularity.emplace(dataset);
    std::vector<data::Split> splits;
    if (args->split != "test") splits.push_back(data::Split::kValidation);
    if (args->split != "validation") splits.push_back(data::Split::kTest);

    nlohmann::json out = {{"dataset", dataset.name}, {"checkpoint", args->checkpoint}, {"results", nlohmann::json::array()}};
    if (model && model->tiger()) {
      const auto& beam = model->tiger()->options();
      out["beam_search"] = {{"beam_width", beam.beam_width},
                            {"renormalize", beam.renormalize},
                            {"level_weights", beam.level_weights},
                            {"popularity_weight", args->popularity_weight}};
      const auto& tiger = model->tiger()->model();
      if (tiger.spec.repeat_bias) {  // the learned repeat-bias score of each level
        const auto w = tiger.repeat_weight.detach().to(torch::kDouble).contiguous();
        out["repeat_weights"] = std::vector<double>(w.data_ptr<double>(), w.data_ptr<double>() + w.numel());
      }
    }
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
