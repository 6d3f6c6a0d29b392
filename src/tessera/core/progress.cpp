#include "tessera/core/progress.h"

#include <fmt/format.h>

#include <atomic>
#include <cstdio>

namespace tessera {

namespace {
std::atomic<bool> g_quiet{false};
}

Progress::Progress(std::string label, std::int64_t total, std::string unit, double min_interval_seconds)
    : label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)),
      min_interval_(min_interval_seconds),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

void Progress::set_quiet(bool quiet) { g_quiet = quiet; }

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::advance(std::int64_t n, const std::string& detail, bool force) {
  done_ += n;
  auto now = std::chrono::steady_clock::now();
  if (force || std::chrono::duration<double>(now - last_print_).count() >= min_interval_) {
    last_print_ = now;
    print(detail, false);
  }
}

void Progress::finish(const std::string& detail) { print(detail, true); }

void Progress::print(const std::string& detail, bool final_line) {
  if (g_quiet) return;
  double elapsed = elapsed_seconds();
  double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
  std::string line = fmt::format("[{}] ", label_);
  if (total_ > 0) {
    line += fmt::format("{}/{} {} ({:.0f}%)", done_, total_, unit_, 100.0 * static_cast<double>(done_) / static_cast<double>(total_));
  } else {
    line += fmt::format("{} {}", done_, unit_);
  }
  if (!detail.empty()) line += "  " + detail;
  line += fmt::format("  {:.1f} {}/s", rate, unit_);
  if (final_line) {
    line += "  took " + format_duration(elapsed);
  } else if (total_ > 0 && rate > 0) {
    line += "  ETA " + format_duration(static_cast<double>(total_ - done_) / rate);
  }
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

std::string format_duration(double seconds) {
  if (seconds < 0) seconds = 0;
  auto s = static_cast<long long>(seconds + 0.5);
  return fmt::format("{:02d}:{:02d}:{:02d}", s / 3600, (s / 60) % 60, s % 60);
}

}  // namespace tessera
