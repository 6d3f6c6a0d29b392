#pragma once
// One progress reporter for all long work (prepare, train, eval, bench). Prints a line to stderr
// at most every `min_interval_seconds`, with done/total, rate and ETA, e.g.
//   [train] epoch 3/100  step 120/380  loss 6.1234  1234.5 seq/s  ETA 00:04:12
// Not thread-safe: one reporter per loop.

#include <chrono>
#include <cstdint>
#include <string>

namespace tessera {

class Progress {
 public:
  // total: units of work expected (0 if unknown); unit: what is counted ("seq", "users").
  Progress(std::string label, std::int64_t total, std::string unit, double min_interval_seconds = 2.0);

  // Adds `n` units done. `detail` is printed in the line (e.g. "loss 6.12"). Prints only when
  // the interval has passed, unless force is set.
  void advance(std::int64_t n, const std::string& detail = "", bool force = false);

  // Prints a final line with the totals.
  void finish(const std::string& detail = "");

  double elapsed_seconds() const;
  std::int64_t done() const { return done_; }

  // Silences every reporter in this process (used by tests).
  static void set_quiet(bool quiet);

 private:
  void print(const std::string& detail, bool final_line);

  std::string label_;
  std::int64_t total_;
  std::string unit_;
  double min_interval_;
  std::int64_t done_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_print_;
};

// "01:02:03" for a number of seconds.
std::string format_duration(double seconds);

}  // namespace tessera
