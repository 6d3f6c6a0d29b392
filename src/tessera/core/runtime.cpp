#include "tessera/core/runtime.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include <ATen/Parallel.h>
#include <thread>

// tessera links jemalloc (CMakeLists.txt), which reads this string at start-up. -1 keeps freed
// pages in the process for good instead of returning them to the OS after 10 s: on the machines
// this was measured on, fresh memory is very slow to touch for the first time.
extern "C" {
extern const char* malloc_conf;
const char* malloc_conf = "dirty_decay_ms:-1,muzzy_decay_ms:-1";
}

namespace tessera {

void configure_thread_environment(int argc, char** argv) {
  (void)argc;
  if (std::getenv("TESSERA_THREAD_ENV_SET") != nullptr) return;  // already re-executed once
  bool changed = false;
  if (std::getenv("OMP_WAIT_POLICY") == nullptr) {
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    changed = true;
  }
  if (std::getenv("OPENBLAS_THREAD_TIMEOUT") == nullptr) {
    setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1);  // spin 2^4 cycles, then sleep
    changed = true;
  }
  setenv("TESSERA_THREAD_ENV_SET", "1", 1);
  if (!changed) return;
  execv("/proc/self/exe", argv);
  // Only reached if exec failed: carry on with spinning thread pools (slower, still correct).
  std::perror("tessera: re-exec to configure thread pools failed");
}

void init_runtime(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);
}

int runtime_threads() { return at::get_num_threads(); }

}  // namespace tessera
