#include "tessera/data/synth.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>

#include "tessera/core/atomic_file.h"
#include "tessera/core/error.h"

namespace tessera::data {

namespace {

// Portable sampling on top of mt19937_64 (whose output sequence the C++ standard fixes).
class Sampler {
 public:
  explicit Sampler(std::uint64_t seed) : engine_(seed) {}
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  // Uniform in [0, n), n > 0 (multiply-shift; bias below 2^-40 for the sizes used here).
  std::size_t index(std::size_t n) {
    return static_cast<std::size_t>((static_cast<unsigned __int128>(engine_()) * n) >> 64);
  }
  // Index i with probability proportional to the weights whose running sums are `cumulative`.
  std::size_t weighted(const std::vector<double>& cumulative) {
    const double x = uniform() * cumulative.back();
    auto it = std::upper_bound(cumulative.begin(), cumulative.end(), x);
    return std::min(static_cast<std::size_t>(it - cumulative.begin()), cumulative.size() - 1);
  }
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[index(i)]);
  }

 private:
  std::mt19937_64 engine_;
};

// Items of one leaf category with running sums of their popularity weights.
struct Leaf {
  std::vector<std::int32_t> items;
  std::vector<double> cumulative;
  std::vector<std::int32_t> siblings;  // other leaves with the same parent
};

void check_options(const SynthOptions& o) {
  auto fail = [](const std::string& what) { return Error("synth: " + what); };
  if (o.num_users < 1) throw fail("num_users must be >= 1");
  if (o.num_items < 2) throw fail("num_items must be >= 2");
  if (o.branching.empty()) throw fail("branching needs at least one level");
  std::int64_t leaves = 1;
  for (auto b : o.branching) {
    if (b < 1) throw fail("every branching factor must be >= 1");
    leaves *= b;
    if (leaves > o.num_items) throw fail(fmt::format("the category tree has more leaves than there are items ({})", o.num_items));
  }
  if (o.min_seq_len < 1 || o.min_seq_len > o.max_seq_len) throw fail("need 1 <= min_seq_len <= max_seq_len");
  if (o.max_seq_len > o.num_items) throw fail("max_seq_len must be <= num_items (users never repeat an item)");
  if (o.mean_seq_len < o.min_seq_len) throw fail("mean_seq_len must be >= min_seq_len");
  for (double p : {o.p_successor, o.p_same_leaf, o.p_sibling, o.p_preference_drift}) {
    if (!(p >= 0 && p <= 1)) throw fail("probabilities must be in [0, 1]");
  }
  if (o.p_successor + o.p_same_leaf + o.p_sibling > 1 + 1e-9) throw fail("p_successor + p_same_leaf + p_sibling must be <= 1");
  if (o.successors_per_item < 0 || o.successors_per_item >= o.num_items) throw fail("successors_per_item must be in [0, num_items)");
  if (o.favorite_categories < 1 || o.favorite_categories > o.branching[0]) throw fail("favorite_categories must be in [1, branching[0]]");
  if (!(o.zipf_exponent >= 0)) throw fail("zipf_exponent must be >= 0");
}

}  // namespace

