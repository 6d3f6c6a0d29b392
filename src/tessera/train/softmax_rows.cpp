// Built with -O3 -ffast-math so the exp loop vectorises (glibc libmvec), for the best vector
// width the CPU has (target_clones). Nothing here produces or reads infinities or NaNs: the
// padding column is skipped, exponents are <= 0 after subtracting the row max, and sums are >= 1.
#include "tessera/train/softmax_rows.h"

#include <cmath>

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

}  // namespace tessera::train
