#pragma once
// A short identity of a prepared dataset (its sequences and item ID map), stored in checkpoints
// so that evaluating or serving a model against a different dataset is caught, not silently
// producing wrong item IDs.

#include <string>

#include "tessera/data/dataset.h"

namespace tessera::data {

// 8 hex digits of a CRC-32 over item count, sequences and original item IDs.
std::string dataset_fingerprint(const Dataset& dataset);

}  // namespace tessera::data
