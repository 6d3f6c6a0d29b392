#include "tessera/bench/decode_speed.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <span>

#include <fmt/format.h>

#include "tessera/bench/benchmarks.h"
#include "tessera/core/error.h"
#include "tessera/eval/evaluator.h"
#include "tessera/infer/model_loader.h"

namespace tessera::bench {

namespace {

using Lists = std::vector<std::vector<std::int32_t>>;

// recommend() for one batch with the cache on or off; returns the wall time in seconds.
double timed_batch(infer::TigerRecommender& recommender, bool kv_cache, std::span<const std::int64_t> users,
                   const std::vector<std::span<const std::int32_t>>& histories, Lists* lists) {
  recommender.options().kv_cache = kv_cache;
  const auto start = std::chrono::steady_clock::now();
  *lists = recommender.recommend(users, histories, false);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

DecodeSpeed measure_decode_speed(infer::TigerRecommender& recommender, const data::Dataset& dataset,
                                 const DecodeSpeedOptions& options) {
  if (options.batch_size < 1) throw Error("decode speed: batch_size must be at least 1");
  if (options.max_users < 0) throw Error("decode speed: max_users must be >= 0");
  eval::EvalOptions selection;
  selection.split = options.split;
  selection.max_users = options.max_users;
  const auto examples = eval::select_examples(dataset, selection);
  if (examples.empty()) throw Error("decode speed: dataset '" + dataset.name + "' has no user to decode");

  const auto saved = recommender.options();
  DecodeSpeed speed;
  speed.users = static_cast<std::int64_t>(examples.size());
  speed.beam_width = saved.beam_width;
  speed.batch_size = options.batch_size;
  try {
    // Each batch is decoded in both modes back to back, so a change in the machine's load during
    // the measurement (other processes on the cores) affects both alike. The first batch runs once
    // untimed first: the first calls allocate the heap and thread pools the timed ones reuse.
    std::vector<std::span<const std::int32_t>> histories;
    std::vector<std::int64_t> users;
    Lists cached, uncached;
    for (std::size_t begin = 0; begin < examples.size(); begin += static_cast<std::size_t>(options.batch_size)) {
      const auto end = std::min(examples.size(), begin + static_cast<std::size_t>(options.batch_size));
      histories.clear();
      users.clear();
      for (auto i = begin; i < end; ++i) {
        histories.push_back(examples[i].history);
        users.push_back(examples[i].user);
      }
      if (begin == 0) timed_batch(recommender, true, users, histories, &cached);
      speed.kv_cache_seconds += timed_batch(recommender, true, users, histories, &cached);
      speed.no_kv_cache_seconds += timed_batch(recommender, false, users, histories, &uncached);
      for (std::size_t i = 0; i < cached.size(); ++i) speed.lists_differing += cached[i] != uncached[i] ? 1 : 0;
    }
  } catch (...) {
    recommender.options() = saved;
    throw;
  }
  recommender.options() = saved;
  const auto users = static_cast<double>(speed.users);
  speed.users_per_second_kv_cache = users / speed.kv_cache_seconds;
  speed.users_per_second_no_kv_cache = users / speed.no_kv_cache_seconds;
  speed.speedup = speed.no_kv_cache_seconds / speed.kv_cache_seconds;
  std::fprintf(stderr, "[bench] decoding %lld users (beam %lld, batches of %d): KV cache %.1f users/s, no cache %.1f users/s, speedup %.2fx\n",
               static_cast<long long>(speed.users), static_cast<long long>(speed.beam_width), speed.batch_size,
               speed.users_per_second_kv_cache, speed.users_per_second_no_kv_cache, speed.speedup);
  return speed;
}

nlohmann::json to_json(const DecodeSpeed& speed) {
  return {{"decode_users", speed.users},
          {"decode_batch_size", speed.batch_size},
          {"beam_width", speed.beam_width},
          {"decode_seconds_kv_cache", speed.kv_cache_seconds},
          {"decode_seconds_no_kv_cache", speed.no_kv_cache_seconds},
          {"decode_users_per_second_kv_cache", speed.users_per_second_kv_cache},
          {"decode_users_per_second_no_kv_cache", speed.users_per_second_no_kv_cache},
          {"kv_cache_speedup", speed.speedup},
          {"kv_cache_lists_differing", speed.lists_differing}};
}

nlohmann::json run_decode_benchmark(const DecodeBenchOptions& options) {
  const auto dataset = data::load_dataset(options.dataset);
  auto model = infer::LoadedModel::load(options.checkpoint, &dataset);
  auto* tiger = model.tiger();
  if (!tiger) {
    throw Error::at(options.checkpoint, 0, "is a '" + model.name() + "' checkpoint; decoding speed is measured for TIGER models");
  }
  std::string name = options.name;
  if (name.empty()) {
    name = model.name() + "-" + dataset.name;
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  }
  const auto speed = measure_decode_speed(*tiger, dataset, options.speed);
  nlohmann::json result = {
      {"benchmark", "decode-" + name},
      {"description", "TIGER constrained beam search on the " + data::split_name(options.speed.split) +
                          " split, with and without the decoder KV cache, same users, same process"},
      {"checkpoint", options.checkpoint},
      {"dataset", dataset.name},
      {"dataset_path", options.dataset},
      {"model", model.name()},
      {"split", data::split_name(options.speed.split)},
  };
  result.update(to_json(speed));
  write_result(result, options.results_dir, "decode-" + name, options.command_line);
  return result;
}

}  // namespace tessera::bench
