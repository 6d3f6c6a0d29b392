#pragma once
// Small helpers shared by the test binaries.

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>

#include "tessera/core/error.h"

namespace tessera::testing {

// A per-process path in the system temp directory: <tmp>/tessera_<area>_<pid>_<name>.
inline std::string temp_path(const std::string& area, const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("tessera_" + area + "_" + std::to_string(::getpid()) + "_" + name)).string();
}

// The message of the tessera::Error that f throws, or "" if it throws none.
inline std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace tessera::testing
