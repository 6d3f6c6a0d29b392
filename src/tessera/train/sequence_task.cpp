#include "tessera/train/sequence_task.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "tessera/core/error.h"
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

// Negatives for the sampled-softmax loss, shared by every row of a step: num_negatives drawn from
// the catalogue (uniform or unigram^0.75) plus in_batch_negatives drawn from the step's targets
// (so popular items appear as often as they are targets). Every logit is corrected by the log of
// its expected number of draws under that mixture, M_c q_c(i) + M_b q_b(i).
class NegativeSampler {
 public:
  NegativeSampler(const data::Dataset& dataset, const TrainConfig& config)
      : catalogue_draws_(config.num_negatives), batch_draws_(config.in_batch_negatives), per_sequence_(config.negatives_per_sequence),
        per_position_(config.negatives_per_position) {
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
  }

  struct Draw {
    torch::Tensor negatives;           // [M] int64, shared by every row
    // With negatives_per_sequence the catalogue negatives of each sequence, [B, num_negatives]
    // (then `negatives` holds only the in-batch ones); otherwise [B, 0].
    torch::Tensor sequence_negatives;
    torch::Tensor position_negatives;  // with negatives_per_position: [N, num_negatives], else undefined
    torch::Tensor log_expected;        // [V+1] float: every item's log expected draws (logQ)
  };
  // Draws the negatives of one step for these targets ([N] int64) of `sequences` sequences;
  // deterministic in (seed, step). Per item, expected draws are M_c q_c(i) + M_b q_b(i) for
  // every row, whether the catalogue draws are shared or per sequence.
  Draw sample(const torch::Tensor& targets, std::int64_t sequences, std::uint64_t seed, std::int64_t step) const {
    auto gen = at::detail::createCPUGenerator(seed * 0x9E3779B97F4A7C15ULL + static_cast<std::uint64_t>(step));
    std::vector<torch::Tensor> parts;
    Draw draw;
    auto expected = probabilities_ * static_cast<double>(catalogue_draws_);  // [V+1] draws per item
    if (catalogue_draws_ > 0 && per_position_) {
      draw.position_negatives = torch::multinomial(probabilities_, targets.size(0) * catalogue_draws_, /*replacement=*/true, gen)
                                    .view({targets.size(0), catalogue_draws_});
    } else if (catalogue_draws_ > 0 && per_sequence_) {
      draw.sequence_negatives =
          torch::multinomial(probabilities_, sequences * catalogue_draws_, /*replacement=*/true, gen).view({sequences, catalogue_draws_});
    } else if (catalogue_draws_ > 0) {
      parts.push_back(torch::multinomial(probabilities_, catalogue_draws_, /*replacement=*/true, gen));
    }
    if (batch_draws_ > 0 && targets.numel() > 0) {
      const auto N = targets.size(0);
      auto rows = torch::randint(N, {batch_draws_}, gen, torch::kLong);
      parts.push_back(targets.index_select(0, rows));
      auto counts = torch::bincount(targets, {}, probabilities_.size(0)).to(torch::kFloat);
      expected = expected + counts * (static_cast<double>(batch_draws_) / static_cast<double>(N));
    }
    auto log_expected = expected.clamp_min(1e-30).log();
    if (!draw.sequence_negatives.defined()) draw.sequence_negatives = torch::empty({sequences, 0}, torch::kLong);
    draw.log_expected = log_expected;
    draw.negatives = parts.empty() ? torch::empty({0}, torch::kLong) : torch::cat(parts);
    return draw;
  }

 private:
  std::int64_t catalogue_draws_, batch_draws_;
  bool per_sequence_, per_position_;
  torch::Tensor probabilities_;  // [V+1] float, catalogue sampling distribution
};

class SequenceTask : public TrainingTask {
 public:
  SequenceTask(const data::Dataset& dataset, const TrainConfig& config)
      : dataset_(dataset), config_(config), model_(models::make_model(model_spec(config, dataset.num_items))),
        scorer_(model_, config.model, config.max_len) {
    for (std::int64_t u = 0; u < dataset.num_users(); ++u) {
      if (training_sequence(u).size() >= 2) users_.push_back(u);
    }
    if (config.loss == "sampled") sampler_ = std::make_unique<NegativeSampler>(dataset, config);
    if (model_->uses_time() && !dataset.has_timestamps()) {
      throw Error("config: time_buckets = " + std::to_string(config.time_buckets) + " needs timestamps, but dataset '" + dataset.name +
                  "' has none (its source had no timestamp column); set time_buckets to 0");
    }
  }

  std::string kind() const override { return "sequence_model"; }
  std::string unit() const override { return "seq"; }
  torch::nn::Module& module() override { return *model_; }
  std::int64_t num_examples() const override { return static_cast<std::int64_t>(users_.size()); }
  std::int64_t example_length(std::int64_t example) const override {
    return static_cast<std::int64_t>(training_sequence(users_[static_cast<std::size_t>(example)]).size());
  }