SyntheticData generate_synthetic(const SynthOptions& o) {
  check_options(o);
  Sampler rng(o.seed);
  const auto num_items = static_cast<std::size_t>(o.num_items);

  // The category tree: leaf l has digits d_0..d_{depth-1} in mixed radix `branching`.
  std::size_t num_leaves = 1;
  for (auto b : o.branching) num_leaves *= static_cast<std::size_t>(b);
  const std::size_t leaves_per_top = num_leaves / static_cast<std::size_t>(o.branching[0]);
  const std::size_t last_branching = static_cast<std::size_t>(o.branching.back());
  auto leaf_path = [&](std::size_t leaf) {
    std::vector<std::size_t> digits(o.branching.size());
    for (std::size_t level = o.branching.size(); level-- > 0;) {
      digits[level] = leaf % static_cast<std::size_t>(o.branching[level]);
      leaf /= static_cast<std::size_t>(o.branching[level]);
    }
    std::vector<std::string> path;
    std::string name = "c";
    for (std::size_t level = 0; level < digits.size(); ++level) {
      if (level > 0) name += '.';
      name += std::to_string(digits[level] + 1);
      path.push_back(name);
    }
    return path;
  };

  // Items to leaves (evenly, in random order) and popularity ranks (random order).
  std::vector<std::int32_t> order(num_items);
  for (std::size_t k = 0; k < num_items; ++k) order[k] = static_cast<std::int32_t>(k + 1);
  rng.shuffle(order);
  std::vector<std::size_t> item_leaf(num_items + 1, 0);
  for (std::size_t k = 0; k < num_items; ++k) item_leaf[order[k]] = k % num_leaves;
  rng.shuffle(order);
  std::vector<double> weight(num_items + 1, 0.0);
  for (std::size_t k = 0; k < num_items; ++k) weight[order[k]] = 1.0 / std::pow(static_cast<double>(k + 1), o.zipf_exponent);

  std::vector<Leaf> leaves(num_leaves);
  for (std::size_t item = 1; item <= num_items; ++item) {
    auto& leaf = leaves[item_leaf[item]];
    leaf.items.push_back(static_cast<std::int32_t>(item));
    leaf.cumulative.push_back((leaf.cumulative.empty() ? 0.0 : leaf.cumulative.back()) + weight[item]);
  }
  for (std::size_t l = 0; l < num_leaves; ++l) {
    const std::size_t first = l - l % last_branching;
    for (std::size_t s = first; s < first + last_branching; ++s) {
      if (s != l) leaves[l].siblings.push_back(static_cast<std::int32_t>(s));
    }
  }
  auto from_leaf = [&](std::size_t l) { return leaves[l].items[rng.weighted(leaves[l].cumulative)]; };
  auto from_sibling = [&](std::size_t l) {
    const auto& siblings = leaves[l].siblings;
    return siblings.empty() ? from_leaf(l) : from_leaf(static_cast<std::size_t>(siblings[rng.index(siblings.size())]));
  };

  // Natural successors of every item, the k-th weighted 2^-k.
  std::vector<std::vector<std::int32_t>> successors(num_items + 1);
  std::vector<double> successor_cumulative;
  for (std::int32_t k = 0; k < o.successors_per_item; ++k) {
    successor_cumulative.push_back((k == 0 ? 0.0 : successor_cumulative.back()) + std::ldexp(1.0, -k));
  }
  for (std::size_t item = 1; item <= num_items; ++item) {
    auto& next = successors[item];
    for (int attempt = 0; static_cast<std::int32_t>(next.size()) < o.successors_per_item && attempt < 100; ++attempt) {
      std::int32_t candidate = rng.uniform() < 0.6 ? from_leaf(item_leaf[item]) : from_sibling(item_leaf[item]);
      if (attempt >= 50) candidate = static_cast<std::int32_t>(1 + rng.index(num_items));  // tiny leaves: anything
      if (candidate != static_cast<std::int32_t>(item) && std::find(next.begin(), next.end(), candidate) == next.end()) {
        next.push_back(candidate);
      }
    }
  }

  // Most popular first: the fallback when every sampled item was already seen.
  std::vector<std::int32_t> by_popularity(num_items);
  for (std::size_t k = 0; k < num_items; ++k) by_popularity[k] = static_cast<std::int32_t>(k + 1);
  std::stable_sort(by_popularity.begin(), by_popularity.end(), [&](std::int32_t a, std::int32_t b) { return weight[a] > weight[b]; });

  SyntheticData data;
  data.sequences.resize(static_cast<std::size_t>(o.num_users));
  std::vector<char> seen(num_items + 1, 0);
  const std::size_t num_top = static_cast<std::size_t>(o.branching[0]);
  for (auto& sequence : data.sequences) {
    // Length: min + exponential with the requested mean, capped.
    const double extra = -std::log(1.0 - rng.uniform()) * (o.mean_seq_len - o.min_seq_len);
    const auto length = static_cast<std::size_t>(std::min<double>(o.max_seq_len, o.min_seq_len + std::floor(extra)));
    std::vector<std::size_t> favorites;
    while (favorites.size() < static_cast<std::size_t>(o.favorite_categories)) {
      auto c = rng.index(num_top);
      if (std::find(favorites.begin(), favorites.end(), c) == favorites.end()) favorites.push_back(c);
    }
    auto jump = [&]() {
      if (rng.uniform() < o.p_preference_drift) {  // taste drifts: one favourite is replaced
        auto c = rng.index(num_top);
        if (std::find(favorites.begin(), favorites.end(), c) == favorites.end()) favorites[rng.index(favorites.size())] = c;
      }
      const std::size_t top = rng.uniform() < 0.8 ? favorites[rng.index(favorites.size())] : rng.index(num_top);
      return from_leaf(top * leaves_per_top + rng.index(leaves_per_top));
    };
    std::int32_t current = 0;
    for (std::size_t step = 0; step < length; ++step) {
      std::int32_t next = 0;
      for (int attempt = 0; attempt < 10 && next == 0; ++attempt) {
        std::int32_t candidate;
        const double r = rng.uniform();
        if (current == 0) {
          candidate = jump();
        } else if (r < o.p_successor && !successors[current].empty()) {
          candidate = successors[current][rng.weighted(successor_cumulative) % successors[current].size()];
        } else if (r < o.p_successor + o.p_same_leaf) {
          candidate = from_leaf(item_leaf[current]);
        } else if (r < o.p_successor + o.p_same_leaf + o.p_sibling) {
          candidate = from_sibling(item_leaf[current]);
        } else {
          candidate = jump();
        }
        if (!seen[candidate]) next = candidate;
      }
      if (next == 0) next = *std::find_if(by_popularity.begin(), by_popularity.end(), [&](std::int32_t i) { return !seen[i]; });
      seen[next] = 1;
      sequence.push_back(next);
      current = next;
    }
    for (auto item : sequence) seen[item] = 0;
  }

  data.item_categories.resize(num_items + 1);
  for (std::size_t item = 1; item <= num_items; ++item) data.item_categories[item] = leaf_path(item_leaf[item]);
  return data;
}

