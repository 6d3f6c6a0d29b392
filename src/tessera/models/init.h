#pragma once
// Weight initialisation shared by the models.

#include <torch/torch.h>

namespace tessera::models {

// Draws the weight of every Linear below `root` (not `root` itself) from N(0, std) and zeroes its
// bias, in registration order. libtorch's default Linear init (uniform, bound 1/sqrt(fan_in)) is
// about 4x larger at the widths used here, and measured slower to train (see the callers).
void init_linears_normal(torch::nn::Module& root, double std);

}  // namespace tessera::models
