// tessera recommend: top-K next items for one history, shown with original IDs and metadata.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <unordered_map>

#include "cli/commands.h"
#include "tessera/core/error.h"
#include "tessera/data/dataset.h"
#include "tessera/infer/model_loader.h"

namespace tessera::cli {

namespace {

std::string describe(const data::Dataset& dataset, std::int32_t item) {
  if (!dataset.has_metadata()) return "";
  const auto& m = dataset.item_metadata[item];
  std::string text = m.title;
  if (!m.attributes.empty()) {
    std::string attrs;
    for (const auto& a : m.attributes) attrs += (attrs.empty() ? "" : " | ") + a;
    text += (text.empty() ? "" : "  [") + attrs + (m.title.empty() ? "" : "]");
  }
  return text;
}

// Resolves history tokens to internal item IDs.
std::vector<std::int32_t> resolve_history(const data::Dataset& dataset, const std::vector<std::string>& tokens, bool original) {
  std::unordered_map<std::string, std::int32_t> by_original;
  if (original) {
    for (std::int32_t i = 1; i <= dataset.num_items; ++i) by_original.emplace(dataset.item_ids[i], i);
  }
  std::vector<std::int32_t> history;
  for (const auto& token : tokens) {
    if (original) {
      auto it = by_original.find(token);
      if (it == by_original.end()) throw Error(fmt::format("--history: unknown original item ID '{}' in dataset '{}'", token, dataset.name));
      history.push_back(it->second);
    } else {
      std::size_t used = 0;
      long long id = -1;
      try {
        id = std::stoll(token, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != token.size() || id < 1 || id > dataset.num_items) {
        throw Error(fmt::format("--history: '{}' is not an internal item ID (1..{}); use --original-ids for the dataset's own IDs",
                                token, dataset.num_items));
      }
      history.push_back(static_cast<std::int32_t>(id));
    }
  }
  return history;
}

}  // namespace

void add_recommend_command(CLI::App& app) {
  struct Args {
    std::string data, checkpoint, user;
    std::vector<std::string> history;
    std::vector<std::int64_t> timestamps;
    bool original_ids = false, exclude_history = false, json = false;
    std::int64_t k = 10;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("recommend", "Top-K recommendations for a user or an explicit history");
  cmd->add_option("--data", args->data, "Prepared dataset (.tsd): ID maps and item metadata")->required();
  cmd->add_option("--checkpoint", args->checkpoint, "Trained checkpoint (runs/x/best.ckpt)")->required();
  auto* user = cmd->add_option("--user", args->user, "Original user ID: recommend after that user's whole sequence");
  cmd->add_option("--history", args->history, "Item IDs in time order, comma or space separated")->delimiter(',')->excludes(user);
  cmd->add_option("--timestamps", args->timestamps, "With --history: one time in seconds per item (models trained with time_buckets)")
      ->delimiter(',')
      ->excludes(user);
  cmd->add_flag("--original-ids", args->original_ids, "--history holds the dataset's original item IDs (default: internal 1..N)");
  cmd->add_flag("--exclude-history", args->exclude_history, "Do not recommend items already in the history");
  cmd->add_option("-k,--k", args->k, "Number of items")->check(CLI::Range(1, 100000));
  cmd->add_flag("--json", args->json, "Print JSON instead of a table");
  cmd->callback([args] {
    auto dataset = data::load_dataset(args->data);
    auto model = infer::LoadedModel::load(args->checkpoint, &dataset);
    std::vector<std::int32_t> history;
    std::vector<std::int64_t> times;
    std::vector<std::int64_t> users;
    if (!args->user.empty()) {
      std::int64_t found = -1;
      for (std::int64_t u = 0; u < dataset.num_users(); ++u) {
        if (dataset.user_ids[u] == args->user) found = u;
      }
      if (found < 0) throw Error(fmt::format("--user: unknown user ID '{}' in dataset '{}'", args->user, dataset.name));
      users.push_back(found);
      auto seq = dataset.sequence(found);
      history.assign(seq.begin(), seq.end());
      auto seq_times = dataset.sequence_timestamps(found);
      times.assign(seq_times.begin(), seq_times.end());
    } else {
      std::vector<std::string> tokens;
      for (const auto& h : args->history) {  // also accept "1 2 3" in one argument
        std::size_t start = 0;
        while (start < h.size()) {
          auto end = h.find(' ', start);
          if (end == std::string::npos) end = h.size();
          if (end > start) tokens.push_back(h.substr(start, end - start));
          start = end + 1;
        }
      }
      if (tokens.empty()) throw Error("recommend: give --user or a non-empty --history");
      history = resolve_history(dataset, tokens, args->original_ids);
      times = args->timestamps;
    }
    // Retrieval checks the times' count and order; only the hint about the flag is ours.
    if (model.uses_time() && times.empty()) {
      throw Error("recommend: this model was trained with time buckets; give --timestamps (one per --history item)");
    }
    std::vector<std::span<const std::int32_t>> batch{std::span<const std::int32_t>(history)};
    const infer::Timestamps batch_times{std::span<const std::int64_t>(times)};
    auto top = model.recommend(users, batch, args->k, args->exclude_history, model.uses_time() ? &batch_times : nullptr)[0];
    auto semantic_id = [&](std::int32_t item) {
      std::string text;
      if (model.tiger()) {
        for (auto c : model.tiger()->semantic_ids().code(item)) text += (text.empty() ? "" : "-") + std::to_string(c);
      }
      return text;
    };
    if (args->json) {
      nlohmann::json out = {{"model", model.name()}, {"history_length", history.size()}, {"items", nlohmann::json::array()}};
      for (const auto& s : top) {
        out["items"].push_back({{"item", s.item}, {"original_id", dataset.item_ids[s.item]}, {"score", s.score},
                                {"title", dataset.has_metadata() ? dataset.item_metadata[s.item].title : ""}});
        if (model.tiger()) out["items"].back()["semantic_id"] = semantic_id(s.item);
      }
      fmt::print("{}\n", out.dump(2));
      return;
    }
    fmt::print("history ({} items, most recent last):", history.size());
    for (std::size_t i = history.size() > 5 ? history.size() - 5 : 0; i < history.size(); ++i) {
      fmt::print("\n  {:>6}  {}", dataset.item_ids[history[i]], describe(dataset, history[i]));
    }
    fmt::print("\n\ntop {} ({}{}):\n{:>4}  {:>8}  {:>12}  {:>8}  {}\n", top.size(), model.name(),
               args->exclude_history ? ", history excluded" : "", "rank", "item", "original_id", "score", "description");
    for (std::size_t r = 0; r < top.size(); ++r) {
      fmt::print("{:>4}  {:>8}  {:>12}  {:>8.3f}  {}{}\n", r + 1, top[r].item, dataset.item_ids[top[r].item], top[r].score,
                 model.tiger() ? "<" + semantic_id(top[r].item) + ">  " : "", describe(dataset, top[r].item));
    }
  });
}

}  // namespace tessera::cli
