#pragma once
// The one error type of tessera. Every failure a user can cause (bad file, bad config, unknown
// ID) is reported as an Error whose message names where the problem is, e.g.
//   "data/ratings.csv:1432: expected 4 columns, got 3".
// The CLI catches Error at the top, prints what() and exits with status 1.

#include <cstddef>
#include <stdexcept>
#include <string>

namespace tessera {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}

  // "path:line: message" (line is 1-based; 0 means "the file as a whole": "path: message").
  static Error at(const std::string& path, std::size_t line, const std::string& message) {
    if (line == 0) return Error(path + ": " + message);
    return Error(path + ":" + std::to_string(line) + ": " + message);
  }
};

}  // namespace tessera
