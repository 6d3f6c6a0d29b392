#include "tessera/bench/matmul_peak.h"

#include <algorithm>
#include <chrono>
#include <limits>

#include <torch/torch.h>

#include "tessera/core/error.h"

namespace tessera::bench {

double measure_matmul_peak_gflops(const MatmulPeakOptions& options) {
  if (options.size < 1 || options.repeats < 1 || options.warmup < 0) {
    throw Error("matmul peak: size and repeats must be >= 1, warmup >= 0");
  }
  torch::NoGradGuard no_grad;
  const auto n = options.size;
  auto a = torch::rand({n, n});
  auto b = torch::rand({n, n});
  auto c = torch::empty({n, n});
  for (int i = 0; i < options.warmup; ++i) torch::mm_out(c, a, b);
  double best = std::numeric_limits<double>::infinity();
  for (int i = 0; i < options.repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    torch::mm_out(c, a, b);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  const double flops = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
  return flops / best / 1e9;
}

}  // namespace tessera::bench
