// tessera tokenize: semantic IDs from item vectors (an item matrix from `tessera embed`), written
// as a semantic-ID file (.sids) with its quality report; `--describe FILE.sids` prints the report
// of an existing file. All the work is in src/tessera/tokenize.
#include <fmt/format.h>

#include "cli/commands.h"
#include "tessera/core/atomic_file.h"
#include "tessera/core/error.h"
#include "tessera/data/dataset.h"
#include "tessera/data/fingerprint.h"
#include "tessera/tokenize/item_matrix.h"
#include "tessera/tokenize/semantic_ids.h"
#include "tessera/tokenize/tokenizer.h"

namespace tessera::cli {

namespace {

void print_semantic_ids(const tokenize::SemanticIds& ids, const std::string& path) {
  fmt::print("{}: {} items, {} quantizer levels + disambiguation, method {}, dataset fingerprint {}\n", path, ids.num_items,
             ids.num_quantizer_levels, ids.method, ids.dataset_fingerprint);
  fmt::print("{}", tokenize::format_report(ids.report));
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
  struct Args {
    std::string data, embeddings, out, describe, report_json;
    tokenize::TokenizerOptions options;
    bool no_reset = false;
  };
  auto args = std::make_shared<Args>();
  auto& o = args->options;
  auto* cmd = app.add_subcommand("tokenize", "Assign semantic IDs to items (RQ-KMeans, RQ-VAE, random) and report their quality");
  cmd->add_option("--data", args->data, "Prepared dataset (.tsd) the item matrix was built from");
  cmd->add_option("--embeddings", args->embeddings, "Item matrix (.imat) from `tessera embed`");
  cmd->add_option("--out", args->out, "Output semantic-ID file (.sids), written atomically");
  cmd->add_option("--method", o.method, "rq-kmeans | rq-vae | random")->capture_default_str()
      ->check(CLI::IsMember({"rq-kmeans", "rq-vae", "random"}));
  cmd->add_option("--num-codebooks", o.num_codebooks, "Quantizer levels L (num_codebooks)")->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--codebook-size", o.codebook_size, "Codes per level K (codebook_size)")->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_flag("--balanced", o.balanced, "rq-kmeans: size-constrained k-means (at most ceil(n/K) items per code)");
  cmd->add_option("--seed", o.seed, "Seed of k-means, RQ-VAE and random codes")->capture_default_str();
  cmd->add_option("--kmeans-iterations", o.kmeans_niter, "k-means iterations per level")->capture_default_str()
      ->check(CLI::Range(1, 10000));
  cmd->add_option("--hidden-dims", o.rq_vae.hidden_dims, "rq-vae: encoder hidden widths (decoder mirrors them)")
      ->delimiter(',')->capture_default_str();
  cmd->add_option("--latent-dim", o.rq_vae.latent_dim, "rq-vae: latent and code width")->capture_default_str();
  cmd->add_option("--beta", o.rq_vae.beta, "rq-vae: commitment loss weight (beta)")->capture_default_str();
  cmd->add_option("--epochs", o.rq_vae.epochs, "rq-vae: training epochs")->capture_default_str();
  cmd->add_option("--batch-size", o.rq_vae.batch_size, "rq-vae: items per step")->capture_default_str();
  cmd->add_option("--lr", o.rq_vae.lr, "rq-vae: AdamW learning rate")->capture_default_str();
  cmd->add_option("--weight-decay", o.rq_vae.weight_decay, "rq-vae: AdamW weight decay")->capture_default_str();
  cmd->add_flag("--no-dead-code-reset", args->no_reset, "rq-vae: keep codes no item used during an epoch");
  cmd->add_option("--report-json", args->report_json, "Also write the quality report, with the wall-clock time, to this JSON file");
  cmd->add_option("--describe", args->describe, "Print the report of an existing semantic-ID file instead of tokenizing");
  cmd->callback([args, cmd] {
    if (!args->describe.empty()) {
      print_semantic_ids(tokenize::load_semantic_ids(args->describe), args->describe);
      return;
    }
    if (args->data.empty() || args->embeddings.empty() || args->out.empty()) {
      throw Error("tokenize: --data, --embeddings and --out are required (or use --describe FILE.sids)");
    }
    auto& o = args->options;
    const bool vae = o.method == "rq-vae";
    for (const char* option : {"--hidden-dims", "--latent-dim", "--beta", "--epochs", "--batch-size", "--lr", "--weight-decay",
                               "--no-dead-code-reset"}) {
      if (!vae && cmd->count(option) > 0) throw Error(fmt::format("tokenize: {} applies to --method rq-vae only", option));
    }
    if (o.balanced && o.method != "rq-kmeans") throw Error("tokenize: --balanced applies to --method rq-kmeans only");
    o.rq_vae.reset_dead_codes = !args->no_reset;
    o.validate();

    const auto dataset = data::load_dataset(args->data);
    const auto matrix = tokenize::load_item_matrix(args->embeddings);
    const auto fingerprint = data::dataset_fingerprint(dataset);
    if (matrix.dataset_fingerprint != fingerprint) {
      throw Error::at(args->embeddings, 0,
                      fmt::format("field 'dataset_fingerprint' is {} but {} has fingerprint {}: the item matrix was built from "
                                  "another dataset",
                                  matrix.dataset_fingerprint, args->data, fingerprint));
    }
    if (matrix.num_items != dataset.num_items) {
      throw Error::at(args->embeddings, 0,
                      fmt::format("field 'num_items' is {} but {} has {} items", matrix.num_items, args->data, dataset.num_items));
    }

    double seconds = 0.0;
    auto ids = tokenize::tokenize_items(matrix, o, &seconds);
    ids.report["dataset"] = {{"path", args->data}, {"name", dataset.name}};
    ids.report["embeddings"] = args->embeddings;
    tokenize::save_semantic_ids(ids, args->out);
    fmt::print("wrote {} ({} items, {} levels: {} codebooks of {} + disambiguation up to {}) in {:.1f} s\n", args->out,
               ids.num_items, ids.num_levels(), ids.num_quantizer_levels, o.codebook_size, ids.level_sizes.back(), seconds);
    fmt::print("{}", tokenize::format_report(ids.report));
    if (!args->report_json.empty()) {
      auto report = ids.report;
      report["seconds"] = seconds;
      report["out"] = args->out;
      write_text_atomically(args->report_json, report.dump(2) + "\n");
      fmt::print("report written to {}\n", args->report_json);
    }
  });
}

}  // namespace tessera::cli
