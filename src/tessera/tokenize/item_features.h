#pragma once
// Item features: what every builder of item vectors shares, and the fusion of several of them.
// The builders themselves are
//   content_features.h   TF-IDF over metadata tokens -> truncated SVD ("content")
//   collab_features.h    a trained SASRec's item table ("sasrec"), item2vec from co-occurrence ("item2vec")
// and this file turns tensors into ItemMatrix values, normalises rows, fuses matrices and
// measures how much sense a matrix makes (diagnostics, not a training signal).
//
// Conventions: an item tensor is [num_items + 1, dim] float32 (or float64 where stated), row i
// = item i, row 0 = padding (zeros). A zero row means "nothing known about this item"; row
// normalisation keeps zero rows zero. All functions are thread-safe (no shared state).

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "tessera/data/dataset.h"
#include "tessera/tokenize/item_matrix.h"

namespace tessera::tokenize {

// rows: [num_items + 1, dim] any floating dtype. Returns each row divided by its L2 norm; rows
// with norm < 1e-12 become (and stay) zero. Same shape and dtype.
torch::Tensor l2_normalize_rows(const torch::Tensor& rows);

// Copies rows ([num_items + 1, dim], any floating dtype, must be finite) into an ItemMatrix;
// row 0 is set to zeros whatever it held.
ItemMatrix make_item_matrix(const torch::Tensor& rows, std::string kind, std::string source, std::string dataset_fingerprint);

// The matrix as a [num_items + 1, dim] float32 tensor (a copy that owns its memory).
torch::Tensor item_matrix_tensor(const ItemMatrix& matrix);

// Throws tessera::Error naming `where` (usually the matrix file) unless the matrix was built
// for `dataset` (same dataset fingerprint and num_items).
void check_matrix_matches_dataset(const ItemMatrix& matrix, const data::Dataset& dataset, const std::string& where);

// One input of fuse_item_matrices().
struct FusionInput {
  const ItemMatrix* matrix = nullptr;  // not owned; must outlive the call
  std::string name;                    // for errors and the fused source ("work/beauty-content.imat")
  double weight = 1.0;                 // >= 0
};

// Fused row i = concat_j( weight_j * normalize(row i of input j) ), dim = sum of input dims.
// So the dot product of two fused rows is sum_j weight_j^2 * cos_j: weights 0.5/0.5 give equal
// shares, weights w1/w2 give cosine shares in the ratio (w1/w2)^2. Fused rows are NOT
// re-normalised: an item missing from one input (zero row there) keeps a shorter vector.
// Throws tessera::Error naming the input when inputs disagree on dataset fingerprint or
// num_items, when a weight is negative or not finite, or when there are no inputs.
ItemMatrix fuse_item_matrices(const std::vector<FusionInput>& inputs);

// Number of items 1..num_items whose row is not all zeros.
std::int64_t count_nonzero_rows(const ItemMatrix& matrix);

// Diagnostics of a matrix against its dataset (cosine similarity of normalised rows).
struct ItemMatrixCheck {
  // Over items with a non-zero row and at least one attribute: the mean cosine to the
  // `neighbours` nearest other items that share an attribute with it, and the mean cosine of
  // the same items to as many random items (seeded). Both NaN when the dataset has no metadata.
  double mean_cosine_shared_attribute = 0;
  double mean_cosine_random = 0;
  // Fraction of the `neighbours` nearest neighbours (by cosine, non-zero rows only) of each
  // checked item that share at least one attribute with it; NaN without metadata.
  double neighbour_attribute_precision = 0;
  // The same fraction for the random items above (what precision means by chance).
  double random_attribute_precision = 0;
  // Validation split: HR@10 of ranking every item by cosine to the user's last history item
  // (a next-item sanity check that needs no model; uses no test targets).
  double last_item_hr10 = 0;
  std::int64_t items_checked = 0;
};

// Checks at most `max_items` items (a seeded sample). Throws tessera::Error if the matrix was
// not built for `dataset`.
ItemMatrixCheck check_item_matrix(const ItemMatrix& matrix, const data::Dataset& dataset, std::int64_t neighbours = 10,
                                  std::int64_t max_items = 2000, std::uint64_t seed = 0);

}  // namespace tessera::tokenize
