#include "tessera/tokenize/content_features.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

#include "tessera/core/error.h"
#include "tessera/core/progress.h"
#include "tessera/data/fingerprint.h"
#include "tessera/data/line_reader.h"
#include "tessera/data/text_parsing.h"
#include "tessera/tokenize/features_svd.h"
#include "tessera/tokenize/item_features.h"

namespace tessera::tokenize {

namespace {

bool is_word_byte(unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80; }

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

void add_words(std::string_view text, std::int32_t year, std::vector<std::string>& tokens) {
  const std::string year_text = year > 0 ? std::to_string(year) : std::string();
  for (auto& w : text_words(text)) {
    if (w != year_text) tokens.push_back("word:" + w);
  }
}

}  // namespace

std::vector<std::string> text_words(std::string_view text) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !is_word_byte(static_cast<unsigned char>(text[i]))) ++i;
    const std::size_t start = i;
    while (i < text.size() && is_word_byte(static_cast<unsigned char>(text[i]))) ++i;
    if (i - start >= 2) words.push_back(lower_ascii(text.substr(start, i - start)));
  }
  return words;
}

std::vector<std::string> content_tokens(const data::ItemMetadata& metadata) {
  std::vector<std::string> tokens;
  for (const auto& a : metadata.attributes) {
    auto name = lower_ascii(data::trim(a));
    if (!name.empty()) tokens.push_back("attr:" + name);
  }
  add_words(metadata.title, metadata.year, tokens);
  if (metadata.year > 0) tokens.push_back(fmt::format("decade:{}", metadata.year / 10 * 10));
  return tokens;
}

std::vector<std::vector<std::string>> read_extra_text(const std::string& path, const data::Dataset& dataset, ContentReport* report) {
  std::unordered_map<std::string, std::int32_t> by_id, by_title;
  for (std::int32_t i = 1; i <= dataset.num_items; ++i) by_id.emplace(dataset.item_ids[static_cast<std::size_t>(i)], i);
  if (dataset.has_metadata()) {
    std::unordered_map<std::string, int> title_count;
    for (std::int32_t i = 1; i <= dataset.num_items; ++i) ++title_count[dataset.item_metadata[static_cast<std::size_t>(i)].title];
    for (std::int32_t i = 1; i <= dataset.num_items; ++i) {
      const auto& title = dataset.item_metadata[static_cast<std::size_t>(i)].title;
      if (!title.empty() && title_count[title] == 1) by_title.emplace(title, i);  // ambiguous titles are not keys
    }
  }
  std::vector<std::vector<std::string>> words(static_cast<std::size_t>(dataset.num_items) + 1);
  std::int64_t matched = 0, unmatched = 0;
  data::LineReader reader(path);
  std::string_view line;
  while (reader.next(line)) {
    line = data::trim(line);
    if (line.empty()) continue;
    const auto split = line.find_first_of(" \t");
    const auto key = std::string(line.substr(0, split));
    const auto text = split == std::string_view::npos ? std::string_view() : line.substr(split + 1);
    std::int32_t item = 0;
    if (auto it = by_id.find(key); it != by_id.end()) {
      item = it->second;
    } else if (auto jt = by_title.find(key); jt != by_title.end()) {
      item = jt->second;
    } else {
      ++unmatched;
      continue;
    }
    ++matched;
    auto& item_words = words[static_cast<std::size_t>(item)];
    for (auto& w : text_words(data::to_utf8(text))) item_words.push_back(std::move(w));
  }
  if (matched == 0) {
    throw Error::at(path, 0, fmt::format("none of its {} lines has a key (first word) equal to an original item ID or title of dataset '{}'",
                                         unmatched, dataset.name));
  }
  if (report) {
    report->extra_text_matched = matched;
    report->extra_text_unmatched = unmatched;
  }
  return words;
}

