#pragma once
// Averaging benchmark runs over seeds: the field-wise mean that `tessera bench --seeds N` uses,
// and `tessera bench combine`, which merges result files of the same benchmark whose seeds were
// run apart (in separate sessions, or on separate machines) into one result, as if run together.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace tessera::bench {

// Field-wise mean over runs of JSON objects with the same numeric fields (the keys of the first);
// a field equal in every run keeps its value and type. `spread`, if given, receives each field's
// sample standard deviation (0 for one run).
nlohmann::json mean_fields(const std::vector<nlohmann::json>& runs, nlohmann::json* spread);

// A result's `description` is the benchmark's own text, then this marker and what the run changed
// (run_description() writes it; combine_seed_results() splits it to list each source's changes).
inline constexpr std::string_view kRunChangesMarker = "; this run: ";

// One result file: its path (for errors and the record of sources) and its parsed content.
struct SeedResultFile {
  std::string path;
  nlohmann::json result;
};

// Reads a result file written by `tessera bench`. Throws tessera::Error naming the file when it
// is missing or not valid JSON.
SeedResultFile read_seed_result(const std::string& path);

// Merges results of one benchmark run with different seeds. Every file must be a single-variant
// result (no `variants`) of the same benchmark, history setting and config, apart from `seed`,
// `threads` and the path of `semantic_ids` (a config key that one file lacks, an option added
// after it was written, counts as its default); TIGER results must also have identical semantic
// IDs (`tokenizer`). No seed may appear twice. The result is the lowest seed's file with
// `per_seed` holding every run (by seed), `seeds` their number, `metrics` /
// `metrics_std_over_seeds` / the other history setting's metrics, the efficiency and decoding
// fields their mean over the runs, `targets` checked again against the mean, `peak_rss_mb` the
// largest, and `combined_from` naming each source (path, command, git_commit, seeds). Throws
// tessera::Error naming the file and field of the first mismatch.
nlohmann::json combine_seed_results(const std::vector<SeedResultFile>& files);

}  // namespace tessera::bench
