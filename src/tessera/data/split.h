#pragma once
// Leave-last-out split. For a user whose sequence s has n >= 3 items:
//   training sequence   s[0 .. n-2)          (inputs and next-item targets for training)
//   validation example  history s[0 .. n-2), target s[n-2]
//   test example        history s[0 .. n-1), target s[n-1]
// Users with fewer than 3 items have no validation/test example and are skipped by
// leave_last_out_examples(); prepare's default minimum sequence length (3) keeps none of them.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tessera/data/dataset.h"

namespace tessera::data {

enum class Split { kValidation, kTest };

// "validation" / "test"; parse_split() throws tessera::Error on anything else.
std::string split_name(Split split);
Split parse_split(const std::string& name);

// One evaluation case: predict `target` from `history` (a view into the Dataset, which must
// outlive it).
struct EvalExample {
  std::int64_t user = 0;
  std::span<const std::int32_t> history;
  std::int32_t target = 0;
  std::span<const std::int64_t> history_timestamps;  // one per history item; empty if the dataset has none
};

// The training part of user u's sequence (empty if the user has fewer than 3 items). With
// `with_validation_target`, the validation target too, i.e. s[0 .. n-1): everything but the
// test target (for runs that train on train + validation and are only tested).
std::span<const std::int32_t> training_sequence(const Dataset& dataset, std::int64_t user, bool with_validation_target = false);
// Its timestamps (empty if the dataset has none).
std::span<const std::int64_t> training_timestamps(const Dataset& dataset, std::int64_t user, bool with_validation_target = false);

// One example per user with at least 3 items, in user order.
std::vector<EvalExample> leave_last_out_examples(const Dataset& dataset, Split split);

}  // namespace tessera::data
