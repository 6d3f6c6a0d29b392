#include "tessera/models/sequence_model.h"

#include "tessera/models/packing.h"

namespace tessera::models {

torch::Tensor SequenceModelImpl::encode_packed(const torch::Tensor& items, const torch::Tensor& offsets) {
  const auto L = (offsets.slice(0, 1) - offsets.slice(0, 0, -1)).max().item<std::int64_t>();
  auto padded = pad_packed(items, offsets, std::max<std::int64_t>(L, 1));  // [B, L], 0 = padding
  return unpad(encode(padded), offsets);
}

}  // namespace tessera::models
