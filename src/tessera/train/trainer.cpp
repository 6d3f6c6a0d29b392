#include "tessera/train/trainer.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>
#include <random>
#include <type_traits>

#include <torch/csrc/autograd/profiler_legacy.h>

#include "tessera/core/atomic_file.h"
#include "tessera/core/error.h"
#include "tessera/core/progress.h"
#include "tessera/data/fingerprint.h"
#include "tessera/train/checkpoint.h"
#include "tessera/train/model_selection.h"
#include "tessera/train/training_task.h"
#include "tessera/train/weight_average.h"

namespace tessera::train {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Same permutation on every platform: Fisher-Yates driven by raw 64-bit draws.
void shuffle_portably(std::vector<std::int64_t>& values, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (std::size_t i = values.size(); i > 1; --i) {
    std::size_t j = static_cast<std::size_t>(rng() % i);
    std::swap(values[i - 1], values[j]);
  }
}

// The examples of each training step of one epoch. With bucketing, examples are shuffled, cut into
// windows of 64 batches, sorted by sequence length inside each window and cut into batches, and
// the batches are shuffled: batches hold similar lengths, so far less padding is computed, while
// each epoch still sees the examples in a fresh random grouping. Deterministic in (seed, epoch).
std::vector<std::vector<std::int64_t>> epoch_batches(const TrainingTask& task, std::int64_t batch_size, bool bucketing,
                                                     std::uint64_t seed) {
  std::vector<std::int64_t> users(static_cast<std::size_t>(task.num_examples()));
  for (std::size_t i = 0; i < users.size(); ++i) users[i] = static_cast<std::int64_t>(i);
  shuffle_portably(users, seed);
  if (bucketing) {
    const std::size_t window = static_cast<std::size_t>(batch_size) * 64;
    for (std::size_t start = 0; start < users.size(); start += window) {
      auto first = users.begin() + static_cast<std::ptrdiff_t>(start);
      auto last = users.begin() + static_cast<std::ptrdiff_t>(std::min(users.size(), start + window));
      std::stable_sort(first, last, [&](std::int64_t a, std::int64_t b) {
        return task.example_length(a) < task.example_length(b);
      });
    }
  }
  std::vector<std::vector<std::int64_t>> batches;
  for (std::size_t start = 0; start < users.size(); start += static_cast<std::size_t>(batch_size)) {
    batches.emplace_back(users.begin() + static_cast<std::ptrdiff_t>(start),
                         users.begin() + static_cast<std::ptrdiff_t>(std::min(users.size(), start + static_cast<std::size_t>(batch_size))));
  }
  if (bucketing) {
    std::vector<std::int64_t> order(batches.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::int64_t>(i);
    shuffle_portably(order, seed ^ 0xB0C4E7ULL);
    std::vector<std::vector<std::int64_t>> shuffled;
    shuffled.reserve(batches.size());
    for (auto i : order) shuffled.push_back(std::move(batches[static_cast<std::size_t>(i)]));
    batches = std::move(shuffled);
  }
  return batches;
}

// Learning rate at `step` (0-based) out of `total_steps`.
double learning_rate(const TrainConfig& c, std::int64_t step, std::int64_t total_steps) {
  if (c.warmup_steps > 0 && step < c.warmup_steps) return c.lr * static_cast<double>(step + 1) / static_cast<double>(c.warmup_steps);
  if (c.lr_schedule == "constant") return c.lr;
  const double span = static_cast<double>(std::max<std::int64_t>(1, total_steps - c.warmup_steps));
  const double progress = std::clamp(static_cast<double>(step - c.warmup_steps) / span, 0.0, 1.0);
  const double floor = c.lr * c.min_lr_ratio;
  if (c.lr_schedule == "linear") return floor + (c.lr - floor) * (1.0 - progress);
  return floor + (c.lr - floor) * 0.5 * (1.0 + std::cos(M_PI * progress));  // cosine
}

nlohmann::json dataset_identity(const data::Dataset& dataset, const std::string& path) {
  return {{"name", dataset.name},
          {"fingerprint", data::dataset_fingerprint(dataset)},
          {"num_items", dataset.num_items},
          {"num_users", dataset.num_users()},
          {"path", path}};
}

struct RunState {
  std::int64_t epoch = 0;  // epochs completed
  std::int64_t step = 0;   // optimizer steps taken
  ValidationScore best;  // model_selection.h
  std::int64_t best_epoch = 0;
  std::int64_t bad_evals = 0;
  bool early_stopped = false;
  nlohmann::json history = nlohmann::json::array();
};

nlohmann::json state_json(const RunState& s) {
  return {{"epoch", s.epoch}, {"step", s.step}, {"best_metric", s.best.metric}, {"best_epoch", s.best_epoch},
          {"best_tiebreak", std::isfinite(s.best.tiebreak) ? nlohmann::json(s.best.tiebreak) : nlohmann::json()},
          {"bad_evals", s.bad_evals}, {"early_stopped", s.early_stopped}, {"history", s.history}};
}

// `path` is the checkpoint the state came from, named in the error for a missing or wrongly
// typed field.
RunState state_from_json(const nlohmann::json& j, const std::string& path) {
  auto read = [&](const char* key, auto& out) {
    try {
      out = j.at(key).get<std::decay_t<decltype(out)>>();
    } catch (const nlohmann::json::exception& e) {
      throw Error::at(path, 0, fmt::format("saved training state, field '{}': {}", key, e.what()));
    }
  };
  RunState s;
  read("epoch", s.epoch);
  read("step", s.step);
  read("best_metric", s.best.metric);
  read("best_epoch", s.best_epoch);
  // Absent in checkpoints written before the tie-break existed; null = none recorded.
  if (j.contains("best_tiebreak") && !j.at("best_tiebreak").is_null()) read("best_tiebreak", s.best.tiebreak);
  read("bad_evals", s.bad_evals);
  read("early_stopped", s.early_stopped);
  read("history", s.history);
  return s;
}

void write_train_log(const std::string& path, const nlohmann::json& history) {
  std::string text;
  for (const auto& line : history) text += line.dump() + "\n";
  write_text_atomically(path, text);
}

}  // namespace

models::ModelSpec model_spec(const TrainConfig& c, std::int64_t num_items) {
  models::ModelSpec spec;
  spec.name = c.model;
  spec.num_items = num_items;
  spec.max_len = c.max_len;
  spec.d_model = c.d_model;
  spec.num_blocks = c.num_blocks;
  spec.num_heads = c.num_heads;
  spec.head_dim = c.head_dim;
  spec.ffn_dim = c.ffn_width();
  spec.ffn_activation = c.ffn_activation;
  spec.dropout = c.dropout;
  spec.l2_normalize = c.l2_normalize;
  spec.temperature = c.temperature;
  spec.item_bias = c.item_bias;
  spec.time_buckets = c.time_buckets;
  spec.positions_from_start = c.positions == "from_start";
  spec.position_init_std = c.position_init_std;
  spec.layer_norm_affine = c.layer_norm_affine;
  return spec;
}

TrainResult train_model(const data::Dataset& dataset, const TrainConfig& config, const TrainOptions& options) {
  config.validate();
  if (options.run_dir.empty()) throw Error("train: a run directory is required");
  if (config.threads > 0) at::set_num_threads(static_cast<int>(config.threads));
  fs::create_directories(options.run_dir);
  const std::string last_path = (fs::path(options.run_dir) / "last.ckpt").string();
  const std::string best_path = (fs::path(options.run_dir) / "best.ckpt").string();
  const std::string log_path = (fs::path(options.run_dir) / "train_log.jsonl").string();
  const std::string average_path = (fs::path(options.run_dir) / "last_average.ckpt").string();
  const auto identity = dataset_identity(dataset, options.dataset_path);

  torch::manual_seed(static_cast<std::uint64_t>(config.seed));
  auto task = make_training_task(dataset, config);
  auto& model = task->module();
  torch::optim::AdamW optimizer(model.parameters(), torch::optim::AdamWOptions(config.lr)
                                                        .betas({0.9, config.adam_beta2})
                                                        .weight_decay(config.weight_decay));
  const std::int64_t num_examples = task->num_examples();
  if (num_examples == 0) throw Error("train: the dataset has no training examples (every user needs at least 2 training items)");
  const std::int64_t B = config.batch_size;
  const std::int64_t steps_per_epoch = (num_examples + B - 1) / B;
  const std::int64_t total_steps = steps_per_epoch * config.epochs;
  const std::string metric = task->metric();
  const std::string tiebreak = task->tiebreak_metric();
  auto checkpoint_meta = [&](nlohmann::json meta) {
    meta["kind"] = task->kind();
    meta["config"] = to_json(config);
    meta["dataset"] = identity;
    meta["model_meta"] = task->model_meta();
    return meta;
  };

  RunState state;
  std::optional<WeightAverage> average;
  if (options.resume) {
    auto ckpt = load_checkpoint(last_path);
    if (ckpt.meta.at("dataset").at("fingerprint") != identity["fingerprint"]) {
      throw Error::at(last_path, 0, "was trained on a different dataset (fingerprint " +
                                        ckpt.meta["dataset"]["fingerprint"].get<std::string>() + ", this one " +
                                        identity["fingerprint"].get<std::string>() + ")");
    }
    // A key the saved config lacks is an option added after the run started, at its default.
    if (saved_config_json(ckpt.meta.at("config"), last_path) != to_json(config)) {
      throw Error::at(last_path, 0, "resume needs the same configuration as the interrupted run; saved: " +
                                        ckpt.meta["config"].dump() + ", given: " + to_json(config).dump());
    }
    // The state is read first, so a malformed one fails before any weights are restored.
    if (!ckpt.meta.contains("state")) throw Error::at(last_path, 0, "holds no training state (not a last.ckpt?)");
    state = state_from_json(ckpt.meta.at("state"), last_path);
    restore_module(ckpt, model, last_path);
    restore_optimizer(ckpt, optimizer, last_path);
    restore_rng(ckpt);
    if (config.ema_decay > 0) {
      // The average is saved next to last.ckpt; load it through the model, then put the
      // interrupted run's weights back.
      auto saved = load_checkpoint(average_path);
      if (saved.meta.value("step", std::int64_t{-1}) != state.step) {
        throw Error::at(average_path, 0, fmt::format("holds the weight average of step {}, but last.ckpt is at step {}; cannot resume exactly",
                                                     saved.meta.value("step", std::int64_t{-1}), state.step));
      }
      restore_module(saved, model, average_path);
      average.emplace(model, config.ema_decay);
      restore_module(ckpt, model, last_path);
    }
    std::fprintf(stderr, "[train] resumed from %s after epoch %lld (step %lld)\n", last_path.c_str(),
                 static_cast<long long>(state.epoch), static_cast<long long>(state.step));
  } else {
    write_text_atomically((fs::path(options.run_dir) / "config.json").string(), to_json(config).dump(2) + "\n");
  }
  if (config.ema_decay > 0 && !average) average.emplace(model, config.ema_decay);
  // Validation, best.ckpt and the test use the weight average when there is one, else the
  // weights. `with_selected` puts those in the model for the duration of `fn`; `save_model`
  // writes whatever the model holds, so call it inside `with_selected` for a selected checkpoint.
  auto with_selected = [&](auto&& fn) {
    if (average) average->swap();
    fn();
    if (average) average->swap();
  };
  auto save_model = [&](const nlohmann::json& meta, const std::string& path) {
    save_checkpoint(capture_checkpoint(model, nullptr, checkpoint_meta(meta)), path);
  };

  TrainResult result;
  result.valid_metric = metric;
  const auto call_start = Clock::now();
  std::int64_t epochs_this_call = 0, steps_this_call = 0;
  constexpr std::int64_t kProfileFirstStep = 10;
  constexpr int kProfileSteps = 5;
  std::optional<torch::autograd::profiler::RecordProfile> profiler;
  Progress progress("train", (config.epochs - state.epoch) * num_examples, task->unit(), 5.0);

  while (state.epoch < config.epochs && !state.early_stopped) {
    const std::int64_t epoch = state.epoch + 1;
    const auto batches = epoch_batches(*task, B, config.length_bucketing,
                                       static_cast<std::uint64_t>(config.seed) * 1000003ULL + static_cast<std::uint64_t>(epoch));
    model.train();
    double loss_sum = 0;
    std::int64_t loss_count = 0;
    std::int64_t epoch_examples = 0, epoch_tokens = 0, epoch_real = 0, epoch_computed = 0, epoch_padded = 0;
    double epoch_flops = 0;
    const auto epoch_start = Clock::now();
    double phase_seconds[3] = {0, 0, 0};  // forward (model + loss), backward, optimizer
    for (const auto& batch : batches) {
      if (!options.profile_path.empty() && steps_this_call == kProfileFirstStep) {
        profiler.emplace(options.profile_path);
      } else if (profiler && steps_this_call == kProfileFirstStep + kProfileSteps) {
        profiler.reset();  // writes the trace
        std::fprintf(stderr, "[train] wrote profile of %d steps to %s\n", kProfileSteps, options.profile_path.c_str());
      }
      ++steps_this_call;
      const auto count = static_cast<std::int64_t>(batch.size());
      const double lr = learning_rate(config, state.step, total_steps);
      for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);

      auto phase_start = Clock::now();
      auto step_loss = task->loss(batch, state.step);
      phase_seconds[0] += seconds_since(phase_start);
      phase_start = Clock::now();
      optimizer.zero_grad();
      step_loss.loss.backward();
      phase_seconds[1] += seconds_since(phase_start);
      phase_start = Clock::now();
      if (config.grad_clip > 0) torch::nn::utils::clip_grad_norm_(model.parameters(), config.grad_clip);
      optimizer.step();
      if (average) average->update(state.step);
      phase_seconds[2] += seconds_since(phase_start);
      ++state.step;

      const double loss_value = step_loss.loss.item<double>();
      if (!std::isfinite(loss_value)) throw Error(fmt::format("train: loss became {} at epoch {} step {}; lower lr?", loss_value, epoch, state.step));
      loss_sum += loss_value;
      ++loss_count;
      epoch_examples += count;
      epoch_tokens += step_loss.targets;
      epoch_real += step_loss.real_tokens;
      epoch_computed += step_loss.computed_tokens;
      epoch_padded += step_loss.padded_tokens;
      epoch_flops += step_loss.flops;
      progress.advance(count, fmt::format("epoch {}/{}  loss {:.4f}  lr {:.2e}", epoch, config.epochs, loss_sum / loss_count, lr));
    }
    const double epoch_seconds = seconds_since(epoch_start);
    state.epoch = epoch;
    ++epochs_this_call;

    nlohmann::json log_line = {{"epoch", epoch},
                               {"step", state.step},
                               {"loss", loss_sum / std::max<std::int64_t>(1, loss_count)},
                               {"lr", learning_rate(config, state.step - 1, total_steps)},
                               {"epoch_seconds", epoch_seconds},
                               {"examples_per_second", static_cast<double>(num_examples) / epoch_seconds},
                               {"forward_seconds", phase_seconds[0]},
                               {"backward_seconds", phase_seconds[1]},
                               {"optimizer_seconds", phase_seconds[2]},
                               // Work counters, so results over a resumed run cover all its epochs.
                               {"examples", epoch_examples},
                               {"tokens", epoch_tokens},
                               {"real_tokens", epoch_real},
                               {"computed_tokens", epoch_computed},
                               {"padded_tokens", epoch_padded},
                               {"flops", epoch_flops}};
    std::string summary = fmt::format("[train] epoch {}/{}  loss {:.4f}  {:.0f} {}/s", epoch, config.epochs,
                                      log_line["loss"].get<double>(), log_line["examples_per_second"].get<double>(), task->unit());
    if (config.train_on_validation) {
      // No validation (its targets are training targets): the final epoch's model is the result.
      if (epoch == config.epochs) {
        state.best_epoch = epoch;
        with_selected([&] { save_model({{"epoch", epoch}, {"selected_by", "last epoch (train_on_validation)"}}, best_path); });
        summary += "  (trained on validation targets: no validation; final model saved)";
      }
    } else if (epoch % config.eval_every == 0 || epoch == config.epochs) {
      const auto eval_start = Clock::now();
      ValidationScore score;
      bool better = false;
      with_selected([&] {  // one swap for validating and, on a new best, saving the same weights
        const auto valid = task->validate();
        score.metric = valid.at(metric);
        if (!tiebreak.empty()) score.tiebreak = valid.at(tiebreak);
        for (const auto& [name, v] : valid) log_line["valid_" + name] = v;
        better = improves_on(score, state.best);
        if (better) save_model({{"epoch", epoch}, {"valid_" + metric, score.metric}}, best_path);
      });
      log_line["eval_seconds"] = seconds_since(eval_start);
      if (better) {
        state.best = score;
        state.best_epoch = epoch;
        state.bad_evals = 0;
      } else {
        ++state.bad_evals;
      }
      summary += fmt::format("  valid {} {:.4f}  (best {:.4f} @ epoch {})", metric, score.metric, state.best.metric, state.best_epoch);
      if (state.bad_evals >= config.patience) {
        state.early_stopped = true;
        summary += "  early stop";
      }
    }
    state.history.push_back(log_line);
    if (average) with_selected([&] { save_model({{"step", state.step}}, average_path); });  // before last.ckpt: resume checks the step
    save_checkpoint(capture_checkpoint(model, &optimizer, checkpoint_meta({{"state", state_json(state)}})), last_path);
    write_train_log(log_path, state.history);
    std::fprintf(stderr, "%s\n", summary.c_str());
    if (options.stop_after_epochs > 0 && epochs_this_call >= options.stop_after_epochs) break;
  }
  progress.finish();

