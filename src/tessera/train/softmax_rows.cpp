// Built with -O3 -ffast-math so the exp loop vectorises (glibc libmvec), for the best vector
// width the CPU has (target_clones). Nothing here produces or reads infinities or NaNs: the
// padding column is skipped, exponents are <= 0 after subtracting the row max, and sums are >= 1.
#include "tessera/train/softmax_rows.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace tessera::train {

namespace {

__attribute__((target_clones("avx512f", "avx2", "default")))
void one_row(float* __restrict x, std::int64_t cols, std::int64_t target, double* loss) {
  float m = x[1];
  for (std::int64_t j = 2; j < cols; ++j) m = x[j] > m ? x[j] : m;
  const float target_logit = x[target];
  float sum = 0.0f;
  for (std::int64_t j = 1; j < cols; ++j) {
    const float e = expf(x[j] - m);
    x[j] = e;
    sum += e;
  }
  const float inv = 1.0f / sum;
  for (std::int64_t j = 1; j < cols; ++j) x[j] *= inv;
  x[0] = 0.0f;
  x[target] -= 1.0f;
  *loss = static_cast<double>(m) + std::log(static_cast<double>(sum)) - static_cast<double>(target_logit);
}

}  // namespace

void softmax_minus_one_hot_rows(float* logits, std::int64_t rows, std::int64_t cols, const std::int64_t* targets,
                                double* row_loss) {
  for (std::int64_t r = 0; r < rows; ++r) one_row(logits + r * cols, cols, targets[r], row_loss + r);
}

void sampled_softmax_rows(float* logits, std::int64_t rows, std::int64_t cols, const std::int64_t* targets,
                          const std::int64_t* negatives, std::int64_t M, const float* log_expected, double* row_loss) {
  std::vector<float> corrected(static_cast<std::size_t>(M));
  for (std::int64_t r = 0; r < rows; ++r) {
    float* x = logits + r * cols;
    const std::int64_t t = targets[r];
    const std::int64_t* neg = negatives + r * M;
    const float target = x[t] - log_expected[t];
    float m = target;
    for (std::int64_t k = 0; k < M; ++k) {
      corrected[static_cast<std::size_t>(k)] = x[neg[k]] - log_expected[neg[k]];
      if (neg[k] != t) m = std::max(m, corrected[static_cast<std::size_t>(k)]);
    }
    const float target_exp = std::exp(target - m);
    float sum = target_exp;
    for (std::int64_t k = 0; k < M; ++k) {
      if (neg[k] == t) continue;
      corrected[static_cast<std::size_t>(k)] = std::exp(corrected[static_cast<std::size_t>(k)] - m);
      sum += corrected[static_cast<std::size_t>(k)];
    }
    const float inv = 1.0f / sum;
    std::fill(x, x + cols, 0.0f);
    x[t] = target_exp * inv - 1.0f;
    for (std::int64_t k = 0; k < M; ++k) {
      if (neg[k] != t) x[neg[k]] += corrected[static_cast<std::size_t>(k)] * inv;
    }
    row_loss[r] = static_cast<double>(m) + std::log(static_cast<double>(sum)) - static_cast<double>(target);
  }
}

}  // namespace tessera::train
