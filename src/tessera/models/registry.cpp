#include "tessera/models/registry.h"

#include "tessera/core/error.h"
#include "tessera/models/hstu.h"
#include "tessera/models/sasrec.h"

namespace tessera::models {

std::shared_ptr<SequenceModelImpl> make_model(const ModelSpec& spec) {
  if (spec.name == "sasrec") return std::make_shared<SasRecImpl>(spec);
  if (spec.name == "hstu") return std::make_shared<HstuImpl>(spec);
  throw Error("unknown model '" + spec.name + "' (known: sasrec, hstu)");
}

}  // namespace tessera::models
