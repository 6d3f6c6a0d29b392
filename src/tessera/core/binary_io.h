#pragma once
// tessera's one binary container, used by dataset files and checkpoints.
//
// Layout (little-endian):
//   magic      8 bytes, names the kind of file ("TSRDATA\0", "TSRCKPT\0")
//   version    u32, format version of that kind
//   size       u64, payload size in bytes
//   payload    `size` bytes, written with BinaryWriter
//   checksum   u32, CRC-32 (zlib) of the payload
// read_container() checks all of these and throws tessera::Error naming the file and what is
// wrong (not a tessera file, newer version, truncated, checksum mismatch).

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "tessera/core/error.h"

namespace tessera {

// Appends plain values to an in-memory payload.
class BinaryWriter {
 public:
  template <typename T>
  void put(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    bytes_.append(reinterpret_cast<const char*>(&value), sizeof(T));
  }
  void put_string(std::string_view s) {
    put<std::uint64_t>(s.size());
    bytes_.append(s.data(), s.size());
  }
  template <typename T>
  void put_vector(const std::vector<T>& values) {
    static_assert(std::is_trivially_copyable_v<T>);
    put<std::uint64_t>(values.size());
    bytes_.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
  }
  void put_raw(const void* data, std::size_t n) { bytes_.append(static_cast<const char*>(data), n); }
  void put_strings(const std::vector<std::string>& values) {
    put<std::uint64_t>(values.size());
    for (const auto& s : values) put_string(s);
  }
  const std::string& bytes() const { return bytes_; }
  std::string& bytes() { return bytes_; }

 private:
  std::string bytes_;
};

// Reads values back in the order they were written. Every read checks the remaining size and
// throws Error("<path>: truncated ...") instead of reading past the end.
class BinaryReader {
 public:
  BinaryReader(std::string_view bytes, std::string path) : bytes_(bytes), path_(std::move(path)) {}

  template <typename T>
  T get(const char* what) {
    static_assert(std::is_trivially_copyable_v<T>);
    need(sizeof(T), what);
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  std::string get_string(const char* what) {
    auto n = get<std::uint64_t>(what);
    need(n, what);
    std::string s(bytes_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  template <typename T>
  std::vector<T> get_vector(const char* what) {
    auto n = get<std::uint64_t>(what);
    if (n > (bytes_.size() - pos_) / sizeof(T)) throw Error::at(path_, 0, std::string("corrupt or truncated field '") + what + "'");
    std::vector<T> values(n);
    std::memcpy(values.data(), bytes_.data() + pos_, n * sizeof(T));
    pos_ += n * sizeof(T);
    return values;
  }
  std::vector<std::string> get_strings(const char* what) {
    auto n = get<std::uint64_t>(what);
    if (n > bytes_.size() - pos_) throw Error::at(path_, 0, std::string("corrupt or truncated field '") + what + "'");
    std::vector<std::string> values;
    values.reserve(n);
    for (std::uint64_t i = 0; i < n; ++i) values.push_back(get_string(what));
    return values;
  }
  void get_raw(void* out, std::size_t n, const char* what) {
    need(n, what);
    std::memcpy(out, bytes_.data() + pos_, n);
    pos_ += n;
  }
  bool at_end() const { return pos_ == bytes_.size(); }
  const std::string& path() const { return path_; }

 private:
  void need(std::size_t n, const char* what) const {
    if (n > bytes_.size() - pos_) throw Error::at(path_, 0, std::string("corrupt or truncated field '") + what + "'");
  }
  std::string_view bytes_;
  std::size_t pos_ = 0;
  std::string path_;
};

// CRC-32 (zlib) of `bytes`: the checksum the container stores, also used for section checksums
// in files that hold several parts (model bundles).
std::uint32_t crc32_of(std::string_view bytes);

// Writes magic/version/payload/checksum atomically (temp file + rename).
void write_container(const std::string& path, std::string_view magic, std::uint32_t version, const std::string& payload);

// Reads and verifies a container written by write_container(); returns the payload.
// Fails if the magic differs (wrong kind of file), if version > max_version (written by a newer
// tessera), if the file is truncated, or if the checksum does not match.
std::string read_container(const std::string& path, std::string_view magic, std::uint32_t max_version,
                           std::uint32_t* version_out = nullptr);

}  // namespace tessera
