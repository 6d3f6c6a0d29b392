#pragma once
// The semantic-ID tokenizer: one entry point that turns an item matrix into semantic IDs with a
// chosen residual quantiser (rq-kmeans, rq-vae, random), appends the disambiguation level and
// writes a quality report.
//
// The report (SemanticIds::report, a JSON object) holds:
//   method, options        what was run (num_codebooks, codebook_size, balanced, seed, ...;
//                          for rq-vae also hidden_dims, latent_dim, beta, epochs, batch_size, lr)
//   input                  the item matrix: kind, source, num_items, dim
//   level_sizes            codebook sizes, then the disambiguation level's size
//   levels[]               per quantiser level: codebook_size, codes_used, utilisation (fraction
//                          of the codebook used by at least one item), perplexity (exp of the
//                          entropy, natural log, of the code-usage distribution; K when usage is
//                          uniform), largest_group (items on the most used code)
//   collisions             rate_before: fraction of items whose L-code prefix is shared with
//                          another item; rate_after: the same for full IDs (0 by construction);
//                          distinct_prefixes, largest_prefix_group, largest_level1_group
//   reconstruction         mse: mean over items and dimensions of (quantised - input)^2;
//                          relative_mse: mse / per-element variance of the input (the fraction of
//                          variance not explained; 0 = perfect, 1 = no better than the mean);
//                          mse_by_level: mse using only the first 1..L levels
//   training               rq-vae only: first/final epoch loss, final reconstruction loss, dead
//                          codes reset
// Wall-clock time is deliberately not in the report, so that the same input and seed give a
// byte-identical file; tokenize_items() returns it separately.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "tessera/tokenize/item_matrix.h"
#include "tessera/tokenize/rq_vae.h"
#include "tessera/tokenize/semantic_ids.h"

namespace tessera::tokenize {

struct TokenizerOptions {
  std::string method = "rq-kmeans";  // "rq-kmeans", "rq-vae" or "random"
  std::int32_t num_codebooks = 3;    // L (paper name)
  std::int32_t codebook_size = 256;  // K (paper name)
  bool balanced = false;             // rq-kmeans: size-constrained k-means at every level
  std::int64_t kmeans_niter = 25;    // k-means iterations (rq-kmeans, and rq-vae's initialisation)
  std::uint64_t seed = 42;
  // rq-vae only; its num_codebooks, codebook_size, kmeans_niter and seed are taken from above.
  RqVaeOptions rq_vae;

  // Throws tessera::Error naming the option when a value is out of range or unknown.
  void validate() const;
  nlohmann::json to_json() const;
};

// Runs options.method on rows 1..num_items of `matrix` and returns the semantic IDs (with the
// disambiguation level, the matrix's dataset_fingerprint and the quality report). If `seconds`
// is given it receives the wall-clock time of the whole call. Deterministic for a given seed and
// thread count. Throws tessera::Error when the options are invalid or the matrix is inconsistent
// (values size, no items, non-finite values).
SemanticIds tokenize_items(const ItemMatrix& matrix, const TokenizerOptions& options, double* seconds = nullptr);

// Code-usage and collision statistics ("level_sizes", "levels", "collisions" of the report),
// computed from the codes alone, so they can be checked on any SemanticIds.
nlohmann::json code_usage_report(const SemanticIds& ids);

// The report as a human-readable table (several lines, ending in a newline).
std::string format_report(const nlohmann::json& report);

}  // namespace tessera::tokenize
