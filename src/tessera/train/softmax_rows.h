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

}  // namespace tessera::train
