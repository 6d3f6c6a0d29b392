#include "tessera/train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>

#include <sstream>

#include "tessera/core/binary_io.h"
#include "tessera/core/error.h"

namespace tessera::train {

namespace {
constexpr const char* kMagic = "TSRCKPT";

template <typename Saveable>
std::string archive_bytes(Saveable& object) {
  torch::serialize::OutputArchive archive;
  object.save(archive);
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}

template <typename Loadable>
void load_archive(Loadable& object, const std::string& bytes, const std::string& path, const char* what) {
  try {
    std::istringstream in(bytes);
    torch::serialize::InputArchive archive;
    archive.load_from(in);
    object.load(archive);
  } catch (const c10::Error& e) {
    throw Error::at(path, 0, std::string("cannot restore ") + what + " (does the checkpoint match this model?): " + e.what_without_backtrace());
  }
}
}  // namespace

Checkpoint capture_checkpoint(torch::nn::Module& module, torch::optim::Optimizer* optimizer, nlohmann::json meta) {
  Checkpoint c;
  c.meta = std::move(meta);
  c.model_state = archive_bytes(module);
  if (optimizer) c.optimizer_state = archive_bytes(*optimizer);
  auto state = at::detail::getDefaultCPUGenerator().get_state();
  c.rng_state.assign(reinterpret_cast<const char*>(state.data_ptr()), static_cast<std::size_t>(state.numel()));
  return c;
}

std::string encode_checkpoint(const Checkpoint& c) {
  BinaryWriter w;
  w.put_string(c.meta.dump());
  w.put_string(c.model_state);
  w.put_string(c.optimizer_state);
  w.put_string(c.rng_state);
  return std::move(w.bytes());
}

Checkpoint decode_checkpoint(std::string_view payload, const std::string& where) {
  BinaryReader r(payload, where);
  Checkpoint c;
  auto meta_text = r.get_string("meta");
  c.meta = nlohmann::json::parse(meta_text, nullptr, false);
  if (c.meta.is_discarded() || !c.meta.is_object()) throw Error::at(where, 0, "checkpoint metadata is not valid JSON");
  c.model_state = r.get_string("model");
  c.optimizer_state = r.get_string("optimizer");
  c.rng_state = r.get_string("rng");
  if (!r.at_end()) throw Error::at(where, 0, "unexpected trailing data in checkpoint");
  return c;
}

void save_checkpoint(const Checkpoint& c, const std::string& path) {
  write_container(path, kMagic, kCheckpointFormatVersion, encode_checkpoint(c));
}

Checkpoint load_checkpoint(const std::string& path) {
  return decode_checkpoint(read_container(path, kMagic, kCheckpointFormatVersion), path);
}

void restore_module(const Checkpoint& c, torch::nn::Module& module, const std::string& path) {
  load_archive(module, c.model_state, path, "model parameters");
}

void restore_optimizer(const Checkpoint& c, torch::optim::Optimizer& optimizer, const std::string& path) {
  if (c.optimizer_state.empty()) throw Error::at(path, 0, "checkpoint has no optimizer state (weights-only); cannot resume from it");
  load_archive(optimizer, c.optimizer_state, path, "optimizer state");
}

void restore_rng(const Checkpoint& c) {
  if (c.rng_state.empty()) return;
  auto state = torch::empty({static_cast<std::int64_t>(c.rng_state.size())}, torch::kByte);
  std::memcpy(state.data_ptr(), c.rng_state.data(), c.rng_state.size());
  auto generator = at::detail::getDefaultCPUGenerator();
  generator.set_state(state);
}

std::int64_t checkpoint_epoch(const nlohmann::json& meta) {
  const auto epoch = meta.value("epoch", std::int64_t{0});
  return meta.contains("state") ? meta["state"].value("epoch", epoch) : epoch;
}

}  // namespace tessera::train
