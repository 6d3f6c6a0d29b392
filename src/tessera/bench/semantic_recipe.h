#pragma once
// Builds a TIGER benchmark's semantic IDs from its recipe (benchmarks.h::SemanticIdRecipe):
// item vectors (content, item2vec or both fused) with the tokenize/ library, then the tokenizer.
// The same steps a user runs with `tessera embed` and `tessera tokenize`.

#include <string>

#include "tessera/bench/benchmarks.h"
#include "tessera/data/dataset.h"
#include "tessera/tokenize/semantic_ids.h"

namespace tessera::bench {

// Throws tessera::Error when the recipe's embedding is not content, item2vec or fused, or its
// tokenizer options are invalid (tokenize::TokenizerOptions::validate). Does no work.
void check_recipe(const SemanticIdRecipe& recipe);

// data_dir resolves recipe.extra_text. Checks the recipe first (check_recipe). Logs what it
// builds to stderr. Throws tessera::Error (e.g. a missing extra-text file, named).
tokenize::SemanticIds build_semantic_ids(const data::Dataset& dataset, const SemanticIdRecipe& recipe, const std::string& data_dir);

}  // namespace tessera::bench
