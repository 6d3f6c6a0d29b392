#pragma once
// tessera's one checkpoint format: a binary container (core/binary_io.h, magic "TSRCKPT",
// checksummed, written atomically) holding
//   meta       JSON: format, model spec, effective training config, dataset identity, epoch,
//              step, early-stopping state
//   model      the module's parameters and buffers (torch archive)
//   optimizer  optimizer state (torch archive), empty in weights-only checkpoints
//   rng        libtorch's default CPU generator state (dropout), so a resumed run continues
//              with exactly the random numbers an uninterrupted run would have drawn
// Loading a corrupted, truncated or newer checkpoint throws tessera::Error naming the file.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace tessera::train {

inline constexpr std::uint32_t kCheckpointFormatVersion = 1;

struct Checkpoint {
  nlohmann::json meta;
  std::string model_state;      // torch archive bytes
  std::string optimizer_state;  // torch archive bytes, may be empty
  std::string rng_state;        // raw generator state bytes, may be empty
};

// Serialises `module` (and `optimizer`, if given, and the current default CPU generator state).
Checkpoint capture_checkpoint(torch::nn::Module& module, torch::optim::Optimizer* optimizer, nlohmann::json meta);
void save_checkpoint(const Checkpoint& checkpoint, const std::string& path);
Checkpoint load_checkpoint(const std::string& path);

// The checkpoint's payload (what a .ckpt container holds, format kCheckpointFormatVersion), for
// files that embed a checkpoint (model bundles, bundle/bundle.h). decode_checkpoint() throws
// tessera::Error naming `where` if the bytes are malformed.
std::string encode_checkpoint(const Checkpoint& checkpoint);
Checkpoint decode_checkpoint(std::string_view payload, const std::string& where);

// Restores parameters into `module` (which must have the same structure), and optionally the
// optimizer and generator state. Throws tessera::Error naming `path` on any mismatch.
void restore_module(const Checkpoint& checkpoint, torch::nn::Module& module, const std::string& path);
void restore_optimizer(const Checkpoint& checkpoint, torch::optim::Optimizer& optimizer, const std::string& path);
void restore_rng(const Checkpoint& checkpoint);

// The epoch a checkpoint's meta records: best.ckpt's selected "epoch", or last.ckpt's trainer
// state epoch ("state": {"epoch"}); 0 when it records neither.
std::int64_t checkpoint_epoch(const nlohmann::json& meta);

}  // namespace tessera::train
