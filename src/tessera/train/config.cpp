#include "tessera/train/config.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "tessera/core/atomic_file.h"
#include "tessera/core/error.h"

namespace tessera::train {

namespace {

// Visits every field with its key; the one list of config keys.
template <typename Config, typename Visitor>
void visit_fields(Config& c, Visitor&& v) {
  v("model", c.model);
  v("max_len", c.max_len);
  v("d_model", c.d_model);
  v("num_blocks", c.num_blocks);
  v("num_heads", c.num_heads);
  v("ffn_dim", c.ffn_dim);
  v("ffn_activation", c.ffn_activation);
  v("dropout", c.dropout);
  v("l2_normalize", c.l2_normalize);
  v("temperature", c.temperature);
  v("item_bias", c.item_bias);
  v("time_buckets", c.time_buckets);
  v("positions", c.positions);
  v("position_init_std", c.position_init_std);
  v("layer_norm_affine", c.layer_norm_affine);
  v("semantic_ids", c.semantic_ids);
  v("num_decoder_blocks", c.num_decoder_blocks);
  v("head_dim", c.head_dim);
  v("user_buckets", c.user_buckets);
  v("item_buckets", c.item_buckets);
  v("item_dropout", c.item_dropout);
  v("label_smoothing", c.label_smoothing);
  v("history_negatives", c.history_negatives);
  v("history_negative_loss", c.history_negative_loss);
  v("history_negative_weight", c.history_negative_weight);
  v("tie_output", c.tie_output);
  v("repeat_bias", c.repeat_bias);
  v("beam_width", c.beam_width);
  v("max_targets_per_user", c.max_targets_per_user);
  v("loss", c.loss);
  v("num_negatives", c.num_negatives);
  v("negatives_per_sequence", c.negatives_per_sequence);
  v("negatives_per_position", c.negatives_per_position);
  v("negative_sampler", c.negative_sampler);
  v("in_batch_negatives", c.in_batch_negatives);
  v("packed_batches", c.packed_batches);
  v("random_windows", c.random_windows);
  v("stochastic_length_alpha", c.stochastic_length_alpha);
  v("batch_size", c.batch_size);
  v("length_bucketing", c.length_bucketing);
  v("epochs", c.epochs);
  v("lr", c.lr);
  v("weight_decay", c.weight_decay);
  v("adam_beta2", c.adam_beta2);
  v("ema_decay", c.ema_decay);
  v("warmup_steps", c.warmup_steps);
  v("lr_schedule", c.lr_schedule);
  v("min_lr_ratio", c.min_lr_ratio);
  v("grad_clip", c.grad_clip);
  v("eval_every", c.eval_every);
  v("patience", c.patience);
  v("eval_users", c.eval_users);
  v("eval_exclude_history", c.eval_exclude_history);
  v("train_on_validation", c.train_on_validation);
  v("seed", c.seed);
  v("threads", c.threads);
}

template <typename T>
void assign(T& field, const nlohmann::json& value, const std::string& source, const std::string& key) {
  auto bad = [&](const char* expected) {
    return Error(fmt::format("{}: config key '{}': expected {}, got {}", source, key, expected, value.dump()));
  };
  if constexpr (std::is_same_v<T, std::string>) {
    if (!value.is_string()) throw bad("a string");
    field = value.get<std::string>();
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!value.is_boolean()) throw bad("true or false");
    field = value.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    if (!value.is_number_integer()) throw bad("an integer");
    field = value.get<T>();
  } else {
    if (!value.is_number()) throw bad("a number");
    field = value.get<T>();
  }
}

}  // namespace

