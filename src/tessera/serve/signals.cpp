#include "tessera/serve/signals.h"

#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cerrno>
#include <cstring>

#include "tessera/core/error.h"

namespace tessera::serve {

namespace {

int g_pipe[2] = {-1, -1};  // [0] read by the watcher, [1] written by the handlers
struct sigaction g_previous[3];
constexpr int kSignals[3] = {SIGTERM, SIGINT, SIGHUP};
constexpr char kStopWatching = 0;  // written by the destructor

extern "C" void forward_signal(int signal) {
  const int saved = errno;
  const char byte = static_cast<char>(signal);
  [[maybe_unused]] auto written = ::write(g_pipe[1], &byte, 1);
  errno = saved;
}

}  // namespace

SignalWatcher::SignalWatcher(std::function<void()> on_terminate, std::function<void()> on_hangup)
    : on_terminate_(std::move(on_terminate)), on_hangup_(std::move(on_hangup)) {
  if (g_pipe[0] >= 0) throw Error("serve: only one SignalWatcher may exist at a time");
  if (::pipe2(g_pipe, O_CLOEXEC) != 0) throw Error(std::string("serve: cannot create the signal pipe: ") + std::strerror(errno));
  for (int i = 0; i < 3; ++i) {
    struct sigaction action {};
    action.sa_handler = forward_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    ::sigaction(kSignals[i], &action, &g_previous[i]);
  }
  watcher_ = std::thread([this] {
    for (;;) {
      char byte = 0;
      const auto n = ::read(g_pipe[0], &byte, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || byte == kStopWatching) return;
      if (byte == SIGHUP) {
        if (on_hangup_) on_hangup_();
      } else if (on_terminate_) {
        on_terminate_();
      }
    }
  });
}

SignalWatcher::~SignalWatcher() {
  for (int i = 0; i < 3; ++i) ::sigaction(kSignals[i], &g_previous[i], nullptr);
  const char stop = kStopWatching;
  [[maybe_unused]] auto written = ::write(g_pipe[1], &stop, 1);
  if (watcher_.joinable()) watcher_.join();
  ::close(g_pipe[0]);
  ::close(g_pipe[1]);
  g_pipe[0] = g_pipe[1] = -1;
}

}  // namespace tessera::serve
