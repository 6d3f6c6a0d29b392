#include "tessera/tokenize/tokenizer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "tessera/core/error.h"
#include "tessera/tokenize/rq_kmeans.h"

namespace tessera::tokenize {

void TokenizerOptions::validate() const {
  if (method != "rq-kmeans" && method != "rq-vae" && method != "random") {
    throw Error(fmt::format("tokenizer: unknown method '{}' (expected rq-kmeans, rq-vae or random)", method));
  }
  if (num_codebooks < 1) throw Error(fmt::format("tokenizer: num_codebooks must be >= 1, got {}", num_codebooks));
  if (codebook_size < 1) throw Error(fmt::format("tokenizer: codebook_size must be >= 1, got {}", codebook_size));
  if (kmeans_niter < 1) throw Error(fmt::format("tokenizer: kmeans_niter must be >= 1, got {}", kmeans_niter));
  if (balanced && method != "rq-kmeans") throw Error(fmt::format("tokenizer: balanced applies to rq-kmeans only, not {}", method));
  if (method == "rq-vae") rq_vae.validate();
}

nlohmann::json TokenizerOptions::to_json() const {
  nlohmann::json j = {{"method", method},
                      {"num_codebooks", num_codebooks},
                      {"codebook_size", codebook_size},
                      {"seed", seed}};
  if (method == "rq-kmeans") {
    j["balanced"] = balanced;
    j["kmeans_niter"] = kmeans_niter;
  }
  if (method == "rq-vae") {
    j["kmeans_niter"] = kmeans_niter;
    j["hidden_dims"] = rq_vae.hidden_dims;
    j["latent_dim"] = rq_vae.latent_dim;
    j["beta"] = rq_vae.beta;
    j["epochs"] = rq_vae.epochs;
    j["batch_size"] = rq_vae.batch_size;
    j["lr"] = rq_vae.lr;
    j["weight_decay"] = rq_vae.weight_decay;
    j["reset_dead_codes"] = rq_vae.reset_dead_codes;
  }
  return j;
}

namespace {

void check_matrix(const ItemMatrix& m) {
  const std::string where = fmt::format("item matrix ({}, {})", m.kind.empty() ? "unnamed" : m.kind, m.source);
  if (m.num_items < 1) throw Error(fmt::format("{}: field 'num_items' must be >= 1, got {}", where, m.num_items));
  if (m.dim < 1) throw Error(fmt::format("{}: field 'dim' must be >= 1, got {}", where, m.dim));
  if (static_cast<std::int64_t>(m.values.size()) != (m.num_items + 1) * m.dim) {
    throw Error(fmt::format("{}: field 'values' has {} entries, expected (num_items + 1) * dim = {}", where, m.values.size(),
                            (m.num_items + 1) * m.dim));
  }
  for (std::int64_t item = 1; item <= m.num_items; ++item) {
    for (std::int64_t j = 0; j < m.dim; ++j) {
      if (!std::isfinite(m.row(item)[j])) throw Error(fmt::format("{}: item {} has a non-finite value in dimension {}", where, item, j));
    }
  }
}

// exp(entropy) of a count distribution.
double perplexity(const std::vector<std::int64_t>& counts) {
  double total = 0.0;
  for (auto c : counts) total += static_cast<double>(c);
  if (total <= 0.0) return 0.0;
  double entropy = 0.0;
  for (auto c : counts) {
    if (c == 0) continue;
    const double p = static_cast<double>(c) / total;
    entropy -= p * std::log(p);
  }
  return std::exp(entropy);
}

nlohmann::json reconstruction_report(const ResidualCodes& rc, const float* x) {
  const std::int64_t n = rc.n, dim = rc.dim;
  std::vector<double> mean(static_cast<std::size_t>(dim), 0.0);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < dim; ++j) mean[j] += x[i * dim + j];
  }
  for (auto& m : mean) m /= static_cast<double>(std::max<std::int64_t>(n, 1));
  double variance = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < dim; ++j) variance += (x[i * dim + j] - mean[j]) * (x[i * dim + j] - mean[j]);
  }
  variance /= static_cast<double>(std::max<std::int64_t>(n * dim, 1));
  const double mse = mean_squared_error(rc.reconstruction.data(), x, n, dim);
  return {{"mse", mse},
          {"relative_mse", variance > 0.0 ? mse / variance : 0.0},
          {"input_variance", variance},
          {"mse_by_level", rc.mse_by_level}};
}

}  // namespace

