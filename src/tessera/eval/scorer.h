#pragma once
// Scorer: the one interface through which evaluation asks a model for recommendations.
//
// Anything that can score every item of the catalogue for a batch of user histories implements
// it: trained models (SASRec, HSTU), baselines (popularity.h), test fakes. Evaluation, benchmarks
// and the CLI depend on this interface only, never on a concrete model.
//
// A Scorer need not be thread-safe; evaluation calls it from one thread.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tessera::eval {

class Scorer {
 public:
  virtual ~Scorer() = default;

  // Short name shown in reports and result files ("sasrec", "popularity").
  virtual std::string name() const = 0;

  // histories: B item-ID sequences in time order (oldest first), IDs in 1..num_items, each
  // non-empty; the views are valid only during the call. The scorer truncates them to whatever
  // length its model accepts. Returns scores [B, num_items + 1], floating point, higher = better;
  // column 0 (padding) is ignored. The caller owns the result and may modify it in place.
  // evaluate() calls this under at::NoGradGuard; putting a model into eval mode (no dropout) is
  // the scorer's job.
  virtual at::Tensor score(const std::vector<std::span<const std::int32_t>>& histories) = 0;

  // The same with each history's timestamps (seconds, one per item, same order), which
  // evaluation passes when the dataset has them. Scorers whose model reads time override this;
  // the default ignores the timestamps.
  virtual at::Tensor score_timed(const std::vector<std::span<const std::int32_t>>& histories,
                                 const std::vector<std::span<const std::int64_t>>& /*timestamps*/) {
    return score(histories);
  }
};

}  // namespace tessera::eval
