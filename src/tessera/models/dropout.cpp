#include "tessera/models/dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <mutex>

namespace tessera::models {

namespace {

std::uint64_t next_seed() {
  auto generator = at::detail::getDefaultCPUGenerator();
  auto* impl = generator.get<at::CPUGeneratorImpl>();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return impl->random64();
}

inline std::uint64_t splitmix64(std::uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace

torch::Tensor dropout(const torch::Tensor& x, double p, bool training) {
  if (!training || p <= 0.0) return x;
  const std::uint64_t seed = next_seed();
  auto mask = torch::empty(x.sizes(), x.options().requires_grad(false));
  float* m = mask.data_ptr<float>();
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  // Keep when a uniform 24-bit draw is >= p * 2^24.
  const std::uint64_t threshold = static_cast<std::uint64_t>(p * 16777216.0);
  at::parallel_for(0, mask.numel(), 1 << 14, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      const std::uint64_t r = splitmix64(seed + static_cast<std::uint64_t>(i)) >> 40;
      m[i] = r >= threshold ? scale : 0.0f;
    }
  });
  return x * mask;
}

}  // namespace tessera::models
