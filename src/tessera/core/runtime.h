#pragma once
// Process-wide setup every tessera binary does first: allocator tuning and the thread count.
//
// Why: on the machines this was measured on, freshly mapped memory is very slow to touch for the
// first time, and glibc's default malloc returns large blocks to the OS after every training
// step, so training ran ~5x slower. Keeping freed memory in the heap fixes that. libtorch also
// starts with a single intra-op thread; we use every core unless told otherwise.

namespace tessera {

// threads <= 0 means "all hardware threads". Safe to call more than once.
void init_runtime(int threads = 0);

// The number of intra-op threads libtorch uses now.
int runtime_threads();

}  // namespace tessera
