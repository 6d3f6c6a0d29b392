#pragma once
// Helpers of the data tests: a scratch directory that removes itself, small file writers, error
// assertions, and the location of the real datasets.

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "tessera/core/atomic_file.h"
#include "tessera/core/error.h"

namespace tessera::data::testing {

// A fresh directory under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("tessera_data_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Full path of `name` inside the directory.
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  // Writes `content` to `name` and returns its full path.
  std::string write(const std::string& name, const std::string& content) const {
    std::ofstream out(file(name), std::ios::binary);
    out << content;
    return file(name);
  }
  // Writes `content` gzip-compressed to `name` and returns its full path.
  std::string write_gz(const std::string& name, const std::string& content) const {
    gzFile f = gzopen(file(name).c_str(), "wb");
    gzwrite(f, content.data(), static_cast<unsigned>(content.size()));
    gzclose(f);
    return file(name);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The message of the tessera::Error that `statement` throws ("" and a test failure if none).
template <typename F>
std::string error_of(F&& statement) {
  try {
    statement();
  } catch (const tessera::Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected tessera::Error, got another exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected tessera::Error, nothing was thrown";
  return "";
}

// Expects `statement` to throw a tessera::Error whose message contains `part`.
#define EXPECT_ERROR_CONTAINS(statement, part)                                             \
  do {                                                                                     \
    std::string tessera_message_ = ::tessera::data::testing::error_of([&] { statement; }); \
    EXPECT_NE(tessera_message_.find(part), std::string::npos)                              \
        << "message: '" << tessera_message_ << "'\nexpected it to contain: '" << (part) << "'"; \
  } while (0)

// Path of a real dataset folder under ../shared/data, or "" after printing a loud skip notice.
inline std::string shared_data(const std::string& folder) {
  const std::string path = std::string(TESSERA_SHARED_DATA_DIR) + "/" + folder;
  if (std::filesystem::is_directory(path)) return path;
  std::fprintf(stderr, "*** SKIPPED: ../shared/data/%s not found (%s) ***\n", folder.c_str(), path.c_str());
  return "";
}

#define REQUIRE_SHARED_DATA(var, folder)                                       \
  const std::string var = ::tessera::data::testing::shared_data(folder);      \
  if (var.empty()) GTEST_SKIP() << "*** SKIPPED: ../shared/data/" << folder << " not found ***"

}  // namespace tessera::data::testing