nlohmann::json code_usage_report(const SemanticIds& ids) {
  const std::int64_t n = ids.num_items;
  const std::int32_t L = ids.num_quantizer_levels;
  nlohmann::json levels = nlohmann::json::array();
  std::int64_t largest_level1 = 0;
  for (std::int32_t l = 0; l < L; ++l) {
    std::vector<std::int64_t> counts(static_cast<std::size_t>(ids.level_sizes[l]), 0);
    for (std::int64_t item = 1; item <= n; ++item) ++counts[ids.code(item)[l]];
    const auto used = std::count_if(counts.begin(), counts.end(), [](std::int64_t c) { return c > 0; });
    const auto largest = counts.empty() ? 0 : *std::max_element(counts.begin(), counts.end());
    if (l == 0) largest_level1 = largest;
    levels.push_back({{"level", l + 1},
                      {"codebook_size", ids.level_sizes[l]},
                      {"codes_used", used},
                      {"utilisation", static_cast<double>(used) / ids.level_sizes[l]},
                      {"perplexity", perplexity(counts)},
                      {"largest_group", largest}});
  }
  std::map<std::vector<std::int32_t>, std::int64_t> prefixes, full_ids;
  for (std::int64_t item = 1; item <= n; ++item) {
    const auto code = ids.code(item);
    ++prefixes[std::vector<std::int32_t>(code.begin(), code.begin() + L)];
    ++full_ids[std::vector<std::int32_t>(code.begin(), code.end())];
  }
  auto colliding = [](const std::map<std::vector<std::int32_t>, std::int64_t>& groups) {
    std::int64_t items = 0, largest = 0;
    for (const auto& [key, count] : groups) {
      if (count > 1) items += count;
      largest = std::max(largest, count);
    }
    return std::pair{items, largest};
  };
  const auto [before_items, largest_prefix] = colliding(prefixes);
  const auto [after_items, largest_full] = colliding(full_ids);
  (void)largest_full;
  const double denominator = static_cast<double>(std::max<std::int64_t>(n, 1));
  nlohmann::json collisions = {{"rate_before", static_cast<double>(before_items) / denominator},
                               {"items_colliding_before", before_items},
                               {"rate_after", static_cast<double>(after_items) / denominator},
                               {"distinct_prefixes", prefixes.size()},
                               {"largest_prefix_group", largest_prefix},
                               {"largest_level1_group", largest_level1}};
  return {{"level_sizes", ids.level_sizes}, {"levels", levels}, {"collisions", collisions}};
}

SemanticIds tokenize_items(const ItemMatrix& matrix, const TokenizerOptions& options, double* seconds) {
  const auto start = std::chrono::steady_clock::now();
  options.validate();
  check_matrix(matrix);
  const std::int64_t n = matrix.num_items, dim = matrix.dim;
  const float* x = matrix.row(1);  // rows 1..n are contiguous

  ResidualCodes rc;
  nlohmann::json training;
  if (options.method == "rq-kmeans") {
    RqKMeansOptions o;
    o.num_codebooks = options.num_codebooks;
    o.codebook_size = options.codebook_size;
    o.balanced = options.balanced;
    o.niter = options.kmeans_niter;
    o.seed = options.seed;
    rc = rq_kmeans(x, n, dim, o);
  } else if (options.method == "rq-vae") {
    RqVaeOptions o = options.rq_vae;
    o.num_codebooks = options.num_codebooks;
    o.codebook_size = options.codebook_size;
    o.kmeans_niter = options.kmeans_niter;
    o.seed = options.seed;
    auto result = train_rq_vae(x, n, dim, o);
    rc = std::move(result.codes);
    const auto& t = result.training;
    training = {{"epochs", t.epoch_loss.size()},
                {"first_epoch_loss", t.epoch_loss.front()},
                {"final_epoch_loss", t.epoch_loss.back()},
                {"final_reconstruction_loss", t.epoch_reconstruction_loss.back()},
                {"dead_codes_reset", t.dead_codes_reset}};
  } else {
    rc = random_residual_codes(x, n, dim, options.num_codebooks, options.codebook_size, options.seed);
  }

  // Quantiser codes with the padding row 0 in front, as assign_with_disambiguation() expects.
  const std::int64_t L = options.num_codebooks;
  std::vector<std::int32_t> codes(static_cast<std::size_t>((n + 1) * L), 0);
  std::copy(rc.codes.begin(), rc.codes.end(), codes.begin() + L);
  const std::vector<std::int32_t> sizes(static_cast<std::size_t>(L), options.codebook_size);

  SemanticIds ids;
  ids.method = options.method;
  ids.dataset_fingerprint = matrix.dataset_fingerprint;
  assign_with_disambiguation(ids, codes, sizes, n);

  nlohmann::json report = code_usage_report(ids);
  report["method"] = options.method;
  report["options"] = options.to_json();
  report["input"] = {{"kind", matrix.kind}, {"source", matrix.source}, {"num_items", n}, {"dim", dim}};
  report["reconstruction"] = reconstruction_report(rc, x);
  if (!training.is_null()) report["training"] = training;
  ids.report = std::move(report);
  if (seconds) *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return ids;
}

