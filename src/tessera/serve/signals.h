#pragma once
// SignalWatcher: runs ordinary code for process signals. The handlers installed for SIGTERM,
// SIGINT and SIGHUP only write one byte to a pipe (async-signal-safe); a watcher thread reads it
// and calls on_terminate (SIGTERM, SIGINT) or on_hangup (SIGHUP) outside any signal handler, so
// those callbacks may lock, allocate and log. Which thread the kernel delivers a signal to does
// not matter.
//
// At most one SignalWatcher may exist at a time (signal dispositions are per process). The
// destructor restores the previous handlers and joins the watcher thread.

#include <functional>
#include <thread>

namespace tessera::serve {

class SignalWatcher {
 public:
  SignalWatcher(std::function<void()> on_terminate, std::function<void()> on_hangup);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  std::function<void()> on_terminate_, on_hangup_;
  std::thread watcher_;
};

}  // namespace tessera::serve
