#include "tessera/tokenize/item_features.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "tessera/core/error.h"
#include "tessera/data/fingerprint.h"
#include "tessera/data/split.h"

namespace tessera::tokenize {

torch::Tensor l2_normalize_rows(const torch::Tensor& rows) {
  const torch::Tensor norms = rows.norm(2, /*dim=*/1, /*keepdim=*/true);
  return torch::where(norms < 1e-12, torch::zeros_like(rows), rows / norms.clamp_min(1e-12));
}

ItemMatrix make_item_matrix(const torch::Tensor& rows, std::string kind, std::string source, std::string dataset_fingerprint) {
  if (rows.dim() != 2 || rows.size(0) < 1 || rows.size(1) < 1) {
    throw Error(fmt::format("item matrix '{}': expected a [num_items + 1, dim] tensor, got {}-D", kind, rows.dim()));
  }
  torch::Tensor values = rows.detach().to(torch::kCPU, torch::kFloat32).contiguous().clone();
  if (!torch::isfinite(values).all().item<bool>()) throw Error(fmt::format("item matrix '{}' ({}): values are not all finite", kind, source));
  values[0].zero_();
  ItemMatrix m;
  m.kind = std::move(kind);
  m.source = std::move(source);
  m.dataset_fingerprint = std::move(dataset_fingerprint);
  m.num_items = values.size(0) - 1;
  m.dim = values.size(1);
  m.values.assign(values.data_ptr<float>(), values.data_ptr<float>() + values.numel());
  return m;
}

torch::Tensor item_matrix_tensor(const ItemMatrix& matrix) {
  return torch::from_blob(const_cast<float*>(matrix.values.data()), {matrix.num_items + 1, matrix.dim}, torch::kFloat32).clone();
}

void check_matrix_matches_dataset(const ItemMatrix& matrix, const data::Dataset& dataset, const std::string& where) {
  const auto fingerprint = data::dataset_fingerprint(dataset);
  if (matrix.dataset_fingerprint != fingerprint || matrix.num_items != dataset.num_items) {
    throw Error::at(where, 0, fmt::format("item matrix was built for a dataset with fingerprint {} ({} items), but dataset '{}' has "
                                          "fingerprint {} ({} items); item IDs would not match",
                                          matrix.dataset_fingerprint, matrix.num_items, dataset.name, fingerprint, dataset.num_items));
  }
}

ItemMatrix fuse_item_matrices(const std::vector<FusionInput>& inputs) {
  if (inputs.empty()) throw Error("fuse: no input matrices");
  const ItemMatrix& first = *inputs.front().matrix;
  std::vector<torch::Tensor> parts;
  std::string source;
  for (const auto& input : inputs) {
    const ItemMatrix& m = *input.matrix;
    if (m.dataset_fingerprint != first.dataset_fingerprint || m.num_items != first.num_items) {
      throw Error::at(input.name, 0, fmt::format("dataset fingerprint {} ({} items) differs from {} ({}, {} items); cannot fuse",
                                                 m.dataset_fingerprint, m.num_items, inputs.front().name, first.dataset_fingerprint,
                                                 first.num_items));
    }
    if (!std::isfinite(input.weight) || input.weight < 0) {
      throw Error::at(input.name, 0, fmt::format("fusion weight must be finite and >= 0, got {}", input.weight));
    }
    parts.push_back(l2_normalize_rows(item_matrix_tensor(m)) * input.weight);
    if (!source.empty()) source += " + ";
    source += fmt::format("{:g} * normalize({} '{}' from {})", input.weight, m.kind, m.source, input.name);
  }
  return make_item_matrix(torch::cat(parts, 1), "fused", source, first.dataset_fingerprint);
}

std::int64_t count_nonzero_rows(const ItemMatrix& matrix) {
  std::int64_t count = 0;
  for (std::int64_t i = 1; i <= matrix.num_items; ++i) {
    const float* r = matrix.row(i);
    if (std::any_of(r, r + matrix.dim, [](float v) { return v != 0.0f; })) ++count;
  }
  return count;
}

namespace {

// Per item (0..num_items), the sorted IDs of its attributes (empty without metadata).
std::vector<std::vector<std::int32_t>> attribute_ids(const data::Dataset& dataset, std::int64_t* num_attributes) {
  std::vector<std::vector<std::int32_t>> ids(static_cast<std::size_t>(dataset.num_items) + 1);
  std::unordered_map<std::string, std::int32_t> index;
  if (dataset.has_metadata()) {
    for (std::int64_t i = 1; i <= dataset.num_items; ++i) {
      for (const auto& a : dataset.item_metadata[static_cast<std::size_t>(i)].attributes) {
        auto [it, inserted] = index.emplace(a, static_cast<std::int32_t>(index.size()));
        ids[static_cast<std::size_t>(i)].push_back(it->second);
      }
      auto& v = ids[static_cast<std::size_t>(i)];
      std::sort(v.begin(), v.end());
      v.erase(std::unique(v.begin(), v.end()), v.end());
    }
  }
  *num_attributes = static_cast<std::int64_t>(index.size());
  return ids;
}

bool share_attribute(const std::vector<std::int32_t>& a, const std::vector<std::int32_t>& b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i] == b[j]) return true;
    if (a[i] < b[j]) ++i; else ++j;
  }
  return false;
}

}  // namespace

