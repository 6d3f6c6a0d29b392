#include "tessera/tokenize/collab_features.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "tessera/core/error.h"
#include "tessera/core/progress.h"
#include "tessera/data/fingerprint.h"
#include "tessera/data/split.h"
#include "tessera/tokenize/features_svd.h"
#include "tessera/tokenize/item_features.h"
#include "tessera/train/checkpoint.h"
#include "tessera/train/trainer.h"

namespace tessera::tokenize {

ItemMatrix build_sasrec_matrix(const data::Dataset& dataset, const std::string& checkpoint_path) {
  torch::NoGradGuard no_grad;
  auto trained = train::load_trained_model(checkpoint_path, &dataset);
  const torch::Tensor table = trained.model->item_embeddings();  // [num_items + 1, d]
  if (table.dim() != 2 || table.size(0) != dataset.num_items + 1) {
    throw Error::at(checkpoint_path, 0, fmt::format("item table has shape [{}], expected [{} + 1, d]",
                                                    fmt::join(table.sizes(), ", "), dataset.num_items));
  }
  const std::string source = fmt::format("item_embeddings() of {} (model {}, epoch {})", checkpoint_path, trained.config.model,
                                         train::checkpoint_epoch(trained.meta));
  return make_item_matrix(table, "sasrec", source, data::dataset_fingerprint(dataset));
}

ItemMatrix build_item2vec_matrix(const data::Dataset& dataset, const Item2VecOptions& options, Item2VecReport* report) {
  if (options.dim < 1) throw Error(fmt::format("item2vec: dim must be >= 1, got {}", options.dim));
  if (options.window < 1) throw Error(fmt::format("item2vec: window must be >= 1, got {}", options.window));
  if (!(options.negative_shift >= 1.0)) throw Error(fmt::format("item2vec: negative shift k must be >= 1, got {}", options.negative_shift));
  if (!(options.context_smoothing > 0 && options.context_smoothing <= 1)) {
    throw Error(fmt::format("item2vec: context smoothing must be in (0, 1], got {}", options.context_smoothing));
  }
  Item2VecReport local;
  Item2VecReport& r = report ? *report : local;
  const std::int64_t n = dataset.num_items;
  const auto stride = static_cast<std::uint64_t>(n + 1);

  // Ordered pair keys a * (n + 1) + b, both directions, then sorted and run-length counted.
  Progress progress("embed", dataset.num_users(), "users", 2.0);
  std::vector<std::uint64_t> keys;
  for (std::int64_t u = 0; u < dataset.num_users(); ++u) {
    const auto seq = data::training_sequence(dataset, u);
    const auto len = static_cast<std::int64_t>(seq.size());
    for (std::int64_t i = 0; i < len; ++i) {
      for (std::int64_t j = i + 1; j < std::min(len, i + options.window + 1); ++j) {
        const auto a = static_cast<std::uint64_t>(seq[static_cast<std::size_t>(i)]);
        const auto b = static_cast<std::uint64_t>(seq[static_cast<std::size_t>(j)]);
        if (a == b) continue;
        keys.push_back(a * stride + b);
        keys.push_back(b * stride + a);
      }
    }
    if ((u & 1023) == 0) progress.advance(std::min<std::int64_t>(1024, dataset.num_users() - u), "item2vec: co-occurrence");
  }
  std::sort(keys.begin(), keys.end());
  std::vector<std::int64_t> rows, cols;
  std::vector<double> counts;
  for (std::size_t i = 0; i < keys.size();) {
    std::size_t j = i;
    while (j < keys.size() && keys[j] == keys[i]) ++j;
    rows.push_back(static_cast<std::int64_t>(keys[i] / stride));
    cols.push_back(static_cast<std::int64_t>(keys[i] % stride));
    counts.push_back(static_cast<double>(j - i));
    i = j;
  }
  keys = {};
  r.cooccurring_pairs = static_cast<std::int64_t>(counts.size());
  if (counts.empty()) throw Error(fmt::format("item2vec: no two different items co-occur in the training sequences of dataset '{}'", dataset.name));

  // SPPMI with context-distribution smoothing.
  std::vector<double> row_sum(static_cast<std::size_t>(n) + 1, 0.0);
  double total = 0;
  for (std::size_t e = 0; e < counts.size(); ++e) {
    row_sum[static_cast<std::size_t>(rows[e])] += counts[e];
    total += counts[e];
  }
  double smoothed_total = 0;
  for (double c : row_sum) smoothed_total += std::pow(c, options.context_smoothing);
  const double shift = std::log(options.negative_shift);
  std::vector<std::int64_t> kept_rows, kept_cols;
  std::vector<double> pmi_values;
  for (std::size_t e = 0; e < counts.size(); ++e) {
    const double p_ab = counts[e] / total;
    const double p_a = row_sum[static_cast<std::size_t>(rows[e])] / total;
    const double p_b = std::pow(row_sum[static_cast<std::size_t>(cols[e])], options.context_smoothing) / smoothed_total;
    const double value = std::log(p_ab / (p_a * p_b)) - shift;
    if (value > 0) {
      kept_rows.push_back(rows[e]);
      kept_cols.push_back(cols[e]);
      pmi_values.push_back(value);
    }
  }
  r.positive_pmi_pairs = static_cast<std::int64_t>(pmi_values.size());
  if (pmi_values.empty()) {
    throw Error(fmt::format("item2vec: no pair of items in dataset '{}' has PMI above ln({:g}); use a smaller --pmi-shift (1 = positive PMI)",
                            dataset.name, options.negative_shift));
  }
  const torch::Tensor indices = torch::stack({torch::tensor(kept_rows, torch::kLong), torch::tensor(kept_cols, torch::kLong)});
  const torch::Tensor sppmi = torch::sparse_coo_tensor(indices, torch::tensor(pmi_values, torch::kFloat64), {n + 1, n + 1}).coalesce();
  progress.finish(fmt::format("item2vec: {} co-occurring pairs, {} with positive shifted PMI; randomized SVD to {} dims",
                              r.cooccurring_pairs, r.positive_pmi_pairs, options.dim));

  RandomizedSvdOptions svd_options;
  svd_options.seed = options.seed;
  const auto svd = randomized_svd(sppmi, options.dim, svd_options);
  torch::Tensor vectors = torch::zeros({n + 1, options.dim}, torch::kFloat64);
  vectors.narrow(1, 0, svd.s.size(0)).copy_(svd.u * svd.s.sqrt());
  vectors = l2_normalize_rows(vectors);
  const std::string source = fmt::format("SPPMI of training-sequence co-occurrence (window {}, shift ln {:g}, context smoothing {:g}), "
                                         "SVD to {} dims, seed {}",
                                         options.window, options.negative_shift, options.context_smoothing, options.dim, options.seed);
  auto matrix = make_item_matrix(vectors, "item2vec", source, data::dataset_fingerprint(dataset));
  r.items_with_vector = count_nonzero_rows(matrix);
  return matrix;
}

}  // namespace tessera::tokenize
