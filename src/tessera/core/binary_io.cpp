#include "tessera/core/binary_io.h"

#include <zlib.h>

#include <fmt/format.h>

#include "tessera/core/atomic_file.h"

namespace tessera {

namespace {
constexpr std::size_t kMagicSize = 8;
constexpr std::size_t kHeaderSize = kMagicSize + sizeof(std::uint32_t) + sizeof(std::uint64_t);

std::string padded_magic(std::string_view magic) {
  std::string m(magic.substr(0, kMagicSize));
  m.resize(kMagicSize, '\0');
  return m;
}
}  // namespace

std::uint32_t crc32_of(std::string_view bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  const auto* p = reinterpret_cast<const Bytef*>(bytes.data());
  std::size_t left = bytes.size();
  while (left > 0) {  // zlib takes uInt lengths
    auto chunk = static_cast<uInt>(std::min<std::size_t>(left, 1u << 30));
    crc = crc32(crc, p, chunk);
    p += chunk;
    left -= chunk;
  }
  return static_cast<std::uint32_t>(crc);
}

void write_container(const std::string& path, std::string_view magic, std::uint32_t version, const std::string& payload) {
  BinaryWriter header;
  header.put_raw(padded_magic(magic).data(), kMagicSize);
  header.put<std::uint32_t>(version);
  header.put<std::uint64_t>(payload.size());
  std::uint32_t crc = crc32_of(payload);
  write_file_atomically(path, [&](std::ostream& out) {
    out.write(header.bytes().data(), static_cast<std::streamsize>(header.bytes().size()));
    out.write(payload.data(), static_cast<std::streamsize>(payload.size()));
    out.write(reinterpret_cast<const char*>(&crc), sizeof(crc));
  });
}

std::string read_container(const std::string& path, std::string_view magic, std::uint32_t max_version,
                           std::uint32_t* version_out) {
  std::string bytes = read_file(path);
  const std::string expected = padded_magic(magic);
  if (bytes.size() < kMagicSize || bytes.compare(0, kMagicSize, expected) != 0) {
    throw Error::at(path, 0, fmt::format("not a tessera '{}' file (wrong magic bytes)", std::string(magic)));
  }
  if (bytes.size() < kHeaderSize) throw Error::at(path, 0, "truncated header");
  BinaryReader header(std::string_view(bytes).substr(kMagicSize, kHeaderSize - kMagicSize), path);
  auto version = header.get<std::uint32_t>("version");
  auto size = header.get<std::uint64_t>("payload size");
  if (version > max_version) {
    throw Error::at(path, 0, fmt::format("format version {} is newer than this tessera supports ({}); upgrade tessera", version, max_version));
  }
  if (bytes.size() != kHeaderSize + size + sizeof(std::uint32_t)) {
    throw Error::at(path, 0, fmt::format("truncated or padded file: header says {} payload bytes, file has {} bytes in all",
                                         size, bytes.size()));
  }
  std::uint32_t stored;
  std::memcpy(&stored, bytes.data() + kHeaderSize + size, sizeof(stored));
  std::string payload = bytes.substr(kHeaderSize, size);
  if (crc32_of(payload) != stored) throw Error::at(path, 0, "checksum mismatch: the file is corrupted");
  if (version_out) *version_out = version;
  return payload;
}

}  // namespace tessera
