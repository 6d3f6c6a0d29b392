#include "tessera/tokenize/rq_vae.h"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <random>

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include "tessera/core/error.h"
#include "tessera/core/progress.h"

namespace tessera::tokenize {

void RqVaeOptions::validate() const {
  auto fail = [](const std::string& what) { throw Error("rq-vae: " + what); };
  if (num_codebooks < 1) fail(fmt::format("num_codebooks must be >= 1, got {}", num_codebooks));
  if (codebook_size < 1) fail(fmt::format("codebook_size must be >= 1, got {}", codebook_size));
  if (latent_dim < 1) fail(fmt::format("latent_dim must be >= 1, got {}", latent_dim));
  for (auto h : hidden_dims) {
    if (h < 1) fail(fmt::format("hidden_dims entries must be >= 1, got {}", h));
  }
  if (!(beta >= 0.0)) fail(fmt::format("beta must be >= 0, got {}", beta));
  if (epochs < 1) fail(fmt::format("epochs must be >= 1, got {}", epochs));
  if (batch_size < 1) fail(fmt::format("batch_size must be >= 1, got {}", batch_size));
  if (!(lr > 0.0)) fail(fmt::format("lr must be > 0, got {}", lr));
  if (!(weight_decay >= 0.0)) fail(fmt::format("weight_decay must be >= 0, got {}", weight_decay));
  if (kmeans_niter < 1) fail(fmt::format("kmeans_niter must be >= 1, got {}", kmeans_niter));
}

namespace {

// Linear layers of the given widths with ReLU between them (none after the last).
torch::nn::Sequential mlp(const std::vector<std::int64_t>& widths) {
  torch::nn::Sequential net;
  for (std::size_t i = 0; i + 1 < widths.size(); ++i) {
    net->push_back(torch::nn::Linear(widths[i], widths[i + 1]));
    if (i + 2 < widths.size()) net->push_back(torch::nn::ReLU());
  }
  return net;
}

struct Quantized {
  torch::Tensor codes;                   // [B, L] int64
  torch::Tensor quantized;               // [B, latent] sum of the chosen codes (gradient to codebooks)
  std::vector<torch::Tensor> residuals;  // L x [B, latent]: r_l, what level l quantised
  torch::Tensor codebook_loss;           // scalar, sum over levels
  torch::Tensor commitment_loss;         // scalar, sum over levels
};

struct RqVaeImpl : torch::nn::Module {
  RqVaeImpl(std::int64_t input_dim, const RqVaeOptions& o) {
    std::vector<std::int64_t> widths{input_dim};
    widths.insert(widths.end(), o.hidden_dims.begin(), o.hidden_dims.end());
    widths.push_back(o.latent_dim);
    encoder = register_module("encoder", mlp(widths));
    std::reverse(widths.begin(), widths.end());
    decoder = register_module("decoder", mlp(widths));
    for (std::int32_t l = 0; l < o.num_codebooks; ++l) {
      codebooks.push_back(register_parameter("codebook" + std::to_string(l), torch::zeros({o.codebook_size, o.latent_dim})));
    }
  }

  // z: [B, latent] float32. Nearest-code search runs without gradient; the losses carry it.
  Quantized quantize(const torch::Tensor& z) {
    Quantized q;
    torch::Tensor residual = z;
    q.quantized = torch::zeros_like(z);
    q.codebook_loss = torch::zeros({}, z.options());
    q.commitment_loss = torch::zeros({}, z.options());
    std::vector<torch::Tensor> codes;
    for (auto& codebook : codebooks) {
      torch::Tensor index;
      {
        torch::NoGradGuard no_grad;
        // |r - e|^2 = |r|^2 - 2 r.e + |e|^2, [B, K]
        auto distances = residual.pow(2).sum(1, true) - 2.0 * residual.matmul(codebook.t()) + codebook.pow(2).sum(1).unsqueeze(0);
        index = distances.argmin(1);
      }
      auto chosen = codebook.index_select(0, index);  // [B, latent]
      q.residuals.push_back(residual);
      q.codebook_loss = q.codebook_loss + torch::mse_loss(chosen, residual.detach());
      q.commitment_loss = q.commitment_loss + torch::mse_loss(residual, chosen.detach());
      q.quantized = q.quantized + chosen;
      residual = residual - chosen.detach();
      codes.push_back(index);
    }
    q.codes = torch::stack(codes, 1);
    return q;
  }

  torch::nn::Sequential encoder{nullptr}, decoder{nullptr};
  std::vector<torch::Tensor> codebooks;  // L x [K, latent]
};
TORCH_MODULE(RqVae);

// Restores libtorch's default CPU generator state when it goes out of scope.
class DefaultGeneratorScope {
 public:
  explicit DefaultGeneratorScope(std::uint64_t seed) : state_(at::detail::getDefaultCPUGenerator().get_state()) {
    torch::manual_seed(seed);
  }
  ~DefaultGeneratorScope() {
    auto generator = at::detail::getDefaultCPUGenerator();
    generator.set_state(state_);
  }
  DefaultGeneratorScope(const DefaultGeneratorScope&) = delete;
  DefaultGeneratorScope& operator=(const DefaultGeneratorScope&) = delete;

