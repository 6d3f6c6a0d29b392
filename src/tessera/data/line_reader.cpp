#include "tessera/data/line_reader.h"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "tessera/data/text_parsing.h"

namespace tessera::data {

namespace {
constexpr std::size_t kChunkBytes = 1 << 20;

gzFile as_gz(void* f) { return static_cast<gzFile>(f); }
}  // namespace

LineReader::LineReader(const std::string& path) : path_(path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw Error::at(path, 0, "is a directory, expected a file");
  std::FILE* probe = std::fopen(path.c_str(), "rb");
  if (!probe) throw Error::at(path, 0, std::string("cannot open: ") + std::strerror(errno));
  unsigned char magic[2] = {0, 0};
  std::size_t got = std::fread(magic, 1, 2, probe);
  std::fseek(probe, 0, SEEK_END);
  file_size_ = std::ftell(probe);
  std::fclose(probe);
  if (file_size_ == 0) throw Error::at(path, 0, "file is empty");
  const bool is_gzip = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  if (!is_gzip && ends_with(path, ".gz")) throw Error::at(path, 0, "not a valid gzip file");

  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw Error::at(path, 0, std::string("cannot open: ") + std::strerror(errno));
  gzbuffer(f, 1 << 18);
  file_ = f;
  buffer_.resize(kChunkBytes);
}

LineReader::~LineReader() {
  if (file_) gzclose(as_gz(file_));
}

std::int64_t LineReader::bytes_read() const { return file_ ? static_cast<std::int64_t>(gzoffset(as_gz(file_))) : 0; }

bool LineReader::fill() {
  if (eof_) return false;
  // Keep the unread tail, make room after it.
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (buffer_.size() - end_ < kChunkBytes / 2) buffer_.resize(buffer_.size() * 2);
  const auto want = static_cast<unsigned>(buffer_.size() - end_);
  int n = gzread(as_gz(file_), buffer_.data() + end_, want);
  if (n < 0) {
    int errnum = 0;
    const char* message = gzerror(as_gz(file_), &errnum);
    throw Error::at(path_, line_number_ + 1, std::string("gzip stream corrupted (") + message + ")");
  }
  if (n == 0) {
    int errnum = Z_OK;
    const char* message = gzerror(as_gz(file_), &errnum);
    if (errnum != Z_OK && errnum != Z_STREAM_END) {
      throw Error::at(path_, line_number_ + 1, std::string("gzip stream corrupted (") + message + ")");
    }
    eof_ = true;
    if (!any_data_) throw Error::at(path_, 0, "file is empty (after decompression)");
    return false;
  }
  any_data_ = true;
  end_ += static_cast<std::size_t>(n);
  return true;
}

bool LineReader::next(std::string_view& line) {
  std::size_t scan_from = begin_;
  while (true) {
    const char* start = buffer_.data() + scan_from;
    const void* nl = std::memchr(start, '\n', end_ - scan_from);
    if (nl) {
      const auto pos = static_cast<std::size_t>(static_cast<const char*>(nl) - buffer_.data());
      line = std::string_view(buffer_.data() + begin_, pos - begin_);
      begin_ = pos + 1;
      break;
    }
    const std::size_t scanned = end_ - begin_;
    if (!fill()) {
      if (begin_ == end_) return false;
      line = std::string_view(buffer_.data() + begin_, end_ - begin_);  // last line without '\n'
      begin_ = end_;
      break;
    }
    scan_from = begin_ + scanned;
  }
  ++line_number_;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line_number_ == 1 && line.size() >= 3 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
  return true;
}

}  // namespace tessera::data
