#include "tessera/models/packing.h"

namespace tessera::models {

torch::Tensor sequence_positions(const torch::Tensor& offsets, bool from_start) {
  auto off = offsets.contiguous();
  const auto* o = off.data_ptr<std::int64_t>();
  const auto B = off.size(0) - 1;
  auto positions = torch::empty({o[B]}, torch::kLong);
  auto* p = positions.data_ptr<std::int64_t>();
  for (std::int64_t s = 0; s < B; ++s) {
    for (std::int64_t t = o[s]; t < o[s + 1]; ++t) p[t] = from_start ? t - o[s] : o[s + 1] - 1 - t;
  }
  return positions;
}

torch::Tensor padded_index(const torch::Tensor& offsets, std::int64_t L) {
  auto off = offsets.contiguous();
  const auto* o = off.data_ptr<std::int64_t>();
  const auto B = off.size(0) - 1;
  auto index = torch::empty({o[B]}, torch::kLong);
  auto* p = index.data_ptr<std::int64_t>();
  for (std::int64_t s = 0; s < B; ++s) {
    const auto n = o[s + 1] - o[s];
    TORCH_CHECK(n <= L, "sequence ", s, " of length ", n, " does not fit ", L, " columns");
    for (std::int64_t t = o[s]; t < o[s + 1]; ++t) p[t] = s * L + (L - n) + (t - o[s]);
  }
  return index;
}

torch::Tensor pad_packed(const torch::Tensor& packed, const torch::Tensor& offsets, std::int64_t L) {
  const auto B = offsets.size(0) - 1;
  auto shape = packed.sizes().vec();
  shape[0] = B * L;
  auto flat = torch::zeros(shape, packed.options()).index_copy(0, padded_index(offsets, L), packed);
  shape[0] = L;
  shape.insert(shape.begin(), B);
  return flat.view(shape);
}

torch::Tensor unpad(const torch::Tensor& padded, const torch::Tensor& offsets) {
  auto shape = padded.sizes().vec();
  const auto L = shape[1];
  shape.erase(shape.begin());
  shape[0] = padded.size(0) * L;
  return padded.reshape(shape).index_select(0, padded_index(offsets, L));
}

}  // namespace tessera::models
