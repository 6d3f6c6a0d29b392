#pragma once
// Reads a text file line by line, decompressing it on the fly if it is gzip (recognised by its
// magic bytes, so "x.txt" holding gzip data and "x.txt.gz" holding plain text both work, except
// that a name ending in ".gz" must hold gzip data). Used by every data reader so that all of
// them accept .gz inputs and report errors the same way.
//
// Errors (tessera::Error): "<path>: cannot open: ...", "<path>: file is empty",
// "<path>: not a valid gzip file", "<path>:<line>: gzip stream corrupted (...)".
// Not thread-safe; one reader per file.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/core/error.h"

namespace tessera::data {

class LineReader {
 public:
  // Opens `path`. Throws if it cannot be opened, has zero bytes, or is named *.gz without
  // being gzip.
  explicit LineReader(const std::string& path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Sets `line` to the next line, without its "\n" or "\r\n" (and without a UTF-8 byte-order
  // mark on line 1). Returns false at the end of the file. The view stays valid until the next
  // call. Throws on corrupted gzip data, and "file is empty" if a gzip file decompresses to
  // nothing.
  bool next(std::string_view& line);

  // 1-based number of the line last returned by next() (0 before the first call).
  std::size_t line_number() const { return line_number_; }

  // Bytes of the file on disk consumed so far and in total (for progress reports).
  std::int64_t bytes_read() const;
  std::int64_t file_size() const { return file_size_; }

  const std::string& path() const { return path_; }

  // An Error "<path>:<current line>: <message>".
  Error error(const std::string& message) const { return Error::at(path_, line_number_, message); }

 private:
  bool fill();  // reads more data into buffer_; false at end of file

  std::string path_;
  void* file_ = nullptr;  // gzFile
  std::int64_t file_size_ = 0;
  std::vector<char> buffer_;
  std::size_t begin_ = 0;  // unread data is buffer_[begin_, end_)
  std::size_t end_ = 0;
  bool eof_ = false;
  bool any_data_ = false;
  std::size_t line_number_ = 0;
};

}  // namespace tessera::data