ItemMatrix build_content_matrix(const data::Dataset& dataset, const ContentOptions& options, ContentReport* report) {
  if (options.dim < 1) throw Error(fmt::format("content features: dim must be >= 1, got {}", options.dim));
  ContentReport local;
  ContentReport& r = report ? *report : local;
  const std::int64_t n = dataset.num_items;
  std::vector<std::vector<std::string>> extra;
  if (!options.extra_text_path.empty()) extra = read_extra_text(options.extra_text_path, dataset, &r);

  // Token counts per item; token IDs in first-seen order (deterministic).
  std::unordered_map<std::string, std::int64_t> token_ids;
  std::vector<std::int64_t> document_frequency;
  std::vector<std::map<std::int64_t, std::int64_t>> counts(static_cast<std::size_t>(n) + 1);  // item -> token -> count
  for (std::int64_t i = 1; i <= n; ++i) {
    std::vector<std::string> tokens;
    if (dataset.has_metadata()) tokens = content_tokens(dataset.item_metadata[static_cast<std::size_t>(i)]);
    if (!extra.empty()) {
      for (const auto& w : extra[static_cast<std::size_t>(i)]) tokens.push_back("word:" + w);
    }
    auto& c = counts[static_cast<std::size_t>(i)];
    for (auto& t : tokens) {
      auto [it, inserted] = token_ids.emplace(std::move(t), static_cast<std::int64_t>(token_ids.size()));
      if (inserted) document_frequency.push_back(0);
      if (c[it->second]++ == 0) ++document_frequency[static_cast<std::size_t>(it->second)];
    }
  }
  // Columns: tokens with enough documents, in token-ID order.
  std::vector<std::int64_t> column(document_frequency.size(), -1);
  std::int64_t vocabulary = 0;
  for (std::size_t t = 0; t < document_frequency.size(); ++t) {
    if (document_frequency[t] >= options.min_document_frequency) column[t] = vocabulary++;
  }
  r.vocabulary_size = vocabulary;
  if (vocabulary == 0) {
    throw Error(fmt::format("content features: dataset '{}' has no item tokens shared by {} or more items ({}); prepare it with "
                            "--metadata or pass extra text",
                            dataset.name, options.min_document_frequency,
                            dataset.has_metadata() ? "its metadata is too sparse" : "it has no metadata"));
  }

  // Sparse TF-IDF, rows L2-normalised.
  std::vector<std::int64_t> rows, cols;
  std::vector<double> values;
  for (std::int64_t i = 1; i <= n; ++i) {
    const std::size_t begin = values.size();
    double norm2 = 0;
    for (const auto& [token, count] : counts[static_cast<std::size_t>(i)]) {
      const auto col = column[static_cast<std::size_t>(token)];
      if (col < 0) continue;
      const double idf = std::log((1.0 + static_cast<double>(n)) / (1.0 + static_cast<double>(document_frequency[static_cast<std::size_t>(token)]))) + 1.0;
      const double w = (1.0 + std::log(static_cast<double>(count))) * idf;
      rows.push_back(i);
      cols.push_back(col);
      values.push_back(w);
      norm2 += w * w;
    }
    for (std::size_t k = begin; k < values.size(); ++k) values[k] /= std::sqrt(norm2);
  }
  const auto nnz = static_cast<std::int64_t>(values.size());
  const torch::Tensor indices = torch::stack({torch::tensor(rows, torch::kLong), torch::tensor(cols, torch::kLong)});
  const torch::Tensor tfidf = torch::sparse_coo_tensor(indices, torch::tensor(values, torch::kFloat64), {n + 1, vocabulary}).coalesce();

  Progress progress("embed", 0, "", 2.0);
  progress.advance(0, fmt::format("content: randomized SVD of [{} x {}] TF-IDF ({} non-zeros) to {} dims", n + 1, vocabulary, nnz, options.dim), true);
  RandomizedSvdOptions svd_options;
  svd_options.seed = options.seed;
  const auto svd = randomized_svd(tfidf, options.dim, svd_options);
  torch::Tensor vectors = torch::zeros({n + 1, options.dim}, torch::kFloat64);
  vectors.narrow(1, 0, svd.s.size(0)).copy_(svd.u * svd.s);
  vectors = l2_normalize_rows(vectors);

  std::string source = fmt::format("TF-IDF of metadata tokens (attributes, title words, decade; min df {}), {} tokens, SVD to {} dims, seed {}",
                                   options.min_document_frequency, vocabulary, options.dim, options.seed);
  if (!options.extra_text_path.empty()) source += fmt::format("; extra text {}", options.extra_text_path);
  auto matrix = make_item_matrix(vectors, "content", source, data::dataset_fingerprint(dataset));
  r.items_with_content = count_nonzero_rows(matrix);
  return matrix;
}

}  // namespace tessera::tokenize
