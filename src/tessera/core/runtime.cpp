#include "tessera/core/runtime.h"

#include <malloc.h>

#include <ATen/Parallel.h>
#include <thread>

namespace tessera {

void init_runtime(int threads) {
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, -1);
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);
}

int runtime_threads() { return at::get_num_threads(); }

}  // namespace tessera
