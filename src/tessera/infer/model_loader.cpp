#include "tessera/infer/model_loader.h"

#include "tessera/core/error.h"
#include "tessera/train/checkpoint.h"
#include "tessera/train/tiger_task.h"
#include "tessera/train/trainer.h"

namespace tessera::infer {

LoadedModel LoadedModel::load(const std::string& path, const data::Dataset* dataset) {
  return from_checkpoint(train::load_checkpoint(path), path, dataset);  // read once, restored by the family's loader
}

LoadedModel LoadedModel::from_checkpoint(const train::Checkpoint& checkpoint, const std::string& path, const data::Dataset* dataset) {
  LoadedModel loaded;
  loaded.kind_ = checkpoint.meta.value("kind", std::string("sequence_model"));
  if (loaded.kind_ == "tiger") {
    auto trained = train::load_trained_tiger(checkpoint, path, dataset);
    loaded.config_ = trained.config;
    loaded.tiger_ = std::make_unique<TigerRecommender>(trained.model, trained.semantic_ids,
                                                       BeamSearchOptions{trained.config.beam_width, true}, trained.config.model);
  } else if (loaded.kind_ == "sequence_model") {
    auto trained = train::load_trained_model(checkpoint, path, dataset);
    loaded.config_ = trained.config;
    loaded.sequence_model_ = trained.model;
    loaded.scorer_ = std::make_unique<SequenceModelScorer>(trained.model, trained.config.model, trained.config.max_len);
  } else {
    throw Error::at(path, 0, "unknown checkpoint kind '" + loaded.kind_ + "'");
  }
  return loaded;
}

eval::EvalResult LoadedModel::evaluate(const data::Dataset& dataset, const eval::EvalOptions& options) {
  if (tiger_) return eval::evaluate_lists(*tiger_, dataset, options);
  return eval::evaluate(*scorer_, dataset, options);
}

std::vector<std::vector<ScoredItem>> LoadedModel::recommend(std::span<const std::int64_t> users,
                                                            const std::vector<std::span<const std::int32_t>>& histories,
                                                            std::int64_t k, bool exclude_history, const Timestamps* timestamps) {
  if (k < 1) throw Error("recommend: k must be at least 1");
  std::vector<std::vector<ScoredItem>> out;
  if (scorer_) {
    torch::NoGradGuard no_grad;
    auto scores = score_next_items(*sequence_model_, histories, config_.max_len, timestamps);
    return top_k_items(scores, k, exclude_history ? &histories : nullptr);
  }
  // The beam search itself skips history items when asked, so a beam of k is enough.
  const auto configured = tiger_->options().beam_width;
  tiger_->options().beam_width = std::max(configured, k);
  auto generated = tiger_->generate(users, histories, exclude_history);
  tiger_->options().beam_width = configured;
  for (auto& g : generated) {
    auto& list = out.emplace_back();
    for (std::size_t i = 0; i < g.items.size() && static_cast<std::int64_t>(list.size()) < k; ++i) list.push_back({g.items[i], g.scores[i]});
  }
  return out;
}

}  // namespace tessera::infer