void TrainConfig::validate() const {
  const TrainConfig defaults;  // an option a model does not use must keep its default
  auto require = [](bool ok, const std::string& key, const std::string& what) {
    if (!ok) throw Error(fmt::format("config key '{}': {}", key, what));
  };
  require(model == "sasrec" || model == "hstu" || model == "tiger", "model",
          "unknown model '" + model + "' (known: sasrec, hstu, tiger)");
  require(model != "tiger" || !semantic_ids.empty(), "semantic_ids", "tiger needs a semantic-ID file (tessera tokenize)");
  require(num_decoder_blocks >= 0, "num_decoder_blocks", "must be >= 0");
  require(head_dim >= 0, "head_dim", "must be >= 0");
  require(user_buckets >= 0, "user_buckets", "must be >= 0");
  require(item_buckets >= 0, "item_buckets", "must be >= 0");
  require(model == "tiger" || item_buckets == 0, "item_buckets", "is only used by tiger");
  require(item_dropout >= 0 && item_dropout < 1, "item_dropout", "must be in [0, 1)");
  require(item_dropout == 0 || item_buckets > 0, "item_dropout", "needs item_buckets > 0");
  require(label_smoothing >= 0 && label_smoothing < 1, "label_smoothing", "must be in [0, 1)");
  require(model == "tiger" || label_smoothing == 0, "label_smoothing", "is only used by tiger");
  require(history_negatives >= 0, "history_negatives", "must be >= 0");
  require(model == "tiger" || history_negatives == 0, "history_negatives", "is only used by tiger");
  require(model == "tiger" || !repeat_bias, "repeat_bias", "is only used by tiger");
  require(history_negative_loss == "pairwise" || history_negative_loss == "unlikelihood", "history_negative_loss",
          "must be 'pairwise' or 'unlikelihood'");
  require(history_negative_weight > 0, "history_negative_weight", "must be > 0");
  require(beam_width >= 1, "beam_width", "must be >= 1");
  require(max_targets_per_user >= 0, "max_targets_per_user", "must be >= 0");
  require(model == "tiger" || max_targets_per_user == 0, "max_targets_per_user", "is only used by tiger");
  require(max_len >= 1, "max_len", "must be >= 1");
  require(d_model >= 1, "d_model", "must be >= 1");
  require(num_blocks >= 1, "num_blocks", "must be >= 1");
  require(num_heads >= 1 && (head_dim > 0 || d_model % num_heads == 0), "num_heads",
          "must be >= 1 and divide d_model (or set head_dim)");
  require(model != "sasrec" || d_model % num_heads == 0, "num_heads", "must divide d_model for sasrec");
  require(ffn_dim >= 0, "ffn_dim", "must be >= 0");
  require(ffn_activation == "gelu" || ffn_activation == "swiglu", "ffn_activation", "must be 'gelu' or 'swiglu'");
  require(model == "sasrec" || ffn_activation == "gelu", "ffn_activation", "is only used by sasrec");
  require(dropout >= 0 && dropout < 1, "dropout", "must be in [0, 1)");
  require(temperature > 0, "temperature", "must be > 0");
  require(model != "tiger" || !item_bias, "item_bias", "is only used by sasrec and hstu");
  require(time_buckets >= 0 && time_buckets <= 256, "time_buckets", "must be in [0, 256]");
  require(model == "hstu" || time_buckets == 0, "time_buckets", "is only used by hstu");
  require(positions == "from_end" || positions == "from_start", "positions", "must be 'from_end' or 'from_start'");
  require(model != "tiger" || positions == defaults.positions, "positions", "is only used by sasrec and hstu");
  require(position_init_std > 0, "position_init_std", "must be > 0");
  require(model != "tiger" || position_init_std == defaults.position_init_std, "position_init_std", "is only used by sasrec and hstu");
  require(model == "hstu" || layer_norm_affine, "layer_norm_affine", "is only used by hstu");
  require(loss == "full" || loss == "sampled", "loss", "must be 'full' or 'sampled'");
  require(num_negatives >= 0, "num_negatives", "must be >= 0");
  require(in_batch_negatives >= 0, "in_batch_negatives", "must be >= 0");
  require(loss != "sampled" || num_negatives + in_batch_negatives >= 1, "num_negatives",
          "sampled softmax needs num_negatives or in_batch_negatives >= 1");
  require(stochastic_length_alpha >= 0 && stochastic_length_alpha <= 2, "stochastic_length_alpha", "must be in [0, 2]");
  require(negative_sampler == "uniform" || negative_sampler == "popularity", "negative_sampler",
          "must be 'uniform' or 'popularity'");
  require(!negatives_per_position || (loss == "sampled" && num_negatives >= 1 && !negatives_per_sequence && in_batch_negatives == 0),
          "negatives_per_position", "needs loss 'sampled' and num_negatives >= 1, without negatives_per_sequence or in_batch_negatives");
  require(batch_size >= 1, "batch_size", "must be >= 1");
  require(epochs >= 1, "epochs", "must be >= 1");
  require(lr > 0, "lr", "must be > 0");
  require(weight_decay >= 0, "weight_decay", "must be >= 0");
  require(adam_beta2 > 0 && adam_beta2 < 1, "adam_beta2", "must be in (0, 1)");
  require(ema_decay >= 0 && ema_decay < 1, "ema_decay", "must be in [0, 1) (0 = off)");
  require(warmup_steps >= 0, "warmup_steps", "must be >= 0");
  require(lr_schedule == "constant" || lr_schedule == "cosine" || lr_schedule == "linear", "lr_schedule",
          "must be 'constant', 'cosine' or 'linear'");
  require(min_lr_ratio >= 0 && min_lr_ratio <= 1, "min_lr_ratio", "must be in [0, 1]");
  require(grad_clip >= 0, "grad_clip", "must be >= 0");
  require(eval_every >= 1, "eval_every", "must be >= 1");
  require(patience >= 1, "patience", "must be >= 1");
  require(eval_users >= 0, "eval_users", "must be >= 0");
  require(model != "tiger" || !train_on_validation, "train_on_validation", "is only used by sasrec and hstu");
  require(model != "tiger" || !random_windows, "random_windows", "is only used by sasrec and hstu");
  require(threads >= 0, "threads", "must be >= 0");
}

