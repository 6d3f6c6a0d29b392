#pragma once
// Process-wide setup every tessera binary does first: thread pools and the thread count.
//
// The allocator is jemalloc, linked in and configured in runtime.cpp. Why: on the machines this
// was measured on, freshly mapped memory is very slow to touch for the first time, so memory must
// stay in the process once touched. glibc's malloc did that only with mmap and trimming turned
// off, and then fragmented: a 60-epoch ML-1M run grew to 4 GiB and spent a quarter of its time in
// malloc's free-list search by epoch 25 (BENCHMARKS.md). libtorch also starts with a single
// intra-op thread; we use every core unless told otherwise.

namespace tessera {

// Makes the thread pools yield instead of spinning: libtorch's OpenMP workers and OpenBLAS's
// own pthreads otherwise busy-wait after each parallel region and steal the cores from each
// other. On the 2-core development machine this took SASRec training on ML-1M from 247 to 448
// sequences per second (BENCHMARKS.md). Both libraries read their settings when they are loaded,
// before main(), so if OMP_WAIT_POLICY / OPENBLAS_THREAD_TIMEOUT are not already set this sets
// them and re-executes the program (once; values the user set are kept). Call first in main().
void configure_thread_environment(int argc, char** argv);

// threads <= 0 means "all hardware threads". Safe to call more than once.
void init_runtime(int threads = 0);

// The number of intra-op threads libtorch uses now.
int runtime_threads();

}  // namespace tessera
