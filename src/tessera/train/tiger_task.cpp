#include "tessera/train/tiger_task.h"

#include <algorithm>

#include <fmt/format.h>

#include "tessera/core/error.h"
#include "tessera/data/fingerprint.h"
#include "tessera/data/split.h"
#include "tessera/eval/evaluator.h"
#include "tessera/infer/tiger_recommender.h"
#include "tessera/train/checkpoint.h"
#include "tessera/train/losses.h"

namespace tessera::train {

namespace {

nlohmann::json semantic_ids_json(const tokenize::SemanticIds& ids) {
  return {{"method", ids.method},
          {"dataset_fingerprint", ids.dataset_fingerprint},
          {"num_items", ids.num_items},
          {"num_quantizer_levels", ids.num_quantizer_levels},
          {"level_sizes", ids.level_sizes},
          {"codes", ids.codes}};
}

tokenize::SemanticIds semantic_ids_from_json(const nlohmann::json& j, const std::string& where) {
  tokenize::SemanticIds ids;
  try {
    ids.method = j.at("method");
    ids.dataset_fingerprint = j.at("dataset_fingerprint");
    ids.num_items = j.at("num_items");
    ids.num_quantizer_levels = j.at("num_quantizer_levels");
    ids.level_sizes = j.at("level_sizes").get<std::vector<std::int32_t>>();
    ids.codes = j.at("codes").get<std::vector<std::int32_t>>();
  } catch (const std::exception& e) {
    throw Error::at(where, 0, std::string("bad semantic IDs in the checkpoint: ") + e.what());
  }
  tokenize::validate_semantic_ids(ids, where + " (semantic IDs)");
  return ids;
}

class TigerTask : public TrainingTask {
 public:
  TigerTask(const data::Dataset& dataset, const TrainConfig& config) : dataset_(dataset), config_(config) {
    auto ids = std::make_shared<tokenize::SemanticIds>(tokenize::load_semantic_ids(config.semantic_ids));
    const auto fingerprint = data::dataset_fingerprint(dataset);
    if (ids->dataset_fingerprint != fingerprint || ids->num_items != dataset.num_items) {
      throw Error::at(config.semantic_ids, 0,
                      fmt::format("semantic IDs were made for another dataset (fingerprint {}, {} items); this dataset '{}' has "
                                  "fingerprint {} and {} items",
                                  ids->dataset_fingerprint, ids->num_items, dataset.name, fingerprint, dataset.num_items));
    }
    ids_ = ids;
    model_ = std::make_shared<models::TigerImpl>(tiger_spec(config, *ids_));
    for (std::int64_t u = 0; u < dataset.num_users(); ++u) {
      const auto n = static_cast<std::int32_t>(data::training_sequence(dataset, u).size());
      const std::int32_t first = config.max_targets_per_user > 0
                                     ? std::max<std::int32_t>(1, n - static_cast<std::int32_t>(config.max_targets_per_user))
                                     : 1;
      for (std::int32_t p = first; p < n; ++p) examples_.push_back({static_cast<std::int32_t>(u), p});
    }
    recommender_ = std::make_unique<infer::TigerRecommender>(model_, ids_, infer::BeamSearchOptions{config.beam_width, true});
  }

  std::string kind() const override { return "tiger"; }
  std::string unit() const override { return "ex"; }
  torch::nn::Module& module() override { return *model_; }
  std::int64_t num_examples() const override { return static_cast<std::int64_t>(examples_.size()); }
  std::int64_t example_length(std::int64_t e) const override {
    return std::min<std::int64_t>(config_.max_len, examples_[static_cast<std::size_t>(e)].position);
  }

