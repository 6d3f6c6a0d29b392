#include "tessera/models/registry.h"

#include "tessera/core/error.h"
#include "tessera/models/sasrec.h"

namespace tessera::models {

std::shared_ptr<SequenceModelImpl> make_model(const ModelSpec& spec) {
  if (spec.name == "sasrec") {
    SasRecOptions o;
    o.num_items = spec.num_items;
    o.max_len = spec.max_len;
    o.d_model = spec.d_model;
    o.num_blocks = spec.num_blocks;
    o.num_heads = spec.num_heads;
    o.ffn_dim = spec.ffn_dim;
    o.dropout = spec.dropout;
    return std::make_shared<SasRecImpl>(o);
  }
  throw Error("unknown model '" + spec.name + "' (known: sasrec)");
}

}  // namespace tessera::models
