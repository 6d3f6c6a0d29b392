#pragma once
// Builds a sequence model by name. The one place that knows which models exist.

#include <memory>
#include <string>

#include "tessera/models/sequence_model.h"

namespace tessera::models {

// Throws tessera::Error for an unknown name.
std::shared_ptr<SequenceModelImpl> make_model(const ModelSpec& spec);

}  // namespace tessera::models
