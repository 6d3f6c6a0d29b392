#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace tessera::train {

// Exponential moving average of a module's parameters (Polyak averaging). The trainer updates it
// after every optimizer step and validates, saves and tests the averaged weights instead of the
// last ones: on a noisy validation curve the average sits nearer the plateau's middle than any
// single step does.
class WeightAverage {
 public:
  // `decay` in (0, 1). The module's parameters are copied as the starting average.
  WeightAverage(torch::nn::Module& module, double decay);

  // Folds the current parameters in after optimizer step `step` (0-based). Early steps use a
  // smaller decay, min(decay, (1 + step) / (10 + step)), so the first random weights fade fast.
  void update(std::int64_t step);

  // Exchanges the module's parameters with the average; a second call swaps them back.
  void swap();

 private:
  std::vector<torch::Tensor> parameters_;  // the module's, shared
  std::vector<torch::Tensor> average_;
  double decay_;
};

}  // namespace tessera::train
