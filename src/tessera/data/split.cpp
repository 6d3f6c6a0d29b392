#include "tessera/data/split.h"

#include "tessera/core/error.h"

namespace tessera::data {

std::string split_name(Split split) { return split == Split::kValidation ? "validation" : "test"; }

Split parse_split(const std::string& name) {
  if (name == "validation" || name == "valid" || name == "val") return Split::kValidation;
  if (name == "test") return Split::kTest;
  throw Error("unknown split '" + name + "' (expected 'validation' or 'test')");
}

std::span<const std::int32_t> training_sequence(const Dataset& dataset, std::int64_t user, bool with_validation_target) {
  auto seq = dataset.sequence(user);
  if (seq.size() < 3) return {};
  return seq.first(seq.size() - (with_validation_target ? 1 : 2));
}

std::span<const std::int64_t> training_timestamps(const Dataset& dataset, std::int64_t user, bool with_validation_target) {
  auto times = dataset.sequence_timestamps(user);
  if (times.size() < 3) return {};
  return times.first(times.size() - (with_validation_target ? 1 : 2));
}

std::vector<EvalExample> leave_last_out_examples(const Dataset& dataset, Split split) {
  std::vector<EvalExample> examples;
  examples.reserve(static_cast<std::size_t>(dataset.num_users()));
  const std::size_t drop = split == Split::kValidation ? 2 : 1;
  for (std::int64_t u = 0; u < dataset.num_users(); ++u) {
    auto seq = dataset.sequence(u);
    if (seq.size() < 3) continue;
    auto times = dataset.sequence_timestamps(u);
    examples.push_back({u, seq.first(seq.size() - drop), seq[seq.size() - drop], times.empty() ? times : times.first(times.size() - drop)});
  }
  return examples;
}

}  // namespace tessera::data
