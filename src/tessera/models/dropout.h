#pragma once
// Inverted dropout with a counter-based random mask (SplitMix64 of seed + element index).
// Why: libtorch's CPU bernoulli_ took ~20% of a SASRec training step here (profiled, see
// BENCHMARKS.md); this mask costs a few ns per element and parallelises. The seed of each call
// is one 64-bit draw from libtorch's default CPU generator, so torch::manual_seed() and the
// generator state saved in checkpoints make it reproducible.

#include <torch/torch.h>

namespace tessera::models {

// Returns x with each element zeroed with probability p and the rest scaled by 1 / (1 - p);
// returns x unchanged when !training or p == 0. Differentiable (a product with a constant mask).
torch::Tensor dropout(const torch::Tensor& x, double p, bool training);

}  // namespace tessera::models
