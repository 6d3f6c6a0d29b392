#include "tessera/bench/semantic_recipe.h"

#include <cstdio>
#include <filesystem>

#include "tessera/core/error.h"
#include "tessera/data/fingerprint.h"
#include "tessera/tokenize/collab_features.h"
#include "tessera/tokenize/content_features.h"
#include "tessera/tokenize/item_features.h"

namespace tessera::bench {

namespace fs = std::filesystem;

void check_recipe(const SemanticIdRecipe& recipe) {
  if (recipe.embedding != "content" && recipe.embedding != "item2vec" && recipe.embedding != "fused") {
    throw Error("semantic-ID recipe '" + recipe.label + "': unknown embedding '" + recipe.embedding + "' (expected content, item2vec or fused)");
  }
  recipe.tokenizer.validate();
}

tokenize::SemanticIds build_semantic_ids(const data::Dataset& dataset, const SemanticIdRecipe& recipe, const std::string& data_dir) {
  check_recipe(recipe);
  const auto& method = recipe.tokenizer.method;
  auto content = [&] {
    tokenize::ContentOptions options;
    options.seed = recipe.tokenizer.seed;
    if (!recipe.extra_text.empty()) {
      options.extra_text_path = fs::path(recipe.extra_text).is_absolute() ? recipe.extra_text : (fs::path(data_dir) / recipe.extra_text).string();
    }
    tokenize::ContentReport report;
    auto m = tokenize::build_content_matrix(dataset, options, &report);
    std::fprintf(stderr, "[bench] content vectors: %lld of %d items have content, vocabulary %lld\n",
                 static_cast<long long>(report.items_with_content), dataset.num_items, static_cast<long long>(report.vocabulary_size));
    return m;
  };
  auto collaborative = [&] {
    tokenize::Item2VecOptions options;
    options.seed = recipe.tokenizer.seed;
    return tokenize::build_item2vec_matrix(dataset, options);
  };
  tokenize::ItemMatrix matrix;
  if (method == "random") {
    // Random codes ignore the vectors; the tokenizer still wants a matrix of the right size.
    matrix = tokenize::make_item_matrix(torch::zeros({dataset.num_items + 1, 1}), "none", "random IDs", data::dataset_fingerprint(dataset));
  } else if (recipe.embedding == "content") {
    matrix = content();
  } else if (recipe.embedding == "item2vec") {
    matrix = collaborative();
  } else {  // fused, the one kind check_recipe leaves
    const auto c = content();
    const auto i = collaborative();
    matrix = tokenize::fuse_item_matrices({{&c, "content", recipe.content_weight}, {&i, "item2vec", recipe.collaborative_weight}});
  }
  double seconds = 0;
  auto ids = tokenize::tokenize_items(matrix, recipe.tokenizer, &seconds);
  std::fprintf(stderr, "[bench] semantic IDs (%s, %s) in %.1f s:\n%s", recipe.label.c_str(), method.c_str(), seconds,
               tokenize::format_report(ids.report).c_str());
  return ids;
}

}  // namespace tessera::bench