  result.epochs_completed = state.epoch;
  result.best_epoch = state.best_epoch;
  // NaN (null in JSON) when nothing was validated.
  result.best_valid_metric = config.train_on_validation ? std::numeric_limits<double>::quiet_NaN() : state.best.metric;
  result.early_stopped = state.early_stopped;
  result.total_seconds = seconds_since(call_start);
  // Totals over every epoch of the run (a resumed run includes the epochs before the resume);
  // rates only over epochs whose log line has the work counters (runs logged before they existed
  // report 0 for those rates).
  double counted_seconds = 0, examples_done = 0, tokens_done = 0, real_tokens = 0, computed_tokens = 0, padded_tokens = 0,
         flops_done = 0;
  for (const auto& line : state.history) {
    result.train_seconds += line.at("epoch_seconds").get<double>();
    if (!line.contains("tokens")) continue;
    counted_seconds += line["epoch_seconds"].get<double>();
    examples_done += line["examples"].get<double>();
    tokens_done += line["tokens"].get<double>();
    real_tokens += line["real_tokens"].get<double>();
    computed_tokens += line["computed_tokens"].get<double>();
    padded_tokens += line["padded_tokens"].get<double>();
    flops_done += line["flops"].get<double>();
  }
  if (counted_seconds > 0) {
    result.examples_per_second = examples_done / counted_seconds;
    result.tokens_per_second = tokens_done / counted_seconds;
    result.achieved_gflops = flops_done / counted_seconds / 1e9;
  }
  if (padded_tokens > 0) {
    result.padding_fraction_saved = 1.0 - computed_tokens / padded_tokens;
    result.padding_fraction = 1.0 - real_tokens / padded_tokens;
  }
  result.final_train_loss = state.history.empty() ? 0.0 : state.history.back()["loss"].get<double>();
  result.best_checkpoint = best_path;
  return result;
}