SynthFiles write_synthetic(const SynthOptions& options, const std::string& out_dir) {
  const SyntheticData data = generate_synthetic(options);
  SynthFiles files;
  files.interactions_path = (std::filesystem::path(out_dir) / "synthetic.txt").string();
  files.items_path = (std::filesystem::path(out_dir) / "synthetic_items.tsv").string();
  files.users = static_cast<std::int64_t>(data.sequences.size());
  write_file_atomically(files.interactions_path, [&](std::ostream& out) {
    std::string line;
    for (std::size_t u = 0; u < data.sequences.size(); ++u) {
      line = std::to_string(u + 1);
      for (auto item : data.sequences[u]) {
        line += ' ';
        line += std::to_string(item);
      }
      line += '\n';
      out << line;
      files.interactions += static_cast<std::int64_t>(data.sequences[u].size());
    }
  });
  write_file_atomically(files.items_path, [&](std::ostream& out) {
    out << "item_id\ttitle\tattributes\n";
    for (std::size_t item = 1; item < data.item_categories.size(); ++item) {
      std::string attributes;
      for (const auto& c : data.item_categories[item]) {
        if (!attributes.empty()) attributes += " | ";
        attributes += c;
      }
      out << item << "\tItem " << item << '\t' << attributes << '\n';
    }
  });
  return files;
}

}  // namespace tessera::data
