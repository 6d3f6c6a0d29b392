#include "tessera/serve/served_model.h"

#include <algorithm>

#include <fmt/format.h>

#include "tessera/core/error.h"

namespace tessera::serve {

std::shared_ptr<ServedModel> ServedModel::load(const std::string& bundle_path, const ServedModelOptions& options) {
  if (options.replicas < 1) throw Error("serve: at least one model replica is needed");
  auto bundle = bundle::load_bundle(bundle_path);
  std::shared_ptr<ServedModel> model(new ServedModel());
  for (int r = 0; r < options.replicas; ++r) {
    auto replica = std::make_unique<infer::LoadedModel>(infer::LoadedModel::from_checkpoint(bundle.checkpoint, bundle_path, nullptr));
    if (replica->tiger()) replica->tiger()->options().kv_cache = options.kv_cache;
    // One call before serving: libtorch's first call on a model is several times slower (lazy
    // allocations, thread-pool start), and it must not land on a client after a reload.
    const std::vector<std::int32_t> warm_up{1};
    const std::vector<std::int64_t> warm_up_time{0};
    const infer::Timestamps warm_up_times{std::span<const std::int64_t>(warm_up_time)};
    replica->recommend({}, {std::span<const std::int32_t>(warm_up)}, 1, false, &warm_up_times);
    model->replicas_.push_back(std::move(replica));
  }
  auto& first = *model->replicas_.front();
  if (first.tiger()) {
    model->semantic_ids_ = &first.tiger()->semantic_ids();
    model->beam_width_ = first.tiger()->options().beam_width;
    if (model->semantic_ids_->num_items != bundle.items.num_items()) {
      throw Error::at(bundle_path, 0, fmt::format("the model's semantic IDs cover {} items, the item catalog {}", model->semantic_ids_->num_items,
                                                  bundle.items.num_items()));
    }
  }
  model->name_ = first.name();
  model->version_ = bundle.version();
  model->bundle_path_ = bundle_path;
  model->manifest_ = std::move(bundle.manifest);
  model->items_ = std::move(bundle.items);
  return model;
}

std::string ServedModel::batch_key(std::int64_t k, bool exclude_history) const {
  if (!semantic_ids_) return fmt::format("k{}/x{}", k, exclude_history ? 1 : 0);
  const auto beam = std::max<std::int64_t>(beam_width_, k);
  return fmt::format("k{}/x{}/beam{}", k, exclude_history ? 1 : 0, beam);
}

std::vector<std::vector<infer::ScoredItem>> ServedModel::recommend(int worker, const std::vector<std::span<const std::int32_t>>& histories,
                                                                   std::int64_t k, bool exclude_history, const infer::Timestamps* timestamps) {
  return replicas_.at(static_cast<std::size_t>(worker))->recommend({}, histories, k, exclude_history, timestamps);
}

}  // namespace tessera::serve
