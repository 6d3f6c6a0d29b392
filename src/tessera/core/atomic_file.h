#pragma once
// Writing files so that a reader never sees half of one: everything goes to a temporary file
// in the same directory, which is renamed over the destination only after it was written and
// flushed completely. If the writer throws, the temporary file is removed and the destination
// is left as it was.

#include <functional>
#include <iosfwd>
#include <string>

namespace tessera {

// Calls write(stream) on a temporary file next to `path`, then renames it to `path`.
// Creates missing parent directories. Throws tessera::Error on any I/O failure.
void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);

// Convenience for small text files (JSON results, configs).
void write_text_atomically(const std::string& path, const std::string& text);

// Reads a whole file into memory. Throws tessera::Error naming the path if it cannot.
std::string read_file(const std::string& path);

}  // namespace tessera