  StepLoss loss(const std::vector<std::int64_t>& batch, std::int64_t /*step*/) override {
    const auto B = static_cast<std::int64_t>(batch.size());
    std::vector<std::span<const std::int32_t>> histories;
    std::vector<std::int32_t> target_items;
    std::vector<std::int64_t> buckets;
    for (std::int64_t b = 0; b < B; ++b) {
      const auto& ex = examples_[static_cast<std::size_t>(batch[static_cast<std::size_t>(b)])];
      const auto sequence = data::training_sequence(dataset_, ex.user);
      const auto start = std::max<std::int64_t>(0, ex.position - config_.max_len);
      histories.push_back(sequence.subspan(static_cast<std::size_t>(start), static_cast<std::size_t>(ex.position - start)));
      target_items.push_back(sequence[static_cast<std::size_t>(ex.position)]);
      if (config_.user_buckets > 0) buckets.push_back(models::hashed_user_bucket(ex.user, config_.user_buckets));
    }
    auto targets = codes_of(target_items);
    auto tokens = model_->history_tokens(ids_->codes, histories);
    torch::Tensor users;
    if (config_.user_buckets > 0) users = torch::tensor(buckets, torch::kLong);
    auto memory = model_->encode(tokens, users);
    const std::int64_t M = config_.history_negatives, L = ids_->num_levels();
    StepLoss result = work_counts(histories, tokens.size(1));
    result.targets = B * L;
    if (M == 0) {
      result.loss = code_cross_entropy(model_->decode_teacher_forced(memory, targets), targets, config_.label_smoothing);
      return result;
    }
    // The target and its history negatives are decoded in one call, G = 1 + M sequences per
    // example, so the encoder memory's cross-attention keys/values are projected once.
    auto [negatives, valid] = draw_history_negatives(histories, target_items);
    auto candidates = torch::cat({targets.unsqueeze(1), negatives.view({B, M, L})}, 1).view({B * (1 + M), L});
    auto all_logits = model_->decode_teacher_forced(memory, candidates);
    std::vector<torch::Tensor> target_logits;
    for (const auto& level : all_logits) target_logits.push_back(level.view({B, 1 + M, -1}).select(1, 0));
    auto loss = code_cross_entropy(target_logits, targets, config_.label_smoothing);
    auto likelihood = code_log_likelihood(all_logits, candidates).view({B, 1 + M});  // column 0: the target
    auto negative = likelihood.narrow(1, 1, M);
    auto extra = config_.history_negative_loss == "unlikelihood" ? unlikelihood_loss(negative, valid)
                                                                 : ranked_above_loss(likelihood.select(1, 0), negative, valid);
    result.loss = loss + config_.history_negative_weight * extra;
    return result;
  }

  // A step's work counters without its loss: history tokens that are items (real), the [B, T]
  // tokens the encoder ran on (computed = padded: TIGER batches are padded to their longest
  // history, not packed), and forward + backward FLOPs (about 3x forward) of the real histories.
  // `histories` are loss()'s, already cut to the last max_len items.
  StepLoss work_counts(const std::vector<std::span<const std::int32_t>>& histories, std::int64_t padded_length) const {
    StepLoss counts;
    const std::int64_t user_token = config_.user_buckets > 0 ? 1 : 0;
    for (const auto& history : histories) {
      const auto items = static_cast<std::int64_t>(history.size());
      counts.real_tokens += items * ids_->num_levels() + user_token;
      counts.flops += 3.0 * model_->flops_per_example(items, 1 + config_.history_negatives);
    }
    counts.computed_tokens = counts.padded_tokens =
        static_cast<std::int64_t>(histories.size()) * (padded_length + user_token);
    return counts;
  }

  // The semantic IDs of `items`: [N, num_levels] int64.
  torch::Tensor codes_of(const std::vector<std::int32_t>& items) const {
    const auto L = ids_->num_levels();
    auto codes = torch::empty({static_cast<std::int64_t>(items.size()), L}, torch::kLong);
    auto* c = codes.data_ptr<std::int64_t>();
    for (std::size_t i = 0; i < items.size(); ++i) {
      const auto code = ids_->code(items[i]);
      std::copy(code.begin(), code.end(), c + static_cast<std::int64_t>(i) * L);
    }
    return codes;
  }

  // Draws config_.history_negatives items (with replacement) from each example's encoder history:
  // their semantic IDs [B * M, L] (example b's in rows b*M ..) and valid [B, M], false where the
  // drawn item is the target itself. The loss then pushes them down: "pairwise" ranks the
  // target's full-ID log-likelihood above each of theirs (ranked_above_loss), "unlikelihood"
  // lowers their own probability (unlikelihood_loss).
  std::pair<torch::Tensor, torch::Tensor> draw_history_negatives(const std::vector<std::span<const std::int32_t>>& histories,
                                                                 const std::vector<std::int32_t>& target_items) {
    const auto B = static_cast<std::int64_t>(histories.size());
    const auto M = config_.history_negatives;
    auto draws = torch::rand({B, M}, torch::kDouble);
    const auto* u = draws.data_ptr<double>();
    std::vector<std::int32_t> negative_items;
    auto valid = torch::empty({B, M}, torch::kBool);
    auto* ok = valid.data_ptr<bool>();
    for (std::int64_t b = 0; b < B; ++b) {
      const auto& history = histories[static_cast<std::size_t>(b)];
      const auto n = static_cast<std::int64_t>(history.size());
      for (std::int64_t m = 0; m < M; ++m) {
        const auto pick = std::min<std::int64_t>(n - 1, static_cast<std::int64_t>(u[b * M + m] * static_cast<double>(n)));
        negative_items.push_back(history[static_cast<std::size_t>(pick)]);
        ok[b * M + m] = negative_items.back() != target_items[static_cast<std::size_t>(b)];
      }
    }
    return {codes_of(negative_items), valid};
  }

