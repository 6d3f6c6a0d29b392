#include "tessera/infer/semantic_id_trie.h"

#include <algorithm>
#include <map>

#include "tessera/core/error.h"

namespace tessera::infer {

SemanticIdTrie::SemanticIdTrie(const tokenize::SemanticIds& ids) : num_levels_(ids.num_levels()) {
  // Build with ordered maps, then flatten to CSR (children sorted by code).
  std::vector<std::map<std::int32_t, std::int32_t>> edges(1);
  std::vector<std::int32_t> items(1, 0);
  parent_.push_back(kNoNode);
  items_under_.push_back(0);
  item_leaf_.assign(static_cast<std::size_t>(ids.num_items) + 1, kNoNode);
  for (std::int64_t item = 1; item <= ids.num_items; ++item) {
    std::int32_t node = 0;
    for (auto c : ids.code(item)) {
      auto [it, inserted] = edges[static_cast<std::size_t>(node)].try_emplace(c, static_cast<std::int32_t>(edges.size()));
      if (inserted) {
        edges.emplace_back();
        items.push_back(0);
        parent_.push_back(node);
        items_under_.push_back(0);
      }
      node = it->second;
      ++items_under_[static_cast<std::size_t>(node)];
    }
    ++items_under_[0];
    if (items[static_cast<std::size_t>(node)] != 0) {
      throw Error("semantic IDs: items " + std::to_string(items[static_cast<std::size_t>(node)]) + " and " + std::to_string(item) +
                  " share the same ID");
    }
    items[static_cast<std::size_t>(node)] = static_cast<std::int32_t>(item);
    item_leaf_[static_cast<std::size_t>(item)] = node;
  }
  child_begin_.reserve(edges.size() + 1);
  child_begin_.push_back(0);
  for (const auto& e : edges) {
    for (auto [code, child] : e) {
      child_code_.push_back(code);
      child_node_.push_back(child);
    }
    child_begin_.push_back(static_cast<std::int64_t>(child_code_.size()));
  }
  leaf_item_ = std::move(items);
}

std::span<const std::int32_t> SemanticIdTrie::codes(std::int32_t node) const {
  const auto b = child_begin_[static_cast<std::size_t>(node)], e = child_begin_[static_cast<std::size_t>(node) + 1];
  return {child_code_.data() + b, static_cast<std::size_t>(e - b)};
}

std::span<const std::int32_t> SemanticIdTrie::children(std::int32_t node) const {
  const auto b = child_begin_[static_cast<std::size_t>(node)], e = child_begin_[static_cast<std::size_t>(node) + 1];
  return {child_node_.data() + b, static_cast<std::size_t>(e - b)};
}

std::int32_t SemanticIdTrie::child(std::int32_t node, std::int32_t code) const {
  auto c = codes(node);
  auto it = std::lower_bound(c.begin(), c.end(), code);
  if (it == c.end() || *it != code) return kNoNode;
  return children(node)[static_cast<std::size_t>(it - c.begin())];
}

}  // namespace tessera::infer
