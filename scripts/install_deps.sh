#!/usr/bin/env bash
# Installs every Debian 12 package tessera needs to build, test and run. Idempotent.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libtorch-dev            # tensors and autograd (libtorch 1.13, CPU)
  libopenblas0-pthread    # without it libtorch's matmul runs ~20x slower
  libblas-dev             # cblas.h and the link to BLAS for small batched products (models/batched_matmul.h)
  libcli11-dev nlohmann-json3-dev libfmt-dev zlib1g-dev
  libfaiss-dev            # k-means for semantic-ID tokenizers (static; needs OpenMP)
  libgtest-dev
  libcpp-httplib-dev      # HTTP server and client of `tessera serve` and `tessera bench serve`
  libjemalloc-dev         # the allocator: glibc malloc fragments under training (core/runtime.h)
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[install] installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "[install] all packages present"
fi
