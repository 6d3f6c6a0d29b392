#include "serve/serve_fixture.h"

#include <unistd.h>

#include <cstdlib>
#include <mutex>

#include "tessera/core/error.h"
#include "tessera/data/fingerprint.h"
#include "tessera/data/synth.h"
#include "tessera/train/trainer.h"
#include "test_util.h"
#include "infer/tiger_fixture.h"

namespace tessera::testing {

namespace fs = std::filesystem;

namespace {

data::Dataset make_dataset() {
  data::SynthOptions o;
  o.num_users = 120;
  o.num_items = 80;
  o.mean_seq_len = 12;
  o.max_seq_len = 40;
  o.branching = {4, 3};
  o.seed = 7;
  auto synth = data::generate_synthetic(o);
  data::Dataset d;
  d.name = "serve-synth";
  d.num_items = o.num_items;
  d.item_ids.push_back("");
  d.item_metadata.emplace_back();
  for (int i = 1; i <= o.num_items; ++i) {
    d.item_ids.push_back("sku-" + std::to_string(i));
    data::ItemMetadata m;
    m.title = "Item " + std::to_string(i);
    m.attributes = synth.item_categories[static_cast<std::size_t>(i)];
    d.item_metadata.push_back(m);
  }
  for (std::size_t u = 0; u < synth.sequences.size(); ++u) {
    d.items.insert(d.items.end(), synth.sequences[u].begin(), synth.sequences[u].end());
    std::int64_t t = 1'600'000'000 + static_cast<std::int64_t>(u) * 977;
    for (std::size_t p = 0; p < synth.sequences[u].size(); ++p) {
      t += 60LL << (2 * ((p * 31 + u) % 8));  // a minute to ~11 days
      d.timestamps.push_back(t);
    }
    d.user_offsets.push_back(static_cast<std::int64_t>(d.items.size()));
    d.user_ids.push_back("user-" + std::to_string(u));
  }
  return d;
}

train::TrainConfig sasrec_config(std::int64_t seed) {
  train::TrainConfig c;
  c.max_len = 20;
  c.d_model = 16;
  c.num_heads = 2;
  c.batch_size = 32;
  c.epochs = 2;
  c.warmup_steps = 3;
  c.patience = 100;
  c.threads = 2;
  c.seed = seed;
  return c;
}

std::string train_and_export(const train::TrainConfig& config, const std::string& name, const std::string& version) {
  train::TrainOptions options;
  options.run_dir = serve_dir() + "/" + name;
  auto result = train::train_model(serve_dataset(), config, options);
  bundle::export_bundle(result.best_checkpoint, serve_dataset(), serve_dir() + "/" + name + ".tsb", {version, serve_dir() + "/synth.tsd"});
  return result.best_checkpoint;
}

struct Artefacts {
  std::string dataset, sasrec_ckpt, sasrec, sasrec2, tiger_ckpt, tiger, hstu_ckpt, hstu;
};

Artefacts& artefacts() {
  static Artefacts a;
  static std::once_flag once;
  std::call_once(once, [] {
    a.dataset = serve_dir() + "/synth.tsd";
    data::save_dataset(serve_dataset(), a.dataset);
    a.sasrec_ckpt = train_and_export(sasrec_config(1), "sasrec", "sasrec-v1");
    a.sasrec = serve_dir() + "/sasrec.tsb";
    train_and_export(sasrec_config(2), "sasrec2", "sasrec-v2");
    a.sasrec2 = serve_dir() + "/sasrec2.tsb";

    auto ids = random_semantic_ids(serve_dataset().num_items, 11);
    ids->dataset_fingerprint = data::dataset_fingerprint(serve_dataset());
    const std::string sids = serve_dir() + "/synth.sids";
    tokenize::save_semantic_ids(*ids, sids);
    train::TrainConfig tiger;
    tiger.model = "tiger";
    tiger.semantic_ids = sids;
    tiger.max_len = 8;
    tiger.d_model = 32;
    tiger.num_blocks = 1;
    tiger.num_heads = 2;
    tiger.head_dim = 16;
    tiger.ffn_dim = 64;
    tiger.dropout = 0.0;
    tiger.beam_width = 10;
    tiger.batch_size = 128;
    tiger.epochs = 1;
    tiger.warmup_steps = 2;
    tiger.eval_users = 20;
    tiger.threads = 2;
    a.tiger_ckpt = train_and_export(tiger, "tiger", "tiger-v1");
    a.tiger = serve_dir() + "/tiger.tsb";

    auto hstu = sasrec_config(3);
    hstu.model = "hstu";
    hstu.time_buckets = 64;
    a.hstu_ckpt = train_and_export(hstu, "hstu-time", "hstu-time-v1");
    a.hstu = serve_dir() + "/hstu-time.tsb";
  });
  return a;
}

}  // namespace

const data::Dataset& serve_dataset() {
  static const data::Dataset d = make_dataset();
  return d;
}

std::string serve_dir() {
  static const std::string dir = [] {
    auto path = temp_path("serve", "artefacts");
    fs::remove_all(path);
    fs::create_directories(path);
    static std::string cleanup = path;
    std::atexit([] {
      std::error_code ignored;
      fs::remove_all(cleanup, ignored);
    });
    return path;
  }();
  return dir;
}

const std::string& dataset_file() { return artefacts().dataset; }
const std::string& sasrec_checkpoint() { return artefacts().sasrec_ckpt; }
const std::string& sasrec_bundle() { return artefacts().sasrec; }
const std::string& sasrec_bundle_seed2() { return artefacts().sasrec2; }
const std::string& tiger_checkpoint() { return artefacts().tiger_ckpt; }
const std::string& tiger_bundle() { return artefacts().tiger; }
const std::string& hstu_time_checkpoint() { return artefacts().hstu_ckpt; }
const std::string& hstu_time_bundle() { return artefacts().hstu; }

TestServer::TestServer(const std::string& bundle, serve::ServiceOptions service_options, serve::HttpOptions http_options) {
  service_ = std::make_unique<serve::RecommendService>(bundle, service_options);
  http_options.host = "127.0.0.1";
  http_options.port = 0;
  http_ = std::make_unique<serve::HttpServer>(*service_, http_options);
  port_ = http_->bind();
  serving_ = std::thread([this] { http_->serve(); });
}

void TestServer::shutdown() {
  http_->shutdown();
  if (serving_.joinable()) serving_.join();
}

TestServer::~TestServer() {
  shutdown();
  service_->stop();
}

}  // namespace tessera::testing
