// tessera embed: item vectors for the semantic-ID tokenizer (content, sasrec, item2vec, fused),
// written as an item matrix file (.imat). All the work is in src/tessera/tokenize.
#include <fmt/format.h>

#include <chrono>

#include "cli/commands.h"
#include "tessera/core/error.h"
#include "tessera/data/dataset.h"
#include "tessera/data/text_parsing.h"
#include "tessera/tokenize/collab_features.h"
#include "tessera/tokenize/content_features.h"
#include "tessera/tokenize/item_features.h"
#include "tessera/tokenize/item_matrix.h"

namespace tessera::cli {

void add_embed_command(CLI::App& app) {
  struct Args {
    std::string data, kind, out, checkpoint, extra_text;
    std::int64_t dim = 64, window = 5, min_df = 2;
    std::uint64_t seed = 0;
    double pmi_shift = 5.0;
    std::vector<std::string> inputs;
    std::vector<double> weights;
    bool check = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("embed", "Build item vectors (content, collaborative, fused) for tokenization");
  cmd->add_option("--data", args->data, "Prepared dataset (.tsd)")->required();
  cmd->add_option("--kind", args->kind, "content | sasrec | item2vec | fused")->required()
      ->check(CLI::IsMember({"content", "sasrec", "item2vec", "fused"}));
  cmd->add_option("--out", args->out, "Output item matrix (.imat), written atomically")->required();
  cmd->add_option("--dim", args->dim, "content/item2vec: vector dimension")->capture_default_str()->check(CLI::Range(1, 4096));
  cmd->add_option("--seed", args->seed, "content/item2vec: seed of the randomized SVD")->capture_default_str();
  cmd->add_option("--extra-text", args->extra_text,
                  "content: extra `KEY text...` lines, KEY = original item ID or title (e.g. Beauty's item_generative_indexing_phase_0.txt)");
  cmd->add_option("--min-df", args->min_df, "content: drop tokens found in fewer items")->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--checkpoint", args->checkpoint, "sasrec: trained checkpoint (e.g. runs/beauty/best.ckpt)");
  cmd->add_option("--window", args->window, "item2vec: co-occurrence window (positions to each side)")->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--pmi-shift", args->pmi_shift, "item2vec: k in max(0, PMI - ln k); 1 = positive PMI")->capture_default_str();
  cmd->add_option("--inputs", args->inputs, "fused: item matrices to fuse, comma-separated")->delimiter(',');
  cmd->add_option("--weights", args->weights, "fused: one weight per input (default: equal, 1/n)")->delimiter(',');
  cmd->add_flag("--check", args->check, "Also print diagnostics: neighbour attribute precision, cosines, last-item HR@10 (validation)");
  cmd->callback([args, cmd] {
    const auto start = std::chrono::steady_clock::now();
    const std::string& kind = args->kind;
    auto only_for = [&](const char* option, std::initializer_list<const char*> kinds) {
      if (cmd->count(option) == 0) return;
      for (auto k : kinds) {
        if (kind == k) return;
      }
      throw Error(fmt::format("embed: {} does not apply to --kind {}", option, kind));
    };
    only_for("--dim", {"content", "item2vec"});
    only_for("--seed", {"content", "item2vec"});
    only_for("--extra-text", {"content"});
    only_for("--min-df", {"content"});
    only_for("--checkpoint", {"sasrec"});
    only_for("--window", {"item2vec"});
    only_for("--pmi-shift", {"item2vec"});
    only_for("--inputs", {"fused"});
    only_for("--weights", {"fused"});

    const auto dataset = data::load_dataset(args->data);
    tokenize::ItemMatrix matrix;
    std::string details;
    if (kind == "content") {
      tokenize::ContentOptions options;
      options.dim = args->dim;
      options.seed = args->seed;
      options.min_document_frequency = args->min_df;
      options.extra_text_path = args->extra_text;
      tokenize::ContentReport report;
      matrix = tokenize::build_content_matrix(dataset, options, &report);
      details = fmt::format("vocabulary {} tokens", report.vocabulary_size);
      if (!args->extra_text.empty()) {
        details += fmt::format("; extra text: {} lines matched, {} unmatched", report.extra_text_matched, report.extra_text_unmatched);
      }
    } else if (kind == "sasrec") {
      if (args->checkpoint.empty()) throw Error("embed: --kind sasrec needs --checkpoint");
      matrix = tokenize::build_sasrec_matrix(dataset, args->checkpoint);
    } else if (kind == "item2vec") {
      tokenize::Item2VecOptions options;
      options.dim = args->dim;
      options.seed = args->seed;
      options.window = args->window;
      options.negative_shift = args->pmi_shift;
      tokenize::Item2VecReport report;
      matrix = tokenize::build_item2vec_matrix(dataset, options, &report);
      details = fmt::format("{} co-occurring pairs, {} with positive shifted PMI", report.cooccurring_pairs, report.positive_pmi_pairs);
    } else {
      if (args->inputs.empty()) throw Error("embed: --kind fused needs --inputs a.imat,b.imat");
      if (args->weights.empty()) args->weights.assign(args->inputs.size(), 1.0 / static_cast<double>(args->inputs.size()));
      if (args->weights.size() != args->inputs.size()) {
        throw Error(fmt::format("embed: --weights has {} values but --inputs has {} files", args->weights.size(), args->inputs.size()));
      }
      std::vector<tokenize::ItemMatrix> loaded;
      loaded.reserve(args->inputs.size());
      std::vector<tokenize::FusionInput> inputs;
      for (std::size_t i = 0; i < args->inputs.size(); ++i) {
        loaded.push_back(tokenize::load_item_matrix(args->inputs[i]));
        tokenize::check_matrix_matches_dataset(loaded.back(), dataset, args->inputs[i]);
      }
      for (std::size_t i = 0; i < args->inputs.size(); ++i) inputs.push_back({&loaded[i], args->inputs[i], args->weights[i]});
      matrix = tokenize::fuse_item_matrices(inputs);
      std::vector<std::string> parts;
      for (std::size_t i = 0; i < loaded.size(); ++i) parts.push_back(fmt::format("{} {} x{:g}", loaded[i].kind, loaded[i].dim, args->weights[i]));
      details = "inputs: " + data::join(parts, ", ");
    }
    tokenize::save_item_matrix(matrix, args->out);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto with_vector = tokenize::count_nonzero_rows(matrix);
    fmt::print("{} item matrix: {} items x {} dims, {} items ({:.1f}%) with a non-zero vector, {:.1f} s -> {}\n", matrix.kind, matrix.num_items,
               matrix.dim, with_vector, 100.0 * static_cast<double>(with_vector) / static_cast<double>(std::max<std::int64_t>(1, matrix.num_items)),
               seconds, args->out);
    if (!details.empty()) fmt::print("  {}\n", details);
    if (args->check) {
      const auto c = tokenize::check_item_matrix(matrix, dataset);
      fmt::print("  check ({} items): top-10 neighbours sharing an attribute {:.3f} (random items {:.3f}); mean cosine to the top-10 "
                 "attribute-sharing items {:.3f} (random items {:.3f}); last-item neighbour HR@10 (validation) {:.4f}\n",
                 c.items_checked, c.neighbour_attribute_precision, c.random_attribute_precision, c.mean_cosine_shared_attribute,
                 c.mean_cosine_random, c.last_item_hr10);
    }
  });
}

}  // namespace tessera::cli
