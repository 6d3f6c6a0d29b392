#pragma once
// Beam search over semantic-ID codes, constrained by a SemanticIdTrie so that every result is a
// real item. Batched over requests: the encoder runs once for the whole batch, and with the KV
// cache on each decoder step feeds only the newest token of every beam (models/tiger.h).
//
// Scores are sequence log-probabilities under the model (sum over levels of the log-softmax
// over that level's codes), so beams of different prefixes compare fairly. Codes the trie does
// not allow are masked to -inf before each top-k; a request whose trie has fewer than
// beam_width valid continuations keeps fewer beams (never an invalid one). With renormalize,
// each level's softmax runs over the allowed codes only, so the mass the model puts on codes
// that name no item is given back to the valid ones in proportion.
//
// Excluded items (e.g. each user's history, for "history excluded" evaluation and serving) are
// removed from the trie per request: a code is masked when every item under it is excluded, so
// no beam is spent on them and a request still gets beam_width other items when the catalogue
// has them (filtering the finished list instead would leave it short).
//
// Two decode-time scoring knobs, both off by default: level_weights scales each level's
// log-probability before it is added (so the coarse codes can count for more or less than the
// fine ones), and item_bonus adds a fixed score per item when a beam finishes on it (e.g. a
// weight times log(1 + training count), a popularity prior). Both change which beams survive,
// not only the order of the finished list.

#include <cstdint>
#include <span>
#include <vector>

#include "tessera/infer/semantic_id_trie.h"
#include "tessera/models/tiger.h"

namespace tessera::infer {

struct BeamSearchOptions {
  std::int64_t beam_width = 20;  // beams kept per request = longest list returned
  bool kv_cache = true;          // false: re-run the decoder over the whole prefix at each step
  bool renormalize = false;      // softmax over the trie's allowed codes instead of all codes
  std::vector<double> level_weights;  // empty: 1 per level; else one weight >= 0 per level
  std::vector<float> item_bonus;      // empty: none; else num_items + 1 scores (index 0 unused)
};

// One request's result: distinct items, best first, with their scores (log-probabilities,
// unless level_weights or item_bonus change them).
struct GeneratedItems {
  std::vector<std::int32_t> items;
  std::vector<float> scores;
  std::int64_t invalid = 0;  // finished beams that did not name an item (dropped); 0 unless the trie is broken
};

// model must be in eval mode; call under torch::NoGradGuard. memory: model.encode() of B
// requests. excluded: empty, or B lists of items (1..num_items, any order, repeats allowed) that
// request b must not return. Returns B results. Throws tessera::Error if beam_width < 1, the
// trie's depth differs from the model's number of levels, level_weights or item_bonus has the
// wrong size (or a negative or non-finite weight), or excluded is malformed.
std::vector<GeneratedItems> constrained_beam_search(models::TigerImpl& model, const SemanticIdTrie& trie,
                                                    const models::TigerMemory& memory, const BeamSearchOptions& options,
                                                    std::span<const std::span<const std::int32_t>> excluded = {});

}  // namespace tessera::infer