TrainedModel load_trained_model(const std::string& path, const data::Dataset* dataset) {
  return load_trained_model(load_checkpoint(path), path, dataset);
}

TrainedModel load_trained_model(const Checkpoint& ckpt, const std::string& path, const data::Dataset* dataset) {
  TrainedModel trained;
  trained.meta = ckpt.meta;
  if (!ckpt.meta.contains("config") || !ckpt.meta.contains("dataset")) throw Error::at(path, 0, "not a tessera model checkpoint (no config)");
  if (ckpt.meta.value("kind", "sequence_model") != "sequence_model") {
    throw Error::at(path, 0, "is a '" + ckpt.meta.value("kind", "") + "' checkpoint, not an item-ID sequence model");
  }
  apply_json(trained.config, ckpt.meta["config"], path);
  const std::int64_t num_items = ckpt.meta["dataset"].at("num_items");
  if (dataset) {
    const auto fingerprint = data::dataset_fingerprint(*dataset);
    if (ckpt.meta["dataset"].at("fingerprint") != fingerprint) {
      throw Error::at(path, 0, fmt::format("model was trained on dataset '{}' (fingerprint {}, {} items) but the given dataset '{}' "
                                           "has fingerprint {} ({} items); item IDs would not match",
                                           ckpt.meta["dataset"].value("name", "?"), ckpt.meta["dataset"]["fingerprint"].get<std::string>(),
                                           num_items, dataset->name, fingerprint, dataset->num_items));
    }
  }
  trained.model = models::make_model(model_spec(trained.config, num_items));
  restore_module(ckpt, *trained.model, path);
  trained.model->eval();
  return trained;
}

}  // namespace tessera::train
