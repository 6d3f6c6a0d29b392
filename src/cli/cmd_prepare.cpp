// tessera prepare: read an interaction log (+ item metadata) into a dataset file, and print its
// statistics; `--describe FILE.tsd` prints the statistics of an existing dataset file.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "tessera/core/atomic_file.h"
#include "tessera/core/error.h"
#include "tessera/data/preprocess.h"
#include "tessera/data/stats.h"

namespace tessera::cli {

namespace {

char parse_delimiter(const std::string& text) {
  if (text.empty()) return 0;
  if (text == "tab" || text == "\\t" || text == "\t") return '\t';
  if (text == "comma") return ',';
  if (text == "semicolon") return ';';
  if (text == "pipe") return '|';
  if (text.size() == 1) return text[0];
  throw Error("--delimiter: expected one character or tab/comma/semicolon/pipe, got '" + text + "'");
}

void print_stats(const data::Dataset& dataset, const std::string& stats_json) {
  const auto stats = data::compute_stats(dataset);
  fmt::print("{}", data::format_stats(stats));
  if (!stats_json.empty()) {
    write_text_atomically(stats_json, data::to_json(stats).dump(2) + "\n");
    fmt::print("statistics written to {}\n", stats_json);
  }
}

}  // namespace

void add_prepare_command(CLI::App& app) {
  struct Args {
    data::PrepareOptions options;
    std::string format = "auto", metadata_format = "auto", delimiter, out, stats_json, describe;
  };
  auto args = std::make_shared<Args>();
  auto& o = args->options;
  auto* cmd = app.add_subcommand("prepare", "Turn an interaction log (+ item metadata) into a dataset file (.tsd) and print its statistics");
  cmd->add_option("--input", o.input, "Interaction file (.gz accepted): sequence lines, MovieLens ratings.dat/u.data, CSV/TSV, JSONL");
  cmd->add_option("--format", args->format, "auto|sequences|movielens|csv|jsonl")->capture_default_str();
  cmd->add_option("--metadata", o.metadata, "Item metadata: movies.dat, u.item, *_item2attributes.json, item TSV");
  cmd->add_option("--metadata-format", args->metadata_format, "auto|movielens-movies|movielens-100k|item2attributes|item-tsv")
      ->capture_default_str();
  cmd->add_option("--user-col", o.read.user_col, "CSV/JSONL: user column")->capture_default_str();
  cmd->add_option("--item-col", o.read.item_col, "CSV/JSONL: item column")->capture_default_str();
  cmd->add_option("--time-col", o.read.time_col, "CSV/JSONL: timestamp column (default: 'timestamp' if present)");
  cmd->add_option("--rating-col", o.read.rating_col, "CSV/JSONL: rating column (default: 'rating' if present)");
  cmd->add_option("--delimiter", args->delimiter, "CSV: field delimiter (one character, or tab); default from the extension");
  cmd->add_option("--min-rating", o.read.min_rating, "Keep interactions with rating >= this (0 keeps all)")->capture_default_str();
  cmd->add_option("--kcore", o.kcore, "Keep >= K interactions per user and per item, iterated (0 = off)")->capture_default_str();
  cmd->add_option("--min-seq-len", o.min_seq_len, "Drop users with fewer interactions")->capture_default_str();
  cmd->add_option("--name", o.name, "Dataset name (default: from the input file name)");
  cmd->add_option("--out", args->out, "Output dataset file (.tsd), written atomically");
  cmd->add_option("--stats-json", args->stats_json, "Also write the statistics as JSON to this file");
  cmd->add_option("--describe", args->describe, "Print the statistics of an existing dataset file instead of preparing one");
  cmd->callback([args] {
    if (!args->describe.empty()) {
      print_stats(data::load_dataset(args->describe), args->stats_json);
      return;
    }
    if (args->options.input.empty() || args->out.empty()) throw Error("prepare: --input and --out are required (or use --describe FILE.tsd)");
    auto& o = args->options;
    o.read.format = data::parse_interaction_format(args->format);
    o.metadata_format = data::parse_metadata_format(args->metadata_format);
    o.read.delimiter = parse_delimiter(args->delimiter);
    data::PrepareReport report;
    auto dataset = data::prepare_dataset(o, &report);
    data::save_dataset(dataset, args->out);
    fmt::print("read {} interactions ({} format) of {} users and {} items from {}\n", report.raw_interactions, report.format,
               report.raw_users, report.raw_items, o.input);
    if (report.dropped_by_rating > 0) fmt::print("skipped {} interactions with rating < {}\n", report.dropped_by_rating, o.read.min_rating);
    if (dataset.num_interactions() != report.raw_interactions) {
      fmt::print("filtering (kcore {}, min-seq-len {}) kept {} interactions after {} rounds\n", o.kcore, o.min_seq_len,
                 dataset.num_interactions(), report.filter_rounds);
    }
    if (!o.metadata.empty()) {
      fmt::print("metadata: {} of {} items found among {} entries of {}\n", report.items_with_metadata, dataset.num_items,
                 report.metadata_entries, o.metadata);
    }
    fmt::print("wrote {}\n", args->out);
    print_stats(dataset, args->stats_json);
  });
}

}  // namespace tessera::cli
