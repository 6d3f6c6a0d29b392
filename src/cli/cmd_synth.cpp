// tessera synth: write a synthetic dataset (sequence lines + item TSV) that `tessera prepare` reads.
#include <fmt/format.h>

#include "cli/commands.h"
#include "tessera/data/synth.h"

namespace tessera::cli {

void add_synth_command(CLI::App& app) {
  struct Args {
    data::SynthOptions options;
    std::string out;
  };
  auto args = std::make_shared<Args>();
  auto& o = args->options;
  auto* cmd = app.add_subcommand("synth", "Generate a synthetic dataset with a known structure (taxonomy, Zipf popularity, "
                                          "drifting tastes, item successors)");
  cmd->add_option("--out", args->out, "Output directory (gets synthetic.txt and synthetic_items.tsv)")->required();
  cmd->add_option("--users", o.num_users, "Number of users")->capture_default_str();
  cmd->add_option("--items", o.num_items, "Number of items")->capture_default_str();
  cmd->add_option("--mean-len", o.mean_seq_len, "Mean sequence length")->capture_default_str();
  cmd->add_option("--min-len", o.min_seq_len, "Minimum sequence length")->capture_default_str();
  cmd->add_option("--max-len", o.max_seq_len, "Maximum sequence length")->capture_default_str();
  cmd->add_option("--branching", o.branching, "Category tree: children per level, e.g. 6,4,4")->delimiter(',')->capture_default_str();
  cmd->add_option("--zipf", o.zipf_exponent, "Zipf exponent of item popularity")->capture_default_str();
  cmd->add_option("--successors", o.successors_per_item, "Natural successors per item")->capture_default_str();
  cmd->add_option("--p-successor", o.p_successor, "Probability that the next item is a successor of the current one")->capture_default_str();
  cmd->add_option("--p-same-leaf", o.p_same_leaf, "Probability of another item of the current leaf category")->capture_default_str();
  cmd->add_option("--p-sibling", o.p_sibling, "Probability of an item of a sibling leaf category")->capture_default_str();
  cmd->add_option("--seed", o.seed, "Random seed (same seed, same files)")->capture_default_str();
  cmd->callback([args] {
    auto files = data::write_synthetic(args->options, args->out);
    fmt::print("wrote {} users, {} interactions: {}\n", files.users, files.interactions, files.interactions_path);
    fmt::print("wrote {} items with taxonomy attributes: {}\n", args->options.num_items, files.items_path);
    fmt::print("next: tessera prepare --input {} --metadata {} --out {}/synthetic.tsd\n", files.interactions_path, files.items_path,
               args->out);
  });
}

}  // namespace tessera::cli
