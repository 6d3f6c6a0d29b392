#include "tessera/bundle/bundle.h"

#include <chrono>
#include <ctime>

#include <fmt/format.h>

#include "tessera/core/binary_io.h"
#include "tessera/core/error.h"
#include "tessera/infer/model_loader.h"
#include "tessera/train/checkpoint.h"

namespace tessera::bundle {

namespace {

constexpr const char* kMagic = "TSRBNDL";
constexpr const char* kFormatName = "tessera-bundle";
constexpr const char* kTesseraVersion = TESSERA_VERSION;  // CMake project version

std::string hex32(std::uint32_t value) { return fmt::format("{:08x}", value); }

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// The manifest field `key` of `object`, which must exist with the JSON type `type`.
const nlohmann::json& required(const nlohmann::json& object, const char* key, nlohmann::json::value_t type, const std::string& path,
                               const std::string& where) {
  if (!object.is_object() || !object.contains(key)) throw Error::at(path, 0, fmt::format("manifest: missing field '{}{}'", where, key));
  const auto& value = object.at(key);
  const bool ok = value.type() == type || (type == nlohmann::json::value_t::number_unsigned && value.is_number_integer() &&
                                           value.get<std::int64_t>() >= 0);
  if (!ok) throw Error::at(path, 0, fmt::format("manifest: field '{}{}' has the wrong type ({})", where, key, value.type_name()));
  return value;
}

}  // namespace

nlohmann::json export_bundle(const std::string& checkpoint_path, const data::Dataset& dataset, const std::string& out_path,
                             const ExportOptions& options) {
  auto checkpoint = train::load_checkpoint(checkpoint_path);
  // Restoring the model checks the dataset fingerprint, the config and every parameter shape, so
  // a bundle that exports is one that loads.
  auto model = infer::LoadedModel::from_checkpoint(checkpoint, checkpoint_path, &dataset);
  checkpoint.optimizer_state.clear();  // serving never resumes training
  checkpoint.rng_state.clear();

  const std::string checkpoint_bytes = train::encode_checkpoint(checkpoint);
  BinaryWriter items_writer;
  ItemCatalog::from_dataset(dataset).write(items_writer);
  const std::string& items_bytes = items_writer.bytes();

  nlohmann::json model_info = {{"name", model.name()},
                               {"kind", model.kind()},
                               {"num_items", dataset.num_items},
                               {"epoch", train::checkpoint_epoch(checkpoint.meta)},
                               {"max_len", model.config().max_len},
                               {"beam_width", model.config().beam_width}};
  if (model.tiger()) model_info["semantic_id_levels"] = model.tiger()->semantic_ids().num_levels();
  const std::string checkpoint_crc = hex32(crc32_of(checkpoint_bytes));
  nlohmann::json manifest = {
      {"format", kFormatName},
      {"format_version", kBundleFormatVersion},
      {"created_at", utc_now()},
      {"tessera_version", kTesseraVersion},
      {"version", options.version.empty() ? checkpoint_crc : options.version},
      {"model", model_info},
      {"dataset",
       {{"name", dataset.name}, {"fingerprint", checkpoint.meta["dataset"].value("fingerprint", "")}, {"path", options.dataset_path}}},
      {"sections",
       {{{"name", "checkpoint"}, {"bytes", checkpoint_bytes.size()}, {"crc32", checkpoint_crc}, {"format_version", train::kCheckpointFormatVersion}},
        {{"name", "items"}, {"bytes", items_bytes.size()}, {"crc32", hex32(crc32_of(items_bytes))}}}}};

  BinaryWriter payload;
  payload.put_string(manifest.dump());
  payload.put<std::uint64_t>(2);
  payload.put_string("checkpoint");
  payload.put_string(checkpoint_bytes);
  payload.put_string("items");
  payload.put_string(items_bytes);
  write_container(out_path, kMagic, kBundleFormatVersion, payload.bytes());
  return manifest;
}

Bundle load_bundle(const std::string& path) {
  using value_t = nlohmann::json::value_t;
  const std::string payload = read_container(path, kMagic, kBundleFormatVersion);
  BinaryReader reader(payload, path);
  Bundle bundle;
  bundle.path = path;
  bundle.manifest = nlohmann::json::parse(reader.get_string("manifest"), nullptr, false);
  const auto& manifest = bundle.manifest;
  if (manifest.is_discarded() || !manifest.is_object()) throw Error::at(path, 0, "manifest is not a JSON object");
  if (required(manifest, "format", value_t::string, path, "") != kFormatName) {
    throw Error::at(path, 0, fmt::format("manifest: format is '{}', not '{}'", manifest["format"].get<std::string>(), kFormatName));
  }
  const auto format_version = required(manifest, "format_version", value_t::number_unsigned, path, "").get<std::uint64_t>();
  if (format_version > kBundleFormatVersion) {
    throw Error::at(path, 0, fmt::format("bundle format version {} is newer than this tessera supports ({}); upgrade tessera",
                                         format_version, kBundleFormatVersion));
  }
  required(manifest, "version", value_t::string, path, "");
  const auto& model_info = required(manifest, "model", value_t::object, path, "");
  const auto num_items = required(model_info, "num_items", value_t::number_unsigned, path, "model.").get<std::int64_t>();
  const auto& sections = required(manifest, "sections", value_t::array, path, "");

  const auto count = reader.get<std::uint64_t>("section count");
  if (count != sections.size()) {
    throw Error::at(path, 0, fmt::format("manifest lists {} sections but the file holds {}", sections.size(), count));
  }
  bool have_checkpoint = false, have_items = false;
  for (const auto& section : sections) {
    const auto name = required(section, "name", value_t::string, path, "sections[].").get<std::string>();
    const auto stored_name = reader.get_string("section name");
    if (stored_name != name) throw Error::at(path, 0, fmt::format("section '{}' found where the manifest lists '{}'", stored_name, name));
    const std::string bytes = reader.get_string(name.c_str());
    const auto size = required(section, "bytes", value_t::number_unsigned, path, "sections[].").get<std::uint64_t>();
    const auto crc = required(section, "crc32", value_t::string, path, "sections[].").get<std::string>();
    if (bytes.size() != size) {
      throw Error::at(path, 0, fmt::format("section '{}' holds {} bytes, the manifest says {}", name, bytes.size(), size));
    }
    if (hex32(crc32_of(bytes)) != crc) throw Error::at(path, 0, fmt::format("section '{}' fails its checksum: the bundle is corrupted", name));
    const std::string where = path + " [" + name + "]";
    if (name == "checkpoint") {
      const auto version = section.value("format_version", std::uint64_t{0});
      if (version > train::kCheckpointFormatVersion) {
        throw Error::at(path, 0, fmt::format("embedded checkpoint format version {} is newer than this tessera supports ({}); upgrade tessera",
                                             version, train::kCheckpointFormatVersion));
      }
      bundle.checkpoint = train::decode_checkpoint(bytes, where);
      have_checkpoint = true;
    } else if (name == "items") {
      BinaryReader items_reader(bytes, where);
      bundle.items = ItemCatalog::read(items_reader);
      if (!items_reader.at_end()) throw Error::at(where, 0, "unexpected trailing data");
      have_items = true;
    }  // sections this version does not know are checked and skipped
  }
  if (!reader.at_end()) throw Error::at(path, 0, "unexpected trailing data after the last section");
  if (!have_checkpoint || !have_items) throw Error::at(path, 0, "bundle lacks a 'checkpoint' or 'items' section");
  if (bundle.items.num_items() != num_items) {
    throw Error::at(path, 0, fmt::format("item catalog has {} items, the manifest says {}", bundle.items.num_items(), num_items));
  }
  const auto& trained_on = bundle.checkpoint.meta.value("dataset", nlohmann::json::object());
  if (trained_on.value("num_items", num_items) != num_items) {
    throw Error::at(path, 0, fmt::format("model was trained on {} items, the item catalog has {}", trained_on["num_items"].dump(), num_items));
  }
  return bundle;
}

}  // namespace tessera::bundle
