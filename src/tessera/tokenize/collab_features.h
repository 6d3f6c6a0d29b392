#pragma once
// Collaborative item vectors: what the interactions say about items, independent of metadata.
//
//   sasrec     the item table of a trained sequence model (train::load_trained_model, rows
//              0..num_items of model->item_embeddings()), stored as is (not normalised).
//   item2vec   from co-occurrence in the users' TRAINING sequences only (data::training_sequence;
//              validation and test targets are never read):
//                counts   n(a, b) = number of times items a != b appear within `window`
//                         positions of each other in a training sequence (symmetric, unweighted
//                         by distance)
//                SPPMI    max(0, ln[n(a,b) * D / (n(a) * Pc(b) * D)] - ln k) with D = total
//                         count, n(a) = row sum, Pc(b) = n(b)^alpha / sum n^alpha (context
//                         smoothing, alpha = `context_smoothing`) and k = `negative_shift`
//                         (Levy & Goldberg 2014: SGNS with k negatives factorises PMI - ln k)
//                reduce   truncated SVD (features_svd.h, seeded), item vector = row of
//                         U * diag(sqrt(S)), L2-normalised.
//              Items that never co-occur with another item in training data get a zero row.
//
// Deterministic by seed (and thread count). Thread-safe (no shared state).

#include <cstdint>
#include <string>

#include "tessera/data/dataset.h"
#include "tessera/tokenize/item_matrix.h"

namespace tessera::tokenize {

// kind "sasrec". Throws tessera::Error naming the checkpoint when it cannot be loaded or was
// trained on another dataset (fingerprint).
ItemMatrix build_sasrec_matrix(const data::Dataset& dataset, const std::string& checkpoint_path);

struct Item2VecOptions {
  std::int64_t dim = 64;
  std::int64_t window = 5;         // positions to each side
  double negative_shift = 5.0;     // k in "PMI - ln k"; 1 = plain positive PMI
  double context_smoothing = 0.75; // alpha; 1 = none
  std::uint64_t seed = 0;
};

struct Item2VecReport {
  std::int64_t items_with_vector = 0;  // items 1..N with a non-zero row
  std::int64_t cooccurring_pairs = 0;  // distinct ordered pairs (a, b) with n(a, b) > 0
  std::int64_t positive_pmi_pairs = 0; // ordered pairs kept by SPPMI
};

// kind "item2vec". Throws tessera::Error if dim, window or negative_shift are out of range, or
// if no two items co-occur in training data.
ItemMatrix build_item2vec_matrix(const data::Dataset& dataset, const Item2VecOptions& options, Item2VecReport* report = nullptr);

}  // namespace tessera::tokenize
