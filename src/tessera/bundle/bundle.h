#pragma once
// A model bundle: everything `tessera serve` needs to answer requests for one trained model (any
// family: SASRec, HSTU, TIGER), in one file that loads without the dataset or the run directory.
// `tessera export` writes it; the server loads it at start and on every reload.
//
// File layout: tessera's binary container (core/binary_io.h; magic "TSRBNDL", version
// kBundleFormatVersion, CRC-32 of the whole payload, written atomically) whose payload is
//   manifest     JSON string (below)
//   sections     u64 count, then per section: name (string), bytes (string), in manifest order
//     "checkpoint"  the model as a weights-only checkpoint (train/checkpoint.h encode_checkpoint):
//                   parameters, effective training config, dataset identity and, for TIGER, the
//                   semantic IDs of every item (codebook assignment, from which the trie is built)
//     "items"       the ItemCatalog (item_catalog.h): original IDs and display metadata
// Manifest:
//   {"format": "tessera-bundle", "format_version": 1, "created_at": "2025-01-01T00:00:00Z",
//    "tessera_version": "0.1.0", "version": "<label given at export, or the checkpoint's CRC>",
//    "model": {"name": "sasrec", "kind": "sequence_model" | "tiger", "num_items": N, "epoch": E,
//              "max_len": L, "beam_width": 20, "semantic_id_levels": 4 (TIGER only)},
//    "dataset": {"name": ..., "fingerprint": ..., "path": <what export read>},
//    "sections": [{"name": "checkpoint", "bytes": n, "crc32": "1a2b3c4d", "format_version": 1},
//                 {"name": "items", "bytes": n, "crc32": "..."}]}
//
// Loading checks, in order, and throws tessera::Error naming the file and what is wrong: the
// magic (not a bundle), the container version (newer than this tessera: upgrade), the size
// (truncated), the payload CRC (corrupted), the manifest's format and version, each section's
// size and CRC, the embedded checkpoint's format version, and that the catalog, checkpoint and
// manifest agree on the item count and dataset.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "tessera/bundle/item_catalog.h"
#include "tessera/data/dataset.h"
#include "tessera/train/checkpoint.h"

namespace tessera::bundle {

inline constexpr std::uint32_t kBundleFormatVersion = 1;

struct Bundle {
  std::string path;              // where it was loaded from
  nlohmann::json manifest;
  train::Checkpoint checkpoint;  // weights only (no optimizer or RNG state)
  ItemCatalog items;

  const std::string& version() const { return manifest.at("version").get_ref<const std::string&>(); }
};

struct ExportOptions {
  std::string version;       // label reported by the server (/metrics, responses); "" = checkpoint CRC
  std::string dataset_path;  // recorded in the manifest, for people
};

// Reads `checkpoint_path`, checks that it restores into a working model trained on `dataset`
// (same fingerprint), and writes the bundle to `out_path` atomically. Returns the manifest.
// Throws tessera::Error naming the file on any failure; `out_path` is then left untouched.
nlohmann::json export_bundle(const std::string& checkpoint_path, const data::Dataset& dataset, const std::string& out_path,
                             const ExportOptions& options = {});

// Loads and verifies a bundle (see the checks above). The model itself is restored by
// infer::LoadedModel::from_checkpoint(bundle.checkpoint, bundle.path, nullptr).
Bundle load_bundle(const std::string& path);

}  // namespace tessera::bundle