nlohmann::json to_json(const TrainConfig& config) {
  nlohmann::json j = nlohmann::json::object();
  visit_fields(config, [&](const char* key, const auto& field) { j[key] = field; });
  return j;
}

void apply_json(TrainConfig& config, const nlohmann::json& json, const std::string& source) {
  if (!json.is_object()) throw Error(source + ": config must be a JSON object");
  for (const auto& [key, value] : json.items()) {
    bool found = false;
    visit_fields(config, [&](const char* name, auto& field) {
      if (key == name) {
        assign(field, value, source, key);
        found = true;
      }
    });
    if (!found) {
      std::string known;
      visit_fields(config, [&](const char* name, auto&) { known += (known.empty() ? "" : ", ") + std::string(name); });
      throw Error(fmt::format("{}: unknown config key '{}' (known keys: {})", source, key, known));
    }
  }
}

nlohmann::json saved_config_json(const nlohmann::json& saved, const std::string& source) {
  TrainConfig config;
  apply_json(config, saved, source);
  return to_json(config);
}

TrainConfig load_config(const std::string& path) {
  TrainConfig config;
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::parse_error& e) {
    throw Error::at(path, 0, std::string("invalid JSON: ") + e.what());
  }
  apply_json(config, json, path);
  return config;
}

void apply_overrides(TrainConfig& config, const std::vector<std::string>& overrides) {
  for (const auto& item : overrides) {
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) throw Error("--set '" + item + "': expected key=value");
    std::string key = item.substr(0, eq);
    std::string text = item.substr(eq + 1);
    nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) value = text;  // bare words are strings: --set loss=sampled
    apply_json(config, nlohmann::json{{key, value}}, "--set");
  }
}

}  // namespace tessera::train
