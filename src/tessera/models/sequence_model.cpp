#include "tessera/models/sequence_model.h"

#include "tessera/models/packing.h"

namespace tessera::models {

namespace F = torch::nn::functional;

torch::Tensor scoring_hidden(const torch::Tensor& hidden, const ModelSpec& spec) {
  auto h = spec.l2_normalize ? F::normalize(hidden, F::NormalizeFuncOptions().dim(-1)).div(spec.temperature) : hidden;
  if (!spec.item_bias) return h;
  auto sizes = h.sizes().vec();
  sizes.back() = 1;
  return torch::cat({h, torch::ones(sizes, h.options())}, -1);
}

torch::Tensor scoring_items(const torch::Tensor& item_rows, const ModelSpec& spec, const torch::Tensor& bias) {
  // The zero padding row stays 0 under normalisation.
  auto rows = spec.l2_normalize ? F::normalize(item_rows, F::NormalizeFuncOptions().dim(-1)) : item_rows;
  if (!spec.item_bias) return rows;
  TORCH_CHECK(bias.defined() && bias.dim() == 1 && bias.size(0) == rows.size(0), "item_bias: expected a [", rows.size(0),
              "] bias tensor");
  return torch::cat({rows, bias.unsqueeze(1)}, 1);
}

torch::Tensor register_item_bias(torch::nn::Module& model, const ModelSpec& spec) {
  if (!spec.item_bias) return {};
  return model.register_parameter("item_bias", torch::zeros({spec.num_items + 1}));
}

torch::Tensor padded_positions(const torch::Tensor& valid, const ModelSpec& spec) {
  const auto L = valid.size(1);
  if (!spec.positions_from_start) return torch::arange(L - 1, -1, -1, torch::kLong).unsqueeze(0).expand({valid.size(0), L});
  // Left padding: a row with n items starts at column L - n.
  auto start = L - valid.sum(1, /*keepdim=*/true, torch::kLong);  // [B, 1]
  return (torch::arange(L, torch::kLong).unsqueeze(0) - start).clamp_min(0);
}

torch::Tensor packed_positions(const torch::Tensor& offsets, const ModelSpec& spec) {
  return sequence_positions(offsets, spec.positions_from_start);
}

torch::Tensor SequenceModelImpl::encode_packed(const torch::Tensor& items, const torch::Tensor& offsets, const torch::Tensor& timestamps) {
  const auto L = std::max<std::int64_t>(1, (offsets.slice(0, 1) - offsets.slice(0, 0, -1)).max().item<std::int64_t>());
  auto padded = pad_packed(items, offsets, L);  // [B, L], 0 = padding
  return unpad(encode(padded, timestamps.defined() ? pad_packed(timestamps, offsets, L) : torch::Tensor()), offsets);
}

}  // namespace tessera::models
