#pragma once
// ServedModel: one loaded model bundle, ready to answer batches. It holds the item catalog, one
// infer::LoadedModel replica per batch worker (LoadedModel is not thread-safe, so worker i only
// ever uses replica(i) and never shares it), and the identity the server reports.
//
// A reload builds a new ServedModel while the old one keeps serving; requests hold a shared_ptr
// to the ServedModel they were validated against, so every request is answered by the model
// whose catalog accepted its item IDs, and an old model lives until its last request is done.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tessera/bundle/bundle.h"
#include "tessera/infer/model_loader.h"

namespace tessera::serve {

struct ServedModelOptions {
  int replicas = 1;       // batch workers that will use this model, one replica each
  bool kv_cache = true;   // TIGER: decode with the KV cache (false only to measure its effect)
};

class ServedModel {
 public:
  // Loads and verifies the bundle (bundle::load_bundle) and restores the replicas. Throws
  // tessera::Error naming the file; nothing is shared with a model already serving.
  static std::shared_ptr<ServedModel> load(const std::string& bundle_path, const ServedModelOptions& options);

  const bundle::ItemCatalog& items() const { return items_; }
  const nlohmann::json& manifest() const { return manifest_; }
  const std::string& bundle_path() const { return bundle_path_; }
  const std::string& name() const { return name_; }        // model family from the config: "sasrec", "hstu", "tiger"
  const std::string& version() const { return version_; }  // the manifest's version label
  // TIGER's semantic IDs (rendered in answers), or nullptr for item-ID sequence models.
  const tokenize::SemanticIds* semantic_ids() const { return semantic_ids_; }
  int replicas() const { return static_cast<int>(replicas_.size()); }
  // Whether requests must carry timestamps (HSTU with time buckets).
  bool uses_time() const { return replicas_.front()->uses_time(); }

  // Requests with equal keys give the same answers whether run alone or in one batch, so the
  // batcher only groups equal keys: k and exclude_history always, and for TIGER the beam width
  // LoadedModel::recommend will use (the configured width, or k if larger).
  std::string batch_key(std::int64_t k, bool exclude_history) const;

  // Top k for each history (LoadedModel::recommend, no user token). Only worker `worker` may call
  // with that index, and one call at a time per index.
  // timestamps: one list per history when uses_time(), else nullptr.
  std::vector<std::vector<infer::ScoredItem>> recommend(int worker, const std::vector<std::span<const std::int32_t>>& histories,
                                                        std::int64_t k, bool exclude_history, const infer::Timestamps* timestamps = nullptr);

 private:
  ServedModel() = default;

  bundle::ItemCatalog items_;
  nlohmann::json manifest_;
  std::string bundle_path_, name_, version_;
  std::vector<std::unique_ptr<infer::LoadedModel>> replicas_;
  const tokenize::SemanticIds* semantic_ids_ = nullptr;  // owned by replicas_[0]
  std::int64_t beam_width_ = 0;                          // TIGER's configured beam, 0 otherwise
};

}  // namespace tessera::serve
