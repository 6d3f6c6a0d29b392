#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tessera/core/error.h"
#include "tessera/train/config.h"

namespace tessera::train {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(TrainConfig, JsonRoundTripAndOverrides) {
  TrainConfig c;
  apply_overrides(c, {"d_model=64", "loss=sampled", "dropout=0.3", "eval_exclude_history=true"});
  EXPECT_EQ(c.d_model, 64);
  EXPECT_EQ(c.loss, "sampled");
  EXPECT_DOUBLE_EQ(c.dropout, 0.3);
  EXPECT_TRUE(c.eval_exclude_history);
  TrainConfig d;
  apply_json(d, to_json(c), "test");
  EXPECT_EQ(to_json(d), to_json(c));
}

TEST(TrainConfig, ErrorsNameTheSourceAndKey) {
  TrainConfig c;
  EXPECT_NE(error_of([&] { apply_json(c, nlohmann::json{{"d_modle", 3}}, "cfg.json"); }).find("cfg.json: unknown config key 'd_modle'"),
            std::string::npos);
  EXPECT_NE(error_of([&] { apply_overrides(c, {"d_model=big"}); }).find("--set: config key 'd_model': expected an integer"),
            std::string::npos);
  EXPECT_NE(error_of([&] { apply_overrides(c, {"nokey"}); }).find("expected key=value"), std::string::npos);
  c.num_heads = 3;
  EXPECT_NE(error_of([&] { c.validate(); }).find("num_heads"), std::string::npos);
  c.num_heads = 1;
  c.ema_decay = 1.0;
  EXPECT_NE(error_of([&] { c.validate(); }).find("ema_decay"), std::string::npos);
  EXPECT_NE(error_of([] { load_config("/nonexistent/config.json"); }).find("/nonexistent/config.json"), std::string::npos);
}

TEST(TrainConfig, TimeBucketsAreForHstuAndBounded) {
  TrainConfig c;
  c.time_buckets = 64;
  EXPECT_NE(error_of([&] { c.validate(); }).find("time_buckets"), std::string::npos);  // sasrec reads no time
  c.model = "hstu";
  EXPECT_NO_THROW(c.validate());
  c.time_buckets = 300;
  EXPECT_NE(error_of([&] { c.validate(); }).find("must be in [0, 256]"), std::string::npos);
}

TEST(TrainConfig, PositionsCountFromEitherEndForSequenceModelsOnly) {
  TrainConfig c;
  apply_overrides(c, {"positions=from_start"});
  EXPECT_NO_THROW(c.validate());  // sasrec
  c.positions = "middle";
  EXPECT_NE(error_of([&] { c.validate(); }).find("'from_end' or 'from_start'"), std::string::npos);
  c.positions = "from_start";
  c.model = "tiger";
  c.semantic_ids = "ids.sid";
  EXPECT_NE(error_of([&] { c.validate(); }).find("positions"), std::string::npos);
}

TEST(TrainConfig, PositionScaleAndPlainNormsAreCheckedPerModel) {
  TrainConfig c;
  apply_overrides(c, {"position_init_std=0.141"});
  EXPECT_NO_THROW(c.validate());  // sasrec
  c.position_init_std = 0;
  EXPECT_NE(error_of([&] { c.validate(); }).find("position_init_std"), std::string::npos);
  c.position_init_std = 0.02;
  c.layer_norm_affine = false;
  EXPECT_NE(error_of([&] { c.validate(); }).find("layer_norm_affine"), std::string::npos);  // sasrec
  c.model = "hstu";
  EXPECT_NO_THROW(c.validate());
}

TEST(TrainConfig, SwiGluAndItemBiasAreForItemIdModels) {
  TrainConfig c;
  apply_overrides(c, {"ffn_activation=swiglu", "item_bias=true"});
  EXPECT_NO_THROW(c.validate());  // sasrec
  c.ffn_activation = "relu";
  EXPECT_NE(error_of([&] { c.validate(); }).find("'gelu' or 'swiglu'"), std::string::npos);
  c.ffn_activation = "swiglu";
  c.model = "hstu";  // HSTU has no feed-forward layer
  EXPECT_NE(error_of([&] { c.validate(); }).find("ffn_activation"), std::string::npos);
  c.ffn_activation = "gelu";
  EXPECT_NO_THROW(c.validate());  // the item bias is for hstu too
  c.model = "tiger";
  c.semantic_ids = "ids.sid";
  EXPECT_NE(error_of([&] { c.validate(); }).find("item_bias"), std::string::npos);
}

TEST(TrainConfig, PerPositionNegativesNeedSampledSoftmaxAlone) {
  TrainConfig c;
  c.negatives_per_position = true;
  EXPECT_NE(error_of([&] { c.validate(); }).find("negatives_per_position"), std::string::npos);  // loss is full
  c.loss = "sampled";
  EXPECT_NO_THROW(c.validate());
  c.in_batch_negatives = 16;
  EXPECT_NE(error_of([&] { c.validate(); }).find("negatives_per_position"), std::string::npos);
}

// item_buckets and its dropout are TIGER options, and the dropout needs the buckets.
TEST(TrainConfig, ItemDropoutNeedsTigerItemBuckets) {
  TrainConfig c;
  c.model = "tiger";
  c.semantic_ids = "ids.sid";
  apply_overrides(c, {"item_dropout=0.3"});
  EXPECT_NE(error_of([&] { c.validate(); }).find("needs item_buckets"), std::string::npos);
  c.item_buckets = 1000;
  EXPECT_NO_THROW(c.validate());
  c.item_dropout = 1.0;
  EXPECT_NE(error_of([&] { c.validate(); }).find("item_dropout"), std::string::npos);
  c.item_dropout = -0.1;
  EXPECT_NE(error_of([&] { c.validate(); }).find("item_dropout"), std::string::npos);
  c.item_dropout = 0.0;
  c.model = "sasrec";
  EXPECT_NE(error_of([&] { c.validate(); }).find("item_buckets"), std::string::npos);
}

// label_smoothing is a TIGER option in [0, 1).
TEST(TrainConfig, LabelSmoothingIsATigerOptionBelowOne) {
  TrainConfig c;
  c.model = "tiger";
  c.semantic_ids = "ids.sid";
  apply_overrides(c, {"label_smoothing=0.1"});
  EXPECT_NO_THROW(c.validate());
  c.label_smoothing = 1.0;
  EXPECT_NE(error_of([&] { c.validate(); }).find("label_smoothing"), std::string::npos);
  c.label_smoothing = -0.1;
  EXPECT_NE(error_of([&] { c.validate(); }).find("label_smoothing"), std::string::npos);
  c.label_smoothing = 0.1;
  c.model = "sasrec";
  EXPECT_NE(error_of([&] { c.validate(); }).find("label_smoothing"), std::string::npos);
}

// history_negatives is a TIGER option (>= 0) with a positive weight.
TEST(TrainConfig, HistoryNegativesIsATigerOptionWithAPositiveWeight) {
  TrainConfig c;
  c.model = "tiger";
  c.semantic_ids = "ids.sid";
  apply_overrides(c, {"history_negatives=2", "history_negative_weight=0.3"});
  EXPECT_EQ(c.history_negatives, 2);
  EXPECT_NO_THROW(c.validate());
  c.history_negative_weight = 0.0;
  EXPECT_NE(error_of([&] { c.validate(); }).find("history_negative_weight"), std::string::npos);
  c.history_negative_weight = 1.0;
  c.history_negatives = -1;
  EXPECT_NE(error_of([&] { c.validate(); }).find("history_negatives"), std::string::npos);
  c.history_negatives = 1;
  apply_overrides(c, {"history_negative_loss=unlikelihood"});
  EXPECT_NO_THROW(c.validate());
  c.history_negative_loss = "hinge";
  EXPECT_NE(error_of([&] { c.validate(); }).find("history_negative_loss"), std::string::npos);
  c.history_negative_loss = "pairwise";
  c.model = "sasrec";
  EXPECT_NE(error_of([&] { c.validate(); }).find("history_negatives"), std::string::npos);
}

// repeat_bias is a TIGER option: a sequence-model config that sets it is refused by name.
TEST(TrainConfig, RepeatBiasIsATigerOption) {
  TrainConfig c;
  c.model = "tiger";
  c.semantic_ids = "ids.sid";
  apply_overrides(c, {"repeat_bias=true"});
  EXPECT_TRUE(c.repeat_bias);
  EXPECT_NO_THROW(c.validate());
  c.model = "hstu";
  EXPECT_NE(error_of([&] { c.validate(); }).find("repeat_bias"), std::string::npos);
}

// Options of the item-ID sequence models that a TIGER config rejects by name.
TEST(TrainConfig, SequenceModelOptionsAreRejectedForTiger) {
  const std::vector<std::pair<std::string, std::function<void(TrainConfig&)>>> options = {
      {"train_on_validation", [](TrainConfig& c) { c.train_on_validation = true; }},
      {"random_windows", [](TrainConfig& c) { c.random_windows = true; }},
  };
  for (const auto& [key, set] : options) {
    TrainConfig c;
    set(c);
    EXPECT_NO_THROW(c.validate()) << key;  // sasrec
    c.model = "tiger";
    c.semantic_ids = "ids.sid";
    EXPECT_NE(error_of([&] { c.validate(); }).find(key), std::string::npos) << key;
  }
}

}  // namespace
}  // namespace tessera::train
