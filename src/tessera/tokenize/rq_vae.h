#pragma once
// RQ-VAE (Zeghidour et al. 2021; the item tokenizer of TIGER, Rajput et al. 2023): an MLP
// encoder maps each item vector to a latent, L residual codebooks quantise the latent (level l
// picks the code nearest to what levels 1..l-1 left over), an MLP decoder reconstructs the item
// vector from the sum of the chosen codes.
//
// Training, per batch x [B, dim]:
//   z = encoder(x)                  [B, latent_dim]
//   r_1 = z; for l = 1..L: c_l = argmin_k |r_l - e_{l,k}|^2, r_{l+1} = r_l - sg(e_{l,c_l})
//   z_q = sum_l e_{l,c_l};  x_hat = decoder(z + sg(z_q - z))       (straight-through estimator)
//   loss = |x_hat - x|^2 + sum_l ( |sg(r_l) - e_{l,c_l}|^2 + beta |r_l - sg(e_{l,c_l})|^2 )
// (all squared norms as means over elements), AdamW. Codebooks start as RQ-KMeans (faiss) on
// the latents of all items under the freshly initialised encoder. After every epoch but the
// last, codes no item chose during that epoch ("dead" codes) are re-initialised to the level's
// residual of a randomly chosen item, so the codebooks stay in use.
//
// Deterministic for a given seed and thread count: libtorch's default CPU generator is seeded
// with `seed` for weight initialisation (its previous state is restored afterwards) and batch
// order and code resets use std::mt19937_64(seed). Not for concurrent use with other libtorch
// work that relies on the default generator.

#include <cstdint>
#include <vector>

#include "tessera/tokenize/rq_kmeans.h"

namespace tessera::tokenize {

struct RqVaeOptions {
  std::int32_t num_codebooks = 3;                   // L
  std::int32_t codebook_size = 256;                 // K
  std::vector<std::int64_t> hidden_dims{256, 128};  // encoder widths after the input; decoder mirrors them
  std::int64_t latent_dim = 32;                     // width of the quantised latent (and of every code)
  double beta = 0.25;                               // commitment loss weight
  std::int64_t epochs = 300;                        // passes over all items (Beauty, 12k x 64: ~1 min on 2 cores)
  std::int64_t batch_size = 256;                    // items per step
  double lr = 1e-3;                                 // AdamW learning rate
  double weight_decay = 0.0;                        // AdamW decoupled weight decay
  bool reset_dead_codes = true;
  std::int64_t kmeans_niter = 25;                   // codebook initialisation
  std::uint64_t seed = 42;

  // Throws tessera::Error naming the option (num_codebooks, codebook_size, latent_dim, beta,
  // epochs, batch_size, lr, ...) when it is out of range.
  void validate() const;
};

struct RqVaeTraining {
  std::vector<double> epoch_loss;                 // mean total loss per epoch
  std::vector<double> epoch_reconstruction_loss;  // mean reconstruction MSE per epoch
  std::int64_t dead_codes_reset = 0;              // codes re-initialised, summed over epochs and levels
  double seconds = 0.0;                           // wall-clock training time
};

struct RqVaeResult {
  // codes n * L; codebooks in latent space (L of K * latent_dim); reconstruction = decoder output
  // for each item's quantised latent (n * dim); mse_by_level from decoding the first l codes.
  ResidualCodes codes;
  RqVaeTraining training;
};

// Trains an RQ-VAE on the n * dim row-major float32 vectors `x` and quantises every row.
// Reports progress through tessera::Progress ("rq-vae", per epoch).
RqVaeResult train_rq_vae(const float* x, std::int64_t n, std::int64_t dim, const RqVaeOptions& options);

}  // namespace tessera::tokenize