std::string format_report(const nlohmann::json& r) {
  std::string out;
  auto get = [](const nlohmann::json& j, const char* key) -> const nlohmann::json& {
    static const nlohmann::json null;
    return j.contains(key) ? j.at(key) : null;
  };
  const auto& options = get(r, "options");
  const auto& input = get(r, "input");
  const auto& sizes = get(r, "level_sizes");
  if (r.contains("method")) {
    out += fmt::format("method        {}", r.at("method").get<std::string>());
    if (options.is_object()) {
      std::vector<std::string> parts;
      for (const auto& [key, value] : options.items()) {
        if (key != "method") parts.push_back(key + "=" + value.dump());
      }
      out += "  (" + fmt::format("{}", fmt::join(parts, ", ")) + ")";
    }
    out += "\n";
  }
  if (input.is_object()) {
    out += fmt::format("input         {} items x {} dims, kind '{}', source: {}\n", input.value("num_items", 0),
                       input.value("dim", 0), input.value("kind", ""), input.value("source", ""));
  }
  if (sizes.is_array()) out += fmt::format("level sizes   {}\n", sizes.dump());
  const auto& levels = get(r, "levels");
  if (levels.is_array()) {
    out += fmt::format("\n{:>5}  {:>8}  {:>6}  {:>11}  {:>10}  {:>13}\n", "level", "codebook", "used", "utilisation",
                       "perplexity", "largest group");
    for (const auto& l : levels) {
      out += fmt::format("{:>5}  {:>8}  {:>6}  {:>10.1f}%  {:>10.1f}  {:>13}\n", l.value("level", 0), l.value("codebook_size", 0),
                         l.value("codes_used", 0), 100.0 * l.value("utilisation", 0.0), l.value("perplexity", 0.0),
                         l.value("largest_group", 0));
    }
  }
  const auto& rec = get(r, "reconstruction");
  if (rec.is_object()) {
    out += fmt::format("\nreconstruction  MSE {:.6g}, relative to input variance {:.4f}", rec.value("mse", 0.0),
                       rec.value("relative_mse", 0.0));
    if (rec.contains("mse_by_level")) {
      std::vector<std::string> parts;
      for (const auto& v : rec.at("mse_by_level")) parts.push_back(fmt::format("{:.6g}", v.get<double>()));
      out += fmt::format("; MSE after levels 1..{}: {}", parts.size(), fmt::join(parts, ", "));
    }
    out += "\n";
  }
  const auto& c = get(r, "collisions");
  if (c.is_object()) {
    out += fmt::format("collisions      before disambiguation {:.2f}% of items ({} items, {} distinct prefixes), after {:.2f}%\n",
                       100.0 * c.value("rate_before", 0.0), c.value("items_colliding_before", 0), c.value("distinct_prefixes", 0),
                       100.0 * c.value("rate_after", 0.0));
    out += fmt::format("largest groups  full prefix {} items, level-1 code {} items\n", c.value("largest_prefix_group", 0),
                       c.value("largest_level1_group", 0));
  }
  const auto& t = get(r, "training");
  if (t.is_object()) {
    out += fmt::format("training        {} epochs, loss {:.6g} -> {:.6g}, reconstruction loss {:.6g}, {} dead codes reset\n",
                       t.value("epochs", 0), t.value("first_epoch_loss", 0.0), t.value("final_epoch_loss", 0.0),
                       t.value("final_reconstruction_loss", 0.0), t.value("dead_codes_reset", 0));
  }
  if (r.contains("seconds")) out += fmt::format("time            {:.1f} s\n", r.at("seconds").get<double>());
  return out;
}

}  // namespace tessera::tokenize
