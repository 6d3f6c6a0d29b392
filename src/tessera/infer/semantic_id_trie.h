#pragma once
// SemanticIdTrie: the prefix tree of every valid item's semantic ID, which constrains beam search
// so that it can only ever produce IDs of real items.
//
// Node 0 is the root; a node at depth t (t codes consumed) has one child per code that some
// item continues the prefix with; a node at depth num_levels is a leaf and names one item.
// Children are stored sorted by code in flat arrays. Immutable after construction: safe to
// read from many threads.

#include <cstdint>
#include <span>
#include <vector>

#include "tessera/tokenize/semantic_ids.h"

namespace tessera::infer {

class SemanticIdTrie {
 public:
  // Throws tessera::Error if two items share a full ID (the tokenizer's disambiguation prevents it).
  explicit SemanticIdTrie(const tokenize::SemanticIds& ids);

  static constexpr std::int32_t kNoNode = -1;

  std::int32_t num_levels() const { return num_levels_; }
  std::int64_t num_nodes() const { return static_cast<std::int64_t>(child_begin_.size()) - 1; }

  // Codes that may follow `node` (sorted) and the matching child nodes.
  std::span<const std::int32_t> codes(std::int32_t node) const;
  std::span<const std::int32_t> children(std::int32_t node) const;
  // The child of `node` along `code`, or kNoNode.
  std::int32_t child(std::int32_t node, std::int32_t code) const;
  // The item at a leaf (depth num_levels), or 0 for an inner node.
  std::int32_t item(std::int32_t node) const { return leaf_item_[static_cast<std::size_t>(node)]; }
  // The leaf of item 1..num_items, the parent of a node (kNoNode for the root), and how many
  // items lie under a node (1 at a leaf).
  std::int32_t leaf(std::int32_t item) const { return item_leaf_[static_cast<std::size_t>(item)]; }
  std::int32_t parent(std::int32_t node) const { return parent_[static_cast<std::size_t>(node)]; }
  std::int32_t items_under(std::int32_t node) const { return items_under_[static_cast<std::size_t>(node)]; }
  std::int64_t num_items() const { return static_cast<std::int64_t>(item_leaf_.size()) - 1; }

 private:
  std::int32_t num_levels_ = 0;
  std::vector<std::int64_t> child_begin_;  // per node + 1, CSR offsets into child_code_/child_node_
  std::vector<std::int32_t> child_code_, child_node_;
  std::vector<std::int32_t> leaf_item_;    // per node
  std::vector<std::int32_t> parent_, items_under_;  // per node
  std::vector<std::int32_t> item_leaf_;    // per item, index 0 unused
};

}  // namespace tessera::infer
