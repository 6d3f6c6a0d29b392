#pragma once
// TigerRecommender: a trained TIGER model, its semantic IDs and their trie, answering "which
// items next?" for batches of histories by constrained beam search. Used by evaluation
// (eval::ListRecommender), `tessera recommend` and, later, serving.
//
// Not thread-safe (one caller at a time); the model is put in eval mode on construction.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tessera/eval/list_recommender.h"
#include "tessera/infer/beam_search.h"
#include "tessera/infer/semantic_id_trie.h"
#include "tessera/models/tiger.h"
#include "tessera/tokenize/semantic_ids.h"

namespace tessera::infer {

class TigerRecommender : public eval::ListRecommender {
 public:
  TigerRecommender(std::shared_ptr<models::TigerImpl> model, std::shared_ptr<const tokenize::SemanticIds> ids,
                   BeamSearchOptions options, std::string name = "tiger");

  std::string name() const override { return name_; }
  std::int64_t max_list_length() const override { return options_.beam_width; }
  std::vector<std::vector<std::int32_t>> recommend(std::span<const std::int64_t> users,
                                                   const std::vector<std::span<const std::int32_t>>& histories,
                                                   bool exclude_history) override;

  // Items with their log-probabilities, best first, at most beam_width per request. users may be
  // empty (no user token: bucket 0 is used when the model has user buckets). With
  // exclude_history, the beam search skips each request's history items (beam_search.h).
  std::vector<GeneratedItems> generate(std::span<const std::int64_t> users, const std::vector<std::span<const std::int32_t>>& histories,
                                       bool exclude_history = false);

  BeamSearchOptions& options() { return options_; }

  // Counts over every generate() call so far: items returned, and generated IDs that were not
  // a real item (outside 1..num_items, a repeated item, or a beam that ended off the trie).
  std::int64_t items_generated() const { return items_generated_; }
  std::int64_t invalid_generated() const { return invalid_generated_; }
  const tokenize::SemanticIds& semantic_ids() const { return *ids_; }
  const models::TigerImpl& model() const { return *model_; }

 private:
  std::shared_ptr<models::TigerImpl> model_;
  std::shared_ptr<const tokenize::SemanticIds> ids_;
  SemanticIdTrie trie_;
  BeamSearchOptions options_;
  std::string name_;
  std::int64_t items_generated_ = 0, invalid_generated_ = 0;
};

}  // namespace tessera::infer