  StepLoss loss(const std::vector<std::int64_t>& examples, std::int64_t step) override {
    // The examples' sequences (and timestamps, for models that use time), cut to a random window
    // and by stochastic length when those are on.
    const bool timed = model_->uses_time();
    std::vector<std::span<const std::int32_t>> sequences;
    Timestamps times;
    std::vector<std::vector<std::int32_t>> cut;
    std::vector<std::vector<std::int64_t>> cut_times;
    sequences.reserve(examples.size());
    cut.reserve(examples.size());
    cut_times.reserve(examples.size());
    std::mt19937_64 rng(static_cast<std::uint64_t>(config_.seed) * 0x2545F4914F6CDD1DULL + static_cast<std::uint64_t>(step));
    for (auto e : examples) {
      const auto user = users_[static_cast<std::size_t>(e)];
      auto seq = training_sequence(user);
      auto time = timed ? data::training_timestamps(dataset_, user, config_.train_on_validation) : std::span<const std::int64_t>();
      if (config_.random_windows) {  // a sequence that fits is kept whole, without a draw
        const auto start = random_window_start(seq.size(), config_.max_len, rng);
        const auto window = std::min(seq.size(), static_cast<std::size_t>(config_.max_len + 1));
        seq = seq.subspan(start, window);
        if (timed) time = time.subspan(start, window);
      }
      if (config_.stochastic_length_alpha > 0) {
        auto& kept = cut.emplace_back();
        auto& kept_times = cut_times.emplace_back();
        for (auto i : stochastic_length_positions(seq.size(), config_.max_len, config_.stochastic_length_alpha, rng)) {
          kept.push_back(seq[i]);
          if (timed) kept_times.push_back(time[i]);
        }
        seq = kept;
        time = kept_times;
      }
      sequences.push_back(seq);
      if (timed) times.push_back(time);
    }
    const Timestamps* batch_times = timed ? &times : nullptr;

    StepLoss result;
    torch::Tensor h, targets;  // [N, d], [N]: the positions that carry a loss
    torch::Tensor row_offsets;  // [B + 1]: the rows of h that belong to each sequence
    if (config_.packed_batches) {
      auto batch = make_packed_training_batch(sequences, config_.max_len, batch_times);
      h = model_->encode_packed(batch.inputs, batch.offsets, batch.timestamps);
      targets = batch.targets;
      row_offsets = batch.offsets;
      result.computed_tokens = batch.num_targets;
      result.padded_tokens = batch.padded_tokens;
    } else {
      auto batch = make_training_batch(sequences, config_.max_len, batch_times);
      auto hidden = model_->encode(batch.inputs, batch.timestamps);  // [B, L, d]
      auto flat_targets = batch.targets.reshape({-1});
      auto rows = flat_targets.nonzero().squeeze(1);
      h = hidden.reshape({-1, hidden.size(2)}).index_select(0, rows);  // row-major: grouped by sequence
      targets = flat_targets.index_select(0, rows);
      row_offsets = torch::cat({torch::zeros({1}, torch::kLong), batch.targets.ne(0).sum(1).cumsum(0)});
      result.computed_tokens = result.padded_tokens = batch.inputs.numel();
    }
    result.targets = result.real_tokens = targets.size(0);

    std::int64_t candidates = dataset_.num_items;
    if (sampler_) {
      auto draw = sampler_->sample(targets, static_cast<std::int64_t>(sequences.size()), static_cast<std::uint64_t>(config_.seed), step);
      if (draw.position_negatives.defined()) {  // computed through all logits (losses.h): candidates stay num_items
        result.loss = position_sampled_softmax_cross_entropy(h, model_->item_embeddings(), targets, draw.position_negatives,
                                                             draw.log_expected);
      } else {
        candidates = draw.negatives.size(0) + draw.sequence_negatives.size(1) + 1;
        result.loss = grouped_sampled_softmax_cross_entropy(h, model_->item_embeddings(), targets, row_offsets,
                                                            draw.sequence_negatives, draw.negatives, draw.log_expected);
      }
    } else {
      result.loss = full_softmax_cross_entropy(h, model_->item_embeddings(), targets);
    }
    // Useful FLOPs (real tokens only), forward + backward ~ 3x forward.
    double flops = 0;
    for (const auto& seq : sequences) {
      const auto n = std::clamp<std::int64_t>(static_cast<std::int64_t>(seq.size()) - 1, 0, config_.max_len);
      flops += static_cast<double>(n) * model_->flops_per_token(n);
    }
    flops += static_cast<double>(result.targets) * 2.0 * static_cast<double>(candidates) * static_cast<double>(config_.d_model);
    result.flops = 3.0 * flops;
    return result;
  }

  std::string metric() const override { return "ndcg@10"; }
  std::map<std::string, double> validate() override {
    const auto options = validation_options(config_);
    auto result = eval::evaluate(scorer_, dataset_, options);
    return {{"ndcg@10", result.metrics.at("ndcg@10").mean}, {"hr@10", result.metrics.at("hr@10").mean}};
  }

 private:
  std::span<const std::int32_t> training_sequence(std::int64_t user) const {
    return data::training_sequence(dataset_, user, config_.train_on_validation);
  }

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
