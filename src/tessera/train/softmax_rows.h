#pragma once
// The elementwise core of the fused full-softmax loss (losses.cpp): for a block of logit rows,
// turns each row into (softmax - one_hot(target)) in place and returns each row's loss, in one
// pass over memory that is still in cache. Column 0 (padding) is excluded from the softmax and
// comes out as 0. Compiled with vectorised exp (see CMakeLists.txt); safe to call from several
// threads on disjoint rows.

#include <cstdint>

namespace tessera::train {

// logits: rows x cols floats, row-major, overwritten with softmax - one_hot.
// targets: rows ids in 1..cols-1. row_loss: rows outputs, logsumexp - target logit.
void softmax_minus_one_hot_rows(float* logits, std::int64_t rows, std::int64_t cols, const std::int64_t* targets,
                                double* row_loss);

// The same for sampled softmax with negatives drawn per row: row r's candidates are its target
// and negatives[r * M .. r * M + M) (a negative equal to the target is skipped), each logit
// corrected by minus log_expected[id]. The row is overwritten with the gradient of its loss
// with respect to the logits: softmax over the candidates (summed over repeated draws) minus
// one at the target, 0 elsewhere. row_loss: logsumexp over the candidates - corrected target.
void sampled_softmax_rows(float* logits, std::int64_t rows, std::int64_t cols, const std::int64_t* targets,
                          const std::int64_t* negatives, std::int64_t M, const float* log_expected, double* row_loss);

}  // namespace tessera::train
