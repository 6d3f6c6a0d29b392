// tessera export: a trained checkpoint plus its dataset's item table -> one model bundle for
// `tessera serve`; --describe prints a bundle's manifest.
#include <fmt/format.h>

#include "cli/commands.h"
#include "tessera/bundle/bundle.h"
#include "tessera/data/dataset.h"

namespace tessera::cli {

void add_export_command(CLI::App& app) {
  struct Args {
    std::string checkpoint, data, out, version, describe;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("export", "Write a self-contained model bundle (weights, config, semantic IDs, item table) for serving");
  auto* describe = cmd->add_option("--describe", args->describe, "Verify a bundle and print its manifest instead of exporting");
  cmd->add_option("--checkpoint", args->checkpoint, "Trained checkpoint (runs/x/best.ckpt)")->excludes(describe);
  cmd->add_option("--data", args->data, "Prepared dataset (.tsd) the model was trained on: item IDs and metadata")->excludes(describe);
  cmd->add_option("--out", args->out, "Bundle file to write (e.g. bundles/sasrec-ml1m.tsb)")->excludes(describe);
  cmd->add_option("--version", args->version, "Version label the server reports (default: the checkpoint's CRC-32)")->excludes(describe);
  cmd->callback([args] {
    if (!args->describe.empty()) {
      const auto bundle = bundle::load_bundle(args->describe);
      fmt::print("{}: valid bundle, {} items\n{}\n", args->describe, bundle.items.num_items(), bundle.manifest.dump(2));
      return;
    }
    if (args->checkpoint.empty() || args->data.empty() || args->out.empty()) {
      throw Error("export: --checkpoint, --data and --out are required (or --describe BUNDLE)");
    }
    const auto dataset = data::load_dataset(args->data);
    const auto manifest = bundle::export_bundle(args->checkpoint, dataset, args->out, {args->version, args->data});
    std::uint64_t bytes = 0;
    for (const auto& s : manifest["sections"]) bytes += s["bytes"].get<std::uint64_t>();
    fmt::print("wrote {}: {} ({}) over {} items of '{}', version {}, {:.1f} MiB\n", args->out, manifest["model"]["name"].get<std::string>(),
               manifest["model"]["kind"].get<std::string>(), dataset.num_items, dataset.name, manifest["version"].get<std::string>(),
               static_cast<double>(bytes) / (1 << 20));
  });
}

}  // namespace tessera::cli
