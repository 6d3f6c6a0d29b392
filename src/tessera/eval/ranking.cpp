#include "tessera/eval/ranking.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <limits>
#include <string>

#include "tessera/core/error.h"
#include "tessera/eval/metrics.h"

namespace tessera::eval {

namespace {

std::string shape_of(const at::Tensor& t) {
  std::string s = "[";
  for (std::int64_t d = 0; d < t.dim(); ++d) s += (d ? ", " : "") + std::to_string(t.size(d));
  return s + "]";
}

void check_scores_and_targets(const at::Tensor& scores, const at::Tensor& targets, const char* who) {
  if (scores.dim() != 2 || scores.size(1) < 2) {
    throw Error(std::string(who) + ": scores must be [B, num_items + 1] with num_items >= 1, got " + shape_of(scores));
  }
  if (!at::isFloatingType(scores.scalar_type())) throw Error(std::string(who) + ": scores must be floating point");
  if (targets.dim() != 1 || targets.size(0) != scores.size(0)) {
    throw Error(std::string(who) + ": targets must be [B] = [" + std::to_string(scores.size(0)) + "], got " + shape_of(targets));
  }
  if (!at::isIntegralType(targets.scalar_type(), /*includeBool=*/false)) {
    throw Error(std::string(who) + ": targets must be integer item IDs");
  }
  if (targets.numel() > 0) {
    const std::int64_t lo = targets.min().item<std::int64_t>();
    const std::int64_t hi = targets.max().item<std::int64_t>();
    const std::int64_t num_items = scores.size(1) - 1;
    if (lo < 1 || hi > num_items) {
      throw Error(std::string(who) + ": target IDs must be in 1.." + std::to_string(num_items) + ", got " +
                  std::to_string(lo < 1 ? lo : hi));
    }
  }
}

}  // namespace

at::Tensor target_ranks(const at::Tensor& scores, const at::Tensor& targets) {
  check_scores_and_targets(scores, targets, "target_ranks");
  const std::int64_t num_items = scores.size(1) - 1;
  const at::Tensor index = targets.to(scores.device(), at::kLong).contiguous().unsqueeze(1);  // [B, 1]
  // rank = #{other items with score >= target's} = num_items - 1 - #{items strictly below}.
  // Counting "strictly below" (the target is never below itself) makes every comparison with a
  // NaN false, which is exactly the pessimistic NaN rule: a NaN item is not below the target,
  // and nothing is below a NaN target.
  if (scores.device().is_cpu() && scores.scalar_type() == at::kFloat && scores.stride(1) == 1) {
    // Fast path for the common case: one pass over each row, no temporaries. Measured 0.13 s vs
    // 1.1 s for the tensor expression below on 88 batches of [256, 12102] (Beauty-sized), 2 CPU
    // threads. Tests check that both paths agree.
    const auto batch = scores.size(0);
    at::Tensor ranks = at::empty({batch}, at::kLong);
    const float* base = scores.data_ptr<float>();
    const std::int64_t row_stride = scores.stride(0);
    const std::int64_t* target = index.data_ptr<std::int64_t>();
    std::int64_t* out = ranks.data_ptr<std::int64_t>();
    at::parallel_for(0, batch, 1, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t b = begin; b < end; ++b) {
        const float* row = base + b * row_stride;
        const float t = row[target[b]];
        std::int64_t below = 0;
        for (std::int64_t i = 1; i <= num_items; ++i) below += row[i] < t;
        out[b] = num_items - 1 - below;
      }
    });
    return ranks;
  }
  const at::Tensor target_score = scores.gather(1, index);                               // [B, 1]
  const at::Tensor below = (scores.slice(1, 1) < target_score).sum(1, /*keepdim=*/false, at::kLong);  // [B]
  return (num_items - 1) - below;
}

void exclude_history_(at::Tensor& scores, const std::vector<std::span<const std::int32_t>>& histories,
                      const at::Tensor& targets) {
  check_scores_and_targets(scores, targets, "exclude_history_");
  if (static_cast<std::int64_t>(histories.size()) != scores.size(0)) {
    throw Error("exclude_history_: " + std::to_string(histories.size()) + " histories for " +
                std::to_string(scores.size(0)) + " score rows");
  }
  if (!scores.is_non_overlapping_and_dense()) {
    throw Error("exclude_history_: scores must own their elements (call .contiguous() on a broadcast view first)");
  }
  const std::int64_t num_items = scores.size(1) - 1;
  const at::Tensor cpu_targets = targets.to(at::kCPU, at::kLong).contiguous();
  const std::int64_t* target = cpu_targets.data_ptr<std::int64_t>();
  std::vector<std::int64_t> rows, cols;
  for (std::size_t b = 0; b < histories.size(); ++b) {
    for (std::int32_t item : histories[b]) {
      if (item == target[b]) continue;
      if (item < 1 || item > num_items) {
        throw Error("exclude_history_: history item " + std::to_string(item) + " outside 1.." + std::to_string(num_items));
      }
      rows.push_back(static_cast<std::int64_t>(b));
      cols.push_back(item);
    }
  }
  if (rows.empty()) return;
  const auto options = at::TensorOptions().dtype(at::kLong);
  const at::Tensor row_index = at::tensor(rows, options).to(scores.device());
  const at::Tensor col_index = at::tensor(cols, options).to(scores.device());
  scores.index_put_({row_index, col_index}, -std::numeric_limits<double>::infinity());
}

std::vector<std::int64_t> ranks_from_lists(std::span<const std::vector<std::int32_t>> lists,
                                           std::span<const data::EvalExample> examples, bool exclude_history) {
  if (lists.size() != examples.size()) {
    throw Error("ranks_from_lists: " + std::to_string(lists.size()) + " lists for " + std::to_string(examples.size()) +
                " examples");
  }
  std::vector<std::int64_t> ranks(lists.size(), kNotRanked);
  std::vector<std::int32_t> history, seen;  // sorted, reused across users
  for (std::size_t b = 0; b < lists.size(); ++b) {
    const std::int32_t target = examples[b].target;
    history.clear();
    if (exclude_history) {
      history.assign(examples[b].history.begin(), examples[b].history.end());
      std::sort(history.begin(), history.end());
    }
    seen.clear();
    for (std::int32_t item : lists[b]) {
      if (item == target) {
        ranks[b] = static_cast<std::int64_t>(seen.size());
        break;
      }
      if (item <= 0) continue;
      if (exclude_history && std::binary_search(history.begin(), history.end(), item)) continue;
      auto pos = std::lower_bound(seen.begin(), seen.end(), item);
      if (pos == seen.end() || *pos != item) seen.insert(pos, item);
    }
  }
  return ranks;
}

}  // namespace tessera::eval