 private:
  torch::Tensor state_;
};

torch::Tensor as_float_matrix(const std::vector<float>& values, std::int64_t rows, std::int64_t cols) {
  return torch::from_blob(const_cast<float*>(values.data()), {rows, cols}, torch::kFloat32).clone();
}

// Encodes all rows in chunks without gradient: latents [n, latent].
torch::Tensor encode_all(RqVae& model, const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for (std::int64_t start = 0; start < x.size(0); start += 4096) {
    parts.push_back(model->encoder->forward(x.slice(0, start, std::min(x.size(0), start + 4096))));
  }
  return torch::cat(parts, 0);
}

}  // namespace

RqVaeResult train_rq_vae(const float* x, std::int64_t n, std::int64_t dim, const RqVaeOptions& options) {
  options.validate();
  if (dim < 1) throw Error(fmt::format("rq-vae: vector dimension must be >= 1, got {}", dim));
  if (n < 1) throw Error("rq-vae: no vectors to train on");
  const auto start_time = std::chrono::steady_clock::now();
  const std::int32_t L = options.num_codebooks;
  const std::int64_t K = options.codebook_size;
  DefaultGeneratorScope seeded(options.seed);
  std::mt19937_64 rng(options.seed);

  const torch::Tensor inputs = torch::from_blob(const_cast<float*>(x), {n, dim}, torch::kFloat32).clone();
  RqVae model(dim, options);

  // Codebooks: RQ-KMeans on the initial latents of every item.
  {
    const torch::Tensor latents = encode_all(model, inputs).contiguous();
    RqKMeansOptions km;
    km.num_codebooks = L;
    km.codebook_size = static_cast<std::int32_t>(K);
    km.niter = options.kmeans_niter;
    km.seed = options.seed;
    const auto init = rq_kmeans(latents.data_ptr<float>(), n, options.latent_dim, km);
    torch::NoGradGuard no_grad;
    for (std::int32_t l = 0; l < L; ++l) model->codebooks[l].copy_(as_float_matrix(init.codebooks[l], K, options.latent_dim));
  }

  torch::optim::AdamW optimizer(model->parameters(),
                                torch::optim::AdamWOptions(options.lr).weight_decay(options.weight_decay));
  RqVaeResult result;
  auto& training = result.training;
  Progress progress("rq-vae", options.epochs, "epochs", 2.0);
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  const std::int64_t batch_size = std::min(options.batch_size, n);

  for (std::int64_t epoch = 0; epoch < options.epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    const torch::Tensor permutation = torch::from_blob(order.data(), {n}, torch::kInt64).clone();
    torch::Tensor usage = torch::zeros({L, K}, torch::kInt64);
    double loss_sum = 0.0, reconstruction_sum = 0.0;
    std::int64_t batches = 0;
    model->train();
    for (std::int64_t begin = 0; begin < n; begin += batch_size) {
      const auto batch = inputs.index_select(0, permutation.slice(0, begin, std::min(n, begin + batch_size)));
      const auto z = model->encoder->forward(batch);
      auto q = model->quantize(z);
      const auto z_st = z + (q.quantized - z).detach();
      const auto reconstruction = torch::mse_loss(model->decoder->forward(z_st), batch);
      const auto loss = reconstruction + q.codebook_loss + options.beta * q.commitment_loss;
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      loss_sum += loss.item<double>();
      reconstruction_sum += reconstruction.item<double>();
      ++batches;
      for (std::int32_t l = 0; l < L; ++l) usage[l] += torch::bincount(q.codes.select(1, l), {}, K);
    }
    training.epoch_loss.push_back(loss_sum / static_cast<double>(batches));
    training.epoch_reconstruction_loss.push_back(reconstruction_sum / static_cast<double>(batches));

    std::int64_t reset = 0;
    if (options.reset_dead_codes && epoch + 1 < options.epochs) {
      const auto dead = (usage == 0);
      if (dead.any().item<bool>()) {
        // Residuals of every item at every level under the current model.
        torch::NoGradGuard no_grad;
        const auto q = model->quantize(encode_all(model, inputs));
        for (std::int32_t l = 0; l < L; ++l) {
          const auto dead_codes = dead[l].nonzero().view(-1);
          for (std::int64_t i = 0; i < dead_codes.size(0); ++i) {
            const std::int64_t item = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(n));
            model->codebooks[l][dead_codes[i].item<std::int64_t>()].copy_(q.residuals[l][item]);
            ++reset;
          }
        }
      }
    }
    training.dead_codes_reset += reset;
    progress.advance(1, fmt::format("loss {:.5f}  reconstruction {:.5f}  dead codes reset {}", training.epoch_loss.back(),
                                    training.epoch_reconstruction_loss.back(), reset));
  }
  progress.finish(fmt::format("loss {:.5f}", training.epoch_loss.back()));

  // Final codes and reconstructions of every item.
  torch::NoGradGuard no_grad;
  model->eval();
  const auto q = model->quantize(encode_all(model, inputs));
  auto& out = result.codes;
  out.n = n;
  out.dim = dim;
  out.num_codebooks = L;
  out.codebook_size = static_cast<std::int32_t>(K);
  const auto codes = q.codes.to(torch::kInt32).contiguous();
  out.codes.assign(codes.data_ptr<std::int32_t>(), codes.data_ptr<std::int32_t>() + n * L);
  for (std::int32_t l = 0; l < L; ++l) {
    const auto c = model->codebooks[l].detach().contiguous();
    out.codebooks.emplace_back(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  }
  torch::Tensor partial = torch::zeros({n, options.latent_dim});
  for (std::int32_t l = 0; l < L; ++l) {
    partial += model->codebooks[l].index_select(0, q.codes.select(1, l));
    const auto decoded = model->decoder->forward(partial).contiguous();
    out.mse_by_level.push_back(torch::mse_loss(decoded, inputs).item<double>());
    if (l + 1 == L) out.reconstruction.assign(decoded.data_ptr<float>(), decoded.data_ptr<float>() + n * dim);
  }
  training.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
  return result;
}

}  // namespace tessera::tokenize
