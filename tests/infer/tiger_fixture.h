#pragma once
// A small random TIGER model over hand-made semantic IDs, shared by the decoding tests.

#include <memory>
#include <random>

#include <torch/torch.h>

#include "tessera/models/tiger.h"
#include "tessera/tokenize/semantic_ids.h"

namespace tessera::testing {

// `num_items` items with distinct random 3-level IDs over level sizes {8, 6, 3}: a sparse subset
// of the 144 possible IDs, so the trie really constrains decoding.
inline std::shared_ptr<tokenize::SemanticIds> random_semantic_ids(std::int64_t num_items, std::uint64_t seed) {
  auto ids = std::make_shared<tokenize::SemanticIds>();
  ids->method = "test";
  ids->num_items = num_items;
  ids->num_quantizer_levels = 2;
  ids->level_sizes = {8, 6, 3};
  ids->codes.assign(static_cast<std::size_t>((num_items + 1) * 3), 0);
  std::mt19937_64 rng(seed);
  std::vector<int> all(8 * 6 * 3);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
  std::shuffle(all.begin(), all.end(), rng);
  for (std::int64_t item = 1; item <= num_items; ++item) {
    const int v = all[static_cast<std::size_t>(item - 1)];
    ids->codes[static_cast<std::size_t>(item * 3 + 0)] = v / 18;
    ids->codes[static_cast<std::size_t>(item * 3 + 1)] = (v / 3) % 6;
    ids->codes[static_cast<std::size_t>(item * 3 + 2)] = v % 3;
  }
  return ids;
}

// With repeat_bias the repeat weights are set to fixed non-zero values per level (0.7, -1.4,
// 2.1, ...), as if trained, so that the bias changes the scores.
inline std::shared_ptr<models::TigerImpl> small_tiger(const tokenize::SemanticIds& ids, std::int64_t user_buckets = 0,
                                                       bool tie_output = false, bool repeat_bias = false) {
  torch::manual_seed(7);
  models::TigerSpec spec;
  for (auto s : ids.level_sizes) spec.level_sizes.push_back(s);
  spec.max_items = 6;
  spec.d_model = 32;
  spec.num_heads = 2;
  spec.head_dim = 16;
  spec.ffn_dim = 64;
  spec.encoder_layers = 2;
  spec.decoder_layers = 2;
  spec.dropout = 0.0;
  spec.user_buckets = user_buckets;
  spec.tie_output = tie_output;
  spec.repeat_bias = repeat_bias;
  auto model = std::make_shared<models::TigerImpl>(spec);
  // Larger output weights than the init so that the distributions are far from uniform.
  torch::NoGradGuard no_grad;
  if (tie_output) {
    model->token_embedding->weight.normal_(0.0, 1.0);
  } else {
    model->output->weight.normal_(0.0, 1.0);
  }
  if (repeat_bias) {
    for (std::int64_t l = 0; l < model->num_levels(); ++l) model->repeat_weight[l] = (l % 2 == 0 ? 1.0 : -1.0) * (0.7 + 0.7 * static_cast<double>(l));
  }
  model->eval();
  return model;
}

}  // namespace tessera::testing
