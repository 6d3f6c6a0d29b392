#pragma once
// Builds a sequence model by name. The one place that knows which models exist.

#include <memory>
#include <string>

#include "tessera/models/sequence_model.h"

namespace tessera::models {

struct ModelSpec {
  std::string name = "sasrec";  // "sasrec"
  std::int64_t num_items = 0;   // items are 1..num_items
  std::int64_t max_len = 200;
  std::int64_t d_model = 50;
  std::int64_t num_blocks = 2;
  std::int64_t num_heads = 1;
  std::int64_t ffn_dim = 50;
  double dropout = 0.2;
};

// Throws tessera::Error for an unknown name.
std::shared_ptr<SequenceModelImpl> make_model(const ModelSpec& spec);

}  // namespace tessera::models