ItemMatrixCheck check_item_matrix(const ItemMatrix& matrix, const data::Dataset& dataset, std::int64_t neighbours,
                                  std::int64_t max_items, std::uint64_t seed) {
  check_matrix_matches_dataset(matrix, dataset, "item matrix");
  torch::NoGradGuard no_grad;
  const std::int64_t n = matrix.num_items;
  const torch::Tensor x = l2_normalize_rows(item_matrix_tensor(matrix));  // [n + 1, d]
  const torch::Tensor nonzero = x.abs().sum(1) > 0;                        // [n + 1] bool
  const float minus_inf = -std::numeric_limits<float>::infinity();
  ItemMatrixCheck check;
  const double nan = std::numeric_limits<double>::quiet_NaN();

  std::int64_t num_attributes = 0;
  const auto attrs = attribute_ids(dataset, &num_attributes);
  std::vector<std::int64_t> candidates;
  const auto nonzero_a = nonzero.accessor<bool, 1>();
  for (std::int64_t i = 1; i <= n; ++i) {
    if (nonzero_a[i] && (!dataset.has_metadata() || !attrs[static_cast<std::size_t>(i)].empty())) candidates.push_back(i);
  }
  auto generator = at::detail::createCPUGenerator(seed);
  const torch::Tensor order = torch::randperm(static_cast<std::int64_t>(candidates.size()), generator, torch::kLong);
  std::vector<std::int64_t> sample;
  for (std::int64_t j = 0; j < std::min<std::int64_t>(max_items, order.size(0)); ++j) sample.push_back(candidates[order[j].item<std::int64_t>()]);
  check.items_checked = static_cast<std::int64_t>(sample.size());

  check.mean_cosine_shared_attribute = check.mean_cosine_random = check.neighbour_attribute_precision = nan;
  check.random_attribute_precision = nan;
  if (dataset.has_metadata() && !sample.empty()) {
    const torch::Tensor sample_t = torch::tensor(sample, torch::kLong);
    torch::Tensor sims = torch::mm(x.index_select(0, sample_t), x.t());  // [S, n + 1]
    sims.masked_fill_(~nonzero.unsqueeze(0), minus_inf);
    sims.scatter_(1, sample_t.unsqueeze(1), minus_inf);  // not its own neighbour
    const std::int64_t k = std::min<std::int64_t>(neighbours, n - 1);
    const torch::Tensor top = std::get<1>(sims.topk(k, 1));
    // Items sharing an attribute with each sampled item.
    std::vector<std::vector<std::int64_t>> items_with(static_cast<std::size_t>(num_attributes));
    for (std::int64_t i = 1; i <= n; ++i) {
      for (auto a : attrs[static_cast<std::size_t>(i)]) items_with[static_cast<std::size_t>(a)].push_back(i);
    }
    torch::Tensor shares = torch::zeros({static_cast<std::int64_t>(sample.size()), n + 1}, torch::kBool);
    auto shares_a = shares.accessor<bool, 2>();
    std::int64_t hits = 0, total = 0;
    auto top_a = top.accessor<std::int64_t, 2>();
    for (std::size_t s = 0; s < sample.size(); ++s) {
      const auto& mine = attrs[static_cast<std::size_t>(sample[s])];
      for (auto a : mine) {
        for (auto j : items_with[static_cast<std::size_t>(a)]) shares_a[static_cast<std::int64_t>(s)][j] = true;
      }
      for (std::int64_t t = 0; t < k; ++t) {
        hits += share_attribute(mine, attrs[static_cast<std::size_t>(top_a[static_cast<std::int64_t>(s)][t])]) ? 1 : 0;
        ++total;
      }
    }
    check.neighbour_attribute_precision = total > 0 ? static_cast<double>(hits) / static_cast<double>(total) : nan;
    const torch::Tensor shared_sims = sims.masked_fill(~shares, minus_inf);
    const torch::Tensor shared_top = std::get<0>(shared_sims.topk(k, 1));
    const torch::Tensor finite = torch::isfinite(shared_top);
    check.mean_cosine_shared_attribute = shared_top.masked_select(finite).mean().item<double>();
    const auto nonzero_items = nonzero.nonzero().squeeze(1);  // [num non-zero]
    const torch::Tensor pick = torch::randint(nonzero_items.size(0), {static_cast<std::int64_t>(sample.size()), k}, generator, torch::kLong);
    const torch::Tensor random_sims = (x.index_select(0, sample_t).unsqueeze(1) * x.index_select(0, nonzero_items.index_select(0, pick.flatten()))
                                                                                      .view({static_cast<std::int64_t>(sample.size()), k, -1}))
                                          .sum(2);
    check.mean_cosine_random = random_sims.mean().item<double>();
    const torch::Tensor random_items = nonzero_items.index_select(0, pick.flatten()).view({static_cast<std::int64_t>(sample.size()), k});
    auto random_a = random_items.accessor<std::int64_t, 2>();
    std::int64_t random_hits = 0;
    for (std::size_t s = 0; s < sample.size(); ++s) {
      for (std::int64_t t = 0; t < k; ++t) {
        random_hits += share_attribute(attrs[static_cast<std::size_t>(sample[s])],
                                       attrs[static_cast<std::size_t>(random_a[static_cast<std::int64_t>(s)][t])]) ? 1 : 0;
      }
    }
    check.random_attribute_precision = static_cast<double>(random_hits) / static_cast<double>(sample.size() * static_cast<std::size_t>(k));
  }

  // Next-item sanity check on the validation split.
  const auto examples = data::leave_last_out_examples(dataset, data::Split::kValidation);
  std::int64_t hits = 0;
  const std::int64_t batch = 1024;
  for (std::size_t start = 0; start < examples.size(); start += batch) {
    const std::size_t end = std::min(examples.size(), start + batch);
    std::vector<std::int64_t> last, target;
    for (std::size_t e = start; e < end; ++e) {
      last.push_back(examples[e].history.back());
      target.push_back(examples[e].target);
    }
    const torch::Tensor last_t = torch::tensor(last, torch::kLong), target_t = torch::tensor(target, torch::kLong);
    torch::Tensor scores = torch::mm(x.index_select(0, last_t), x.t());  // [B, n + 1]
    scores.select(1, 0).fill_(minus_inf);
    scores.scatter_(1, last_t.unsqueeze(1), minus_inf);
    const torch::Tensor target_score = scores.gather(1, target_t.unsqueeze(1));
    const torch::Tensor rank = (scores >= target_score).sum(1) - 1;  // ties count against the target
    hits += (rank < 10).logical_and(torch::isfinite(target_score.squeeze(1))).sum().item<std::int64_t>();
  }
  check.last_item_hr10 = examples.empty() ? nan : static_cast<double>(hits) / static_cast<double>(examples.size());
  return check;
}

}  // namespace tessera::tokenize
