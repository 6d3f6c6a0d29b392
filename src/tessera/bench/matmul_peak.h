#pragma once
// The dense float matmul rate this machine reaches with libtorch, measured: the denominator of
// `achieved_fraction_of_peak` in benchmark results (trainer.h::TrainResult::achieved_gflops
// divided by it). A measured peak, not the CPU's theoretical one, so the fraction says how much
// of what the BLAS really delivers a training step uses.

#include <cstdint>

namespace tessera::bench {

struct MatmulPeakOptions {
  std::int64_t size = 1024;  // square float32 matrices [size, size]
  int warmup = 3;            // untimed products first (thread pools, caches)
  int repeats = 10;          // timed products; the fastest counts
};

// GFLOP/s (2 * size^3 floating-point operations per product) of the fastest of `repeats` calls of
// torch::mm on random matrices, with libtorch's current thread count. Takes about
// (warmup + repeats) * 2 * size^3 / peak seconds (under a second at 1024 on 2 cores).
double measure_matmul_peak_gflops(const MatmulPeakOptions& options = {});

}  // namespace tessera::bench
