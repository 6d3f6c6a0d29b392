#include "tessera/train/sequence_task.h"

#include <cmath>

#include "tessera/data/split.h"
#include "tessera/eval/evaluator.h"
#include "tessera/eval/popularity.h"
#include "tessera/infer/retrieval.h"
#include "tessera/models/registry.h"
#include "tessera/train/batching.h"
#include "tessera/train/losses.h"
#include "tessera/train/trainer.h"

namespace tessera::train {

namespace {

// Negative sampling for the sampled-softmax loss: candidates and their log sampling probability.
class NegativeSampler {
 public:
  NegativeSampler(const data::Dataset& dataset, const TrainConfig& config) : num_negatives_(config.num_negatives) {
    const auto V = dataset.num_items;
    auto weights = torch::zeros({V + 1}, torch::kDouble);
    if (config.negative_sampler == "popularity") {
      const auto counts = eval::training_item_counts(dataset);
      auto* w = weights.data_ptr<double>();
      for (std::int64_t i = 0; i <= V; ++i) w[i] = std::pow(static_cast<double>(counts[i]) + 1.0, 0.75);  // smoothed unigram^0.75
    } else {
      weights.fill_(1.0);
    }
    weights[0] = 0.0;
    probabilities_ = (weights / weights.sum()).to(torch::kFloat);
    log_q_ = probabilities_.clamp_min(1e-30).log();
  }

  // Draws the negatives of one step; deterministic in (seed, step).
  std::pair<torch::Tensor, torch::Tensor> sample(std::uint64_t seed, std::int64_t step) const {
    auto gen = at::detail::createCPUGenerator(seed * 0x9E3779B97F4A7C15ULL + static_cast<std::uint64_t>(step));
    auto negatives = torch::multinomial(probabilities_, num_negatives_, /*replacement=*/true, gen);
    return {negatives, log_q_.index_select(0, negatives)};
  }
  torch::Tensor log_q(const torch::Tensor& items) const { return log_q_.index_select(0, items); }

 private:
  std::int64_t num_negatives_;
  torch::Tensor probabilities_;  // [V+1] float
  torch::Tensor log_q_;          // [V+1] float
};

class SequenceTask : public TrainingTask {
 public:
  SequenceTask(const data::Dataset& dataset, const TrainConfig& config)
      : dataset_(dataset), config_(config), model_(models::make_model(model_spec(config, dataset.num_items))),
        scorer_(model_, config.model, config.max_len) {
    for (std::int64_t u = 0; u < dataset.num_users(); ++u) {
      if (data::training_sequence(dataset, u).size() >= 2) users_.push_back(u);
    }
    if (config.loss == "sampled") sampler_ = std::make_unique<NegativeSampler>(dataset, config);
  }

  std::string kind() const override { return "sequence_model"; }
  std::string unit() const override { return "seq"; }
  torch::nn::Module& module() override { return *model_; }
  std::int64_t num_examples() const override { return static_cast<std::int64_t>(users_.size()); }
  std::int64_t example_length(std::int64_t example) const override {
    return static_cast<std::int64_t>(data::training_sequence(dataset_, users_[static_cast<std::size_t>(example)]).size());
  }

  StepLoss loss(const std::vector<std::int64_t>& examples, std::int64_t step) override {
    std::vector<std::int64_t> batch_users;
    batch_users.reserve(examples.size());
    for (auto e : examples) batch_users.push_back(users_[static_cast<std::size_t>(e)]);
    auto batch = make_training_batch(dataset_, batch_users, config_.max_len);
    auto hidden = model_->encode(batch.inputs);  // [B, L, d]
    auto flat_targets = batch.targets.reshape({-1});
    auto rows = flat_targets.nonzero().squeeze(1);
    auto h = hidden.reshape({-1, hidden.size(2)}).index_select(0, rows);
    auto targets = flat_targets.index_select(0, rows);
    torch::Tensor loss;
    if (sampler_) {
      auto [negatives, log_q_neg] = sampler_->sample(static_cast<std::uint64_t>(config_.seed), step);
      loss = sampled_softmax_cross_entropy(h, model_->item_embeddings(), targets, negatives, log_q_neg, sampler_->log_q(targets));
    } else {
      loss = full_softmax_cross_entropy(h, model_->item_embeddings(), targets);
    }
    return {loss, batch.num_targets};
  }

  std::string metric() const override { return "ndcg@10"; }
  std::map<std::string, double> validate() override {
    const auto options = validation_options(config_);
    auto result = eval::evaluate(scorer_, dataset_, options);
    return {{"ndcg@10", result.metrics.at("ndcg@10").mean}, {"hr@10", result.metrics.at("hr@10").mean}};
  }

 private:
  const data::Dataset& dataset_;
  TrainConfig config_;
  std::shared_ptr<models::SequenceModelImpl> model_;
  infer::SequenceModelScorer scorer_;
  std::vector<std::int64_t> users_;  // users with a training sequence of at least 2 items
  std::unique_ptr<NegativeSampler> sampler_;
};

}  // namespace

std::unique_ptr<TrainingTask> make_sequence_task(const data::Dataset& dataset, const TrainConfig& config) {
  return std::make_unique<SequenceTask>(dataset, config);
}

}  // namespace tessera::train
