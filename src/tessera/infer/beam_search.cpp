#include "tessera/infer/beam_search.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "tessera/core/error.h"

namespace tessera::infer {

namespace {

// The trie nodes every item under which is excluded, sorted: the excluded leaves and each
// ancestor whose subtree holds only excluded items.
std::vector<std::int32_t> closed_nodes(const SemanticIdTrie& trie, std::span<const std::int32_t> excluded, std::size_t request) {
  std::vector<std::int32_t> items(excluded.begin(), excluded.end());
  std::sort(items.begin(), items.end());
  items.erase(std::unique(items.begin(), items.end()), items.end());
  std::unordered_map<std::int32_t, std::int32_t> excluded_under;  // node -> excluded items under it
  for (auto item : items) {
    if (item < 1 || item > trie.num_items()) {
      throw Error("beam search: excluded item " + std::to_string(item) + " of request " + std::to_string(request) +
                  " is outside 1.." + std::to_string(trie.num_items()));
    }
    for (auto node = trie.leaf(item); node != SemanticIdTrie::kNoNode; node = trie.parent(node)) ++excluded_under[node];
  }
  std::vector<std::int32_t> closed;
  for (auto [node, count] : excluded_under) {
    if (count == trie.items_under(node)) closed.push_back(node);
  }
  std::sort(closed.begin(), closed.end());
  return closed;
}

// Additive mask [N, K]: 0 where the trie allows code k after nodes[n] and the child is not
// closed for row n's request (row n / beams), -inf elsewhere (and everywhere for a dead beam,
// node == kNoNode).
torch::Tensor trie_mask(const SemanticIdTrie& trie, const std::vector<std::int32_t>& nodes, std::int64_t K,
                        const std::vector<std::vector<std::int32_t>>& closed, std::int64_t beams) {
  const auto N = static_cast<std::int64_t>(nodes.size());
  auto mask = torch::full({N, K}, -std::numeric_limits<float>::infinity());
  auto* m = mask.data_ptr<float>();
  for (std::int64_t n = 0; n < N; ++n) {
    const auto node = nodes[static_cast<std::size_t>(n)];
    if (node == SemanticIdTrie::kNoNode) continue;
    const auto codes = trie.codes(node);
    const auto children = trie.children(node);
    const std::vector<std::int32_t>* shut = closed.empty() ? nullptr : &closed[static_cast<std::size_t>(n / beams)];
    for (std::size_t i = 0; i < codes.size(); ++i) {
      if (codes[i] >= K) continue;
      if (shut && std::binary_search(shut->begin(), shut->end(), children[i])) continue;
      m[n * K + codes[i]] = 0.0f;
    }
  }
  return mask;
}

// [N, K]: item_bonus of the item that code k completes after nodes[n] (last level only), 0
// where no item is completed.
torch::Tensor leaf_bonus(const SemanticIdTrie& trie, const std::vector<std::int32_t>& nodes, std::int64_t K,
                         const std::vector<float>& item_bonus) {
  const auto N = static_cast<std::int64_t>(nodes.size());
  auto bonus = torch::zeros({N, K});
  auto* out = bonus.data_ptr<float>();
  for (std::int64_t n = 0; n < N; ++n) {
    const auto node = nodes[static_cast<std::size_t>(n)];
    if (node == SemanticIdTrie::kNoNode) continue;
    const auto codes = trie.codes(node);
    const auto children = trie.children(node);
    for (std::size_t i = 0; i < codes.size(); ++i) {
      const auto item = trie.item(children[i]);
      if (codes[i] < K && item > 0) out[n * K + codes[i]] = item_bonus[static_cast<std::size_t>(item)];
    }
  }
  return bonus;
}

}  // namespace

std::vector<GeneratedItems> constrained_beam_search(models::TigerImpl& model, const SemanticIdTrie& trie,
                                                    const models::TigerMemory& memory, const BeamSearchOptions& options,
                                                    std::span<const std::span<const std::int32_t>> excluded) {
  if (options.beam_width < 1) throw Error("beam search: beam_width must be at least 1");
  if (trie.num_levels() != model.num_levels()) {
    throw Error("beam search: the semantic IDs have " + std::to_string(trie.num_levels()) + " levels but the model generates " +
                std::to_string(model.num_levels()));
  }
  const auto B = memory.memory.size(0);
  const auto levels = model.num_levels();
  if (!excluded.empty() && static_cast<std::int64_t>(excluded.size()) != B) {
    throw Error("beam search: " + std::to_string(excluded.size()) + " excluded-item lists for " + std::to_string(B) + " requests");
  }
  if (!options.level_weights.empty()) {
    if (static_cast<std::int64_t>(options.level_weights.size()) != levels) {
      throw Error("beam search: " + std::to_string(options.level_weights.size()) + " level weights for a model with " +
                  std::to_string(levels) + " levels");
    }
    for (auto w : options.level_weights) {
      if (!std::isfinite(w) || w < 0) throw Error("beam search: level weights must be finite and >= 0, got " + std::to_string(w));
    }
  }
  if (!options.item_bonus.empty() && static_cast<std::int64_t>(options.item_bonus.size()) != trie.num_items() + 1) {
    throw Error("beam search: item_bonus has " + std::to_string(options.item_bonus.size()) + " entries for " +
                std::to_string(trie.num_items()) + " items (expected num_items + 1)");
  }
  std::vector<std::vector<std::int32_t>> closed;  // per request, when excluding
  for (std::size_t b = 0; b < excluded.size(); ++b) closed.push_back(closed_nodes(trie, excluded[b], b));
  auto state = model.start_decoding(memory, options.kv_cache);
  std::int64_t beams = 1;                   // beams per request so far
  std::vector<std::int32_t> nodes(static_cast<std::size_t>(B), 0);  // trie node of each row
  auto beam_scores = torch::zeros({B, 1});  // [B, beams]

  for (std::int64_t step = 0; step < levels; ++step) {
    const auto K = model.spec.level_sizes[static_cast<std::size_t>(step)];
    const auto logits = model.decode_step(state);  // [B*beams, K]
    const auto mask = trie_mask(trie, nodes, K, closed, beams);
    // A dead beam's row is all -inf, whose softmax over allowed codes is NaN: keep it at -inf
    // (and keep masked codes at -inf, which nan_to_num would otherwise make finite).
    constexpr double kNegInf = -std::numeric_limits<double>::infinity();
    auto logp = options.renormalize ? torch::log_softmax(logits + mask, -1).nan_to_num(kNegInf, c10::nullopt, kNegInf)
                                    : torch::log_softmax(logits, -1) + mask;
    if (!options.level_weights.empty()) {
      // 0 * -inf is NaN: scale the finite entries only, so masked codes stay -inf.
      const auto w = options.level_weights[static_cast<std::size_t>(step)];
      logp = torch::where(torch::isfinite(logp), logp * w, logp);
    }
    if (!options.item_bonus.empty() && step + 1 == levels) logp = logp + leaf_bonus(trie, nodes, K, options.item_bonus);
    auto candidates = (logp + beam_scores.reshape({-1, 1})).reshape({B, beams * K});
    const auto keep = std::min<std::int64_t>(options.beam_width, beams * K);
    auto [top_scores, top_index] = candidates.topk(keep, 1);  // sorted, best first
    auto origin = top_index.div(K, "floor");                   // beam each candidate extends
    auto codes = top_index.remainder(K);
    auto rows = (origin + torch::arange(B, torch::kLong).unsqueeze(1) * beams).reshape({-1});

    std::vector<std::int32_t> next(static_cast<std::size_t>(B * keep));
    const auto* r = rows.data_ptr<std::int64_t>();
    const auto* c = codes.data_ptr<std::int64_t>();
    const auto* s = top_scores.data_ptr<float>();
    for (std::int64_t i = 0; i < B * keep; ++i) {
      const auto parent = nodes[static_cast<std::size_t>(r[i])];
      next[static_cast<std::size_t>(i)] = (std::isfinite(s[i]) && parent != SemanticIdTrie::kNoNode)
                                              ? trie.child(parent, static_cast<std::int32_t>(c[i]))
                                              : SemanticIdTrie::kNoNode;
    }
    nodes = std::move(next);
    beam_scores = top_scores;
    beams = keep;
    if (step + 1 < levels) {
      model.reorder(state, rows);
      model.append(state, codes.reshape({-1}) + model.token(step, 0));
    }
  }

  std::vector<GeneratedItems> results(static_cast<std::size_t>(B));
  const auto* s = beam_scores.data_ptr<float>();
  for (std::int64_t b = 0; b < B; ++b) {
    auto& out = results[static_cast<std::size_t>(b)];
    for (std::int64_t j = 0; j < beams; ++j) {
      const auto node = nodes[static_cast<std::size_t>(b * beams + j)];
      if (node == SemanticIdTrie::kNoNode || !std::isfinite(s[b * beams + j])) continue;
      if (trie.item(node) == 0) {
        ++out.invalid;
        continue;
      }
      out.items.push_back(trie.item(node));
      out.scores.push_back(s[b * beams + j]);
    }
  }
  return results;
}

}  // namespace tessera::infer