  std::string metric() const override { return "recall@10"; }
  std::string tiebreak_metric() const override { return "ndcg@10"; }
  std::map<std::string, double> validate() override {
    const auto options = validation_options(config_);
    auto result = eval::evaluate_lists(*recommender_, dataset_, options);
    model_->train();
    return {{"recall@10", result.metrics.at("recall@10").mean}, {"ndcg@10", result.metrics.at("ndcg@10").mean}};
  }

  nlohmann::json model_meta() const override { return {{"semantic_ids", semantic_ids_json(*ids_)}}; }

 private:
  struct Example {
    std::int32_t user;      // dataset user
    std::int32_t position;  // index of the target in the user's training sequence (>= 1)
  };
  const data::Dataset& dataset_;
  TrainConfig config_;
  std::shared_ptr<const tokenize::SemanticIds> ids_;
  std::shared_ptr<models::TigerImpl> model_;
  std::vector<Example> examples_;
  std::unique_ptr<infer::TigerRecommender> recommender_;
};

}  // namespace

models::TigerSpec tiger_spec(const TrainConfig& c, const tokenize::SemanticIds& ids) {
  models::TigerSpec spec;
  for (auto size : ids.level_sizes) spec.level_sizes.push_back(size);
  spec.max_items = c.max_len;
  spec.d_model = c.d_model;
  spec.num_heads = c.num_heads;
  spec.head_dim = c.head_width();
  spec.ffn_dim = c.ffn_width();
  spec.encoder_layers = c.num_blocks;
  spec.decoder_layers = c.decoder_blocks();
  spec.dropout = c.dropout;
  spec.user_buckets = c.user_buckets;
  spec.item_buckets = c.item_buckets;
  spec.item_dropout = c.item_dropout;
  spec.tie_output = c.tie_output;
  spec.repeat_bias = c.repeat_bias;
  return spec;
}

std::unique_ptr<TrainingTask> make_tiger_task(const data::Dataset& dataset, const TrainConfig& config) {
  return std::make_unique<TigerTask>(dataset, config);
}

TrainedTiger load_trained_tiger(const std::string& path, const data::Dataset* dataset) {
  return load_trained_tiger(load_checkpoint(path), path, dataset);
}

TrainedTiger load_trained_tiger(const Checkpoint& ckpt, const std::string& path, const data::Dataset* dataset) {
  if (ckpt.meta.value("kind", "") != "tiger") {
    throw Error::at(path, 0, "is a '" + ckpt.meta.value("kind", std::string("sequence_model")) + "' checkpoint, not a TIGER model");
  }
  TrainedTiger trained;
  trained.meta = ckpt.meta;
  apply_json(trained.config, ckpt.meta.at("config"), path);
  if (dataset) {
    const auto fingerprint = data::dataset_fingerprint(*dataset);
    if (ckpt.meta["dataset"].at("fingerprint") != fingerprint) {
      throw Error::at(path, 0, fmt::format("model was trained on dataset '{}' (fingerprint {}) but the given dataset '{}' has fingerprint {}",
                                           ckpt.meta["dataset"].value("name", "?"), ckpt.meta["dataset"]["fingerprint"].get<std::string>(),
                                           dataset->name, fingerprint));
    }
  }
  auto ids = std::make_shared<tokenize::SemanticIds>(semantic_ids_from_json(ckpt.meta.at("model_meta").at("semantic_ids"), path));
  trained.semantic_ids = ids;
  trained.model = std::make_shared<models::TigerImpl>(tiger_spec(trained.config, *ids));
  restore_module(ckpt, *trained.model, path);
  trained.model->eval();
  return trained;
}

}  // namespace tessera::train
