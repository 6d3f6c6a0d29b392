#include "tessera/train/weight_average.h"

#include <algorithm>

namespace tessera::train {

WeightAverage::WeightAverage(torch::nn::Module& module, double decay) : parameters_(module.parameters()), decay_(decay) {
  torch::NoGradGuard no_grad;
  average_.reserve(parameters_.size());
  for (const auto& p : parameters_) average_.push_back(p.detach().clone());
}

void WeightAverage::update(std::int64_t step) {
  torch::NoGradGuard no_grad;
  const double d = std::min(decay_, static_cast<double>(1 + step) / static_cast<double>(10 + step));
  for (std::size_t i = 0; i < parameters_.size(); ++i) average_[i].mul_(d).add_(parameters_[i].detach(), 1.0 - d);
}

void WeightAverage::swap() {
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    auto kept = parameters_[i].detach().clone();
    parameters_[i].detach().copy_(average_[i]);
    average_[i].copy_(kept);
  }
}

}  // namespace tessera::train
