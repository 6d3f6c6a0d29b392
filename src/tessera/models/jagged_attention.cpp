#include "tessera/models/jagged_attention.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <numeric>
#include <span>
#include <vector>

namespace tessera::models {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// One unit of parallel work: one head of one sequence.
struct WorkItem {
  std::int64_t begin = 0;        // first row of the sequence
  std::int64_t length = 0;       // rows
  std::int64_t head = 0;
  std::int64_t score_offset = 0; // where its [length, length] score block starts in the score buffer
  std::int64_t pair_offset = 0;  // where its sequence's [length, length] block of time buckets starts
};

// Work items, longest first, so a shared counter hands out the expensive ones early.
std::vector<WorkItem> make_work(const torch::Tensor& offsets, std::int64_t heads, std::int64_t max_len) {
  auto off = offsets.contiguous();
  const auto* o = off.data_ptr<std::int64_t>();
  const auto B = off.size(0) - 1;
  std::vector<WorkItem> work;
  work.reserve(static_cast<std::size_t>(B * heads));
  std::int64_t score_offset = 0, pair_offset = 0;
  for (std::int64_t s = 0; s < B; ++s) {
    const auto n = o[s + 1] - o[s];
    TORCH_CHECK(n >= 0 && n <= max_len, "jagged attention: sequence ", s, " has length ", n, " (max ", max_len, ")");
    for (std::int64_t h = 0; h < heads; ++h) {
      work.push_back({o[s], n, h, score_offset, pair_offset});
      score_offset += n * n;
    }
    pair_offset += n * n;
  }
  std::stable_sort(work.begin(), work.end(), [](const WorkItem& a, const WorkItem& b) { return a.length > b.length; });
  return work;
}

std::int64_t score_size(const std::vector<WorkItem>& work) {
  std::int64_t total = 0;
  for (const auto& w : work) total += w.length * w.length;
  return total;
}

// Runs fn(work_item, thread_slot) over all items on the intra-op threads, handing out items
// dynamically (sequence lengths vary widely).
template <typename Fn>
void for_each_work_item(const std::vector<WorkItem>& work, Fn&& fn) {
  std::atomic<std::size_t> next{0};
  const std::int64_t threads = std::min<std::int64_t>(at::get_num_threads(), static_cast<std::int64_t>(work.size()));
  at::parallel_for(0, std::max<std::int64_t>(threads, 1), 1, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t slot = begin; slot < end; ++slot) {
      for (std::size_t i = next++; i < work.size(); i = next++) fn(work[i], slot);
    }
  });
}

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// Copies rows [begin, begin + n) of head h of a [T, H, D] tensor into a dense [n, D] block.
void gather_rows(const float* src, std::int64_t H, std::int64_t D, const WorkItem& w, float* dst) {
  for (std::int64_t i = 0; i < w.length; ++i) {
    const float* row = src + ((w.begin + i) * H + w.head) * D;
    std::copy(row, row + D, dst + i * D);
  }
}

// dst [D, n] = src block [n, D] transposed.
void transpose_rows(const float* src, std::int64_t H, std::int64_t D, const WorkItem& w, float* dst) {
  for (std::int64_t i = 0; i < w.length; ++i) {
    const float* row = src + ((w.begin + i) * H + w.head) * D;
    for (std::int64_t d = 0; d < D; ++d) dst[d * w.length + i] = row[d];
  }
}

// row[0..=i] += sum_d a[d] * bt[d * n + j] over j <= i (a: [D], bt: [D, n]).
inline void accumulate_dot_row(float* row, const float* a, const float* bt, std::int64_t D, std::int64_t n, std::int64_t i) {
  for (std::int64_t d = 0; d < D; ++d) {
    const float ad = a[d];
    const float* b = bt + d * n;
    for (std::int64_t j = 0; j <= i; ++j) row[j] += ad * b[j];
  }
}

inline void axpy(float* y, const float* x, float alpha, std::int64_t D) {
  for (std::int64_t d = 0; d < D; ++d) y[d] += alpha * x[d];
}

struct JaggedPointwiseAttention : public torch::autograd::Function<JaggedPointwiseAttention> {
  // pair_buckets / time_bias: the TimeBias tensors, or empty tensors when there is no time term.
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor q, torch::Tensor k, torch::Tensor v, torch::Tensor offsets,
                               torch::Tensor bias, torch::Tensor pair_buckets, torch::Tensor time_bias, double normalizer) {
    RECORD_FUNCTION("tessera::jagged_attention_forward", std::vector<c10::IValue>());
    q = q.contiguous();
    k = k.contiguous();
    v = v.contiguous();
    bias = bias.contiguous();
    pair_buckets = pair_buckets.contiguous();
    time_bias = time_bias.contiguous();
    const auto T = q.size(0), H = q.size(1), D = q.size(2), Dv = v.size(2);
    const auto work = make_work(offsets, H, bias.size(0));
    TORCH_CHECK(time_bias.numel() == 0 || pair_buckets.numel() * H == score_size(work),
                "jagged attention: pair buckets do not match the offsets (", pair_buckets.numel(), " entries)");
    auto scores = torch::empty({score_size(work)}, q.options());
    auto out = torch::zeros({T, H, Dv}, q.options());
    const float* qp = q.data_ptr<float>();
    const float* kp = k.data_ptr<float>();
    const float* vp = v.data_ptr<float>();
    const float* bp = bias.data_ptr<float>();
    const bool timed = time_bias.numel() > 0;
    const std::uint8_t* pbp = timed ? pair_buckets.data_ptr<std::uint8_t>() : nullptr;
    const float* tbp = timed ? time_bias.data_ptr<float>() : nullptr;
    float* sp = scores.data_ptr<float>();
    float* op = out.data_ptr<float>();
    const float inv_n = static_cast<float>(1.0 / normalizer);
    for_each_work_item(work, [&](const WorkItem& w, std::int64_t) {
      const auto n = w.length;
      if (n == 0) return;
      std::vector<float> kt(static_cast<std::size_t>(D * n)), vb(static_cast<std::size_t>(n * Dv)), a(static_cast<std::size_t>(n));
      transpose_rows(kp, H, D, w, kt.data());
      gather_rows(vp, H, Dv, w, vb.data());
      for (std::int64_t i = 0; i < n; ++i) {
        float* s = sp + w.score_offset + i * n;
        for (std::int64_t j = 0; j <= i; ++j) s[j] = bp[i - j];
        if (timed) {
          const std::uint8_t* bucket = pbp + w.pair_offset + i * n;
          for (std::int64_t j = 0; j <= i; ++j) s[j] += tbp[bucket[j]];
        }
        accumulate_dot_row(s, qp + ((w.begin + i) * H + w.head) * D, kt.data(), D, n, i);
        float* o = op + ((w.begin + i) * H + w.head) * Dv;
        for (std::int64_t j = 0; j <= i; ++j) a[j] = s[j] * sigmoid(s[j]) * inv_n;
        for (std::int64_t j = 0; j <= i; ++j) axpy(o, vb.data() + j * Dv, a[j], Dv);
      }
    });
    ctx->save_for_backward({q, k, v, offsets, bias, scores, pair_buckets, time_bias});
    ctx->saved_data["normalizer"] = normalizer;
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_output) {
    RECORD_FUNCTION("tessera::jagged_attention_backward", std::vector<c10::IValue>());
    auto saved = ctx->get_saved_variables();
    const auto& q = saved[0];
    const auto& k = saved[1];
    const auto& v = saved[2];
    const auto& offsets = saved[3];
    const auto& bias = saved[4];
    const auto& scores = saved[5];
    const auto& pair_buckets = saved[6];
    const auto& time_bias = saved[7];
    const double normalizer = ctx->saved_data["normalizer"].toDouble();
    auto grad_out = grad_output[0].contiguous();
    const auto T = q.size(0), H = q.size(1), D = q.size(2), Dv = v.size(2), max_len = bias.size(0);
    const auto work = make_work(offsets, H, max_len);
    auto dq = torch::zeros_like(q), dk = torch::zeros_like(k), dv = torch::zeros_like(v);
    const std::int64_t threads = std::max<std::int64_t>(1, at::get_num_threads());
    auto dbias_slots = torch::zeros({threads, max_len}, bias.options());
    const bool timed = time_bias.numel() > 0;
    const auto num_buckets = time_bias.numel();
    auto dtime_slots = torch::zeros({threads, num_buckets}, bias.options());
    const std::uint8_t* pbp = timed ? pair_buckets.data_ptr<std::uint8_t>() : nullptr;
    float* dtp = dtime_slots.data_ptr<float>();
    const float* qp = q.data_ptr<float>();
    const float* kp = k.data_ptr<float>();
    const float* vp = v.data_ptr<float>();
    const float* sp = scores.data_ptr<float>();
    const float* gp = grad_out.data_ptr<float>();
    float* dqp = dq.data_ptr<float>();
    float* dkp = dk.data_ptr<float>();
    float* dvp = dv.data_ptr<float>();
    float* dbp = dbias_slots.data_ptr<float>();
    const float inv_n = static_cast<float>(1.0 / normalizer);
    (void)T;
    for_each_work_item(work, [&](const WorkItem& w, std::int64_t slot) {
      const auto n = w.length;
      if (n == 0) return;
      std::vector<float> vt(static_cast<std::size_t>(Dv * n)), qb(static_cast<std::size_t>(n * D)), kb(static_cast<std::size_t>(n * D));
      std::vector<float> dkb(static_cast<std::size_t>(n * D), 0.0f), dvb(static_cast<std::size_t>(n * Dv), 0.0f);
      std::vector<float> da(static_cast<std::size_t>(n)), ds(static_cast<std::size_t>(n)), a(static_cast<std::size_t>(n));
      transpose_rows(vp, H, Dv, w, vt.data());
      gather_rows(qp, H, D, w, qb.data());
      gather_rows(kp, H, D, w, kb.data());
      float* dbias = dbp + slot * max_len;
      float* dtime = dtp + slot * num_buckets;
      for (std::int64_t i = 0; i < n; ++i) {
        const float* g = gp + ((w.begin + i) * H + w.head) * Dv;
        std::fill(da.begin(), da.begin() + i + 1, 0.0f);
        accumulate_dot_row(da.data(), g, vt.data(), Dv, n, i);  // dA_ij = dO_i . v_j
        const float* s = sp + w.score_offset + i * n;
        for (std::int64_t j = 0; j <= i; ++j) {
          const float sig = sigmoid(s[j]);
          a[j] = s[j] * sig * inv_n;
          ds[j] = da[j] * sig * (1.0f + s[j] * (1.0f - sig)) * inv_n;  // d silu(x)/dx = sig (1 + x (1 - sig))
        }
        float* dqi = dqp + ((w.begin + i) * H + w.head) * D;
        const float* qi = qb.data() + i * D;
        for (std::int64_t j = 0; j <= i; ++j) {
          axpy(dvb.data() + j * Dv, g, a[j], Dv);
          axpy(dqi, kb.data() + j * D, ds[j], D);
          axpy(dkb.data() + j * D, qi, ds[j], D);
          dbias[i - j] += ds[j];
        }
        if (timed) {
          const std::uint8_t* bucket = pbp + w.pair_offset + i * n;
          for (std::int64_t j = 0; j <= i; ++j) dtime[bucket[j]] += ds[j];
        }
      }
      for (std::int64_t j = 0; j < n; ++j) {
        std::copy(dkb.data() + j * D, dkb.data() + (j + 1) * D, dkp + ((w.begin + j) * H + w.head) * D);
        std::copy(dvb.data() + j * Dv, dvb.data() + (j + 1) * Dv, dvp + ((w.begin + j) * H + w.head) * Dv);
      }
    });
    return {dq, dk, dv, torch::Tensor(), dbias_slots.sum(0), torch::Tensor(), timed ? dtime_slots.sum(0) : torch::Tensor(),
            torch::Tensor()};
  }
};

}  // namespace

std::int64_t time_bucket(std::int64_t dt, std::int64_t num_buckets) {
  if (dt <= 1) return 0;
  const auto bucket = static_cast<std::int64_t>(std::floor(std::log(static_cast<double>(dt)) / 0.301));
  return std::min(bucket, num_buckets - 1);
}

namespace {

// first[b] = the smallest gap in bucket b or above, found from time_bucket() itself (it is
// monotone in dt), so lookups against these bounds agree with time_bucket() exactly. Computed
// once, for the most buckets allowed (256): capping at num_buckets - 1 leaves the lower bounds
// of buckets below the cap where they are, so a table of fewer buckets is a prefix of this one.
std::vector<std::int64_t> compute_bucket_bounds(std::int64_t num_buckets) {
  std::vector<std::int64_t> first(static_cast<std::size_t>(num_buckets), 0);
  for (std::int64_t b = 1; b < num_buckets; ++b) {
    std::int64_t lo = first[b - 1], hi = std::numeric_limits<std::int64_t>::max();
    if (time_bucket(hi, num_buckets) < b) {  // never reached: no gap falls in bucket b or above
      first.resize(static_cast<std::size_t>(b));
      break;
    }
    while (lo < hi) {  // smallest dt with time_bucket(dt) >= b
      const auto mid = lo + (hi - lo) / 2;
      if (time_bucket(mid, num_buckets) >= b) hi = mid; else lo = mid + 1;
    }
    first[b] = lo;
  }
  return first;
}

std::span<const std::int64_t> bucket_bounds(std::int64_t num_buckets) {
  static const std::vector<std::int64_t> all = compute_bucket_bounds(256);
  return std::span<const std::int64_t>(all).first(std::min<std::size_t>(all.size(), static_cast<std::size_t>(num_buckets)));
}

// Buckets of the gaps t[i] - t[j] for j = i, i-1, ..., 0, written to row[j]. Walking j down,
// the gap grows when times are non-decreasing, so the bucket pointer moves a step at a time
// (it also moves back, so unsorted times still get the right buckets).
template <typename Out>
void fill_bucket_row(const std::int64_t* t, std::int64_t i, std::span<const std::int64_t> first, Out* row) {
  const auto last = static_cast<std::int64_t>(first.size()) - 1;
  std::int64_t b = 0;
  for (std::int64_t j = i; j >= 0; --j) {
    const auto dt = t[i] - t[j];
    while (b < last && dt >= first[b + 1]) ++b;
    while (b > 0 && dt < first[b]) --b;
    row[j] = static_cast<Out>(b);
  }
}

}  // namespace

torch::Tensor packed_pair_time_buckets(const torch::Tensor& timestamps, const torch::Tensor& offsets, std::int64_t num_buckets) {
  TORCH_CHECK(num_buckets >= 1 && num_buckets <= 256, "time buckets: 1..256 buckets expected, got ", num_buckets);
  TORCH_CHECK(timestamps.dim() == 1 && timestamps.scalar_type() == torch::kLong, "time buckets: timestamps [T] int64 expected");
  auto ts = timestamps.contiguous();
  auto off = offsets.contiguous();
  const auto* t = ts.data_ptr<std::int64_t>();
  const auto* o = off.data_ptr<std::int64_t>();
  const auto B = off.size(0) - 1;
  TORCH_CHECK(o[B] == ts.size(0), "time buckets: offsets must span the ", ts.size(0), " timestamps");
  const auto first = bucket_bounds(num_buckets);
  std::vector<std::int64_t> block(static_cast<std::size_t>(B + 1), 0);
  for (std::int64_t s = 0; s < B; ++s) block[s + 1] = block[s] + (o[s + 1] - o[s]) * (o[s + 1] - o[s]);
  auto out = torch::zeros({block[B]}, torch::kUInt8);
  auto* p = out.data_ptr<std::uint8_t>();
  at::parallel_for(0, B, 1, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t s = begin; s < end; ++s) {
      const auto n = o[s + 1] - o[s];
      for (std::int64_t i = 0; i < n; ++i) fill_bucket_row(t + o[s], i, first, p + block[s] + i * n);
    }
  });
  return out;
}

torch::Tensor padded_pair_time_buckets(const torch::Tensor& timestamps, const torch::Tensor& valid, std::int64_t num_buckets) {
  TORCH_CHECK(num_buckets >= 1 && num_buckets <= 256, "time buckets: 1..256 buckets expected, got ", num_buckets);
  TORCH_CHECK(timestamps.dim() == 2 && timestamps.scalar_type() == torch::kLong && timestamps.sizes() == valid.sizes(),
              "time buckets: timestamps [B, L] int64 matching valid expected");
  auto ts = timestamps.contiguous();
  auto ok = valid.to(torch::kBool).contiguous();
  const auto B = ts.size(0), L = ts.size(1);
  const auto first = bucket_bounds(num_buckets);
  auto out = torch::zeros({B, L, L}, torch::kLong);
  const auto* t = ts.data_ptr<std::int64_t>();
  const auto* m = ok.data_ptr<bool>();
  auto* p = out.data_ptr<std::int64_t>();
  for (std::int64_t b = 0; b < B; ++b) {
    std::int64_t start = 0;  // left padding: the real rows are start .. L-1
    while (start < L && !m[b * L + start]) ++start;
    for (std::int64_t i = start; i < L; ++i) fill_bucket_row(t + b * L + start, i - start, first, p + (b * L + i) * L + start);
  }
  return out;
}

torch::Tensor jagged_causal_pointwise_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                                const torch::Tensor& offsets, const torch::Tensor& position_bias,
                                                double normalizer, const TimeBias* time) {
  TORCH_CHECK(q.dim() == 3 && k.sizes() == q.sizes() && v.dim() == 3 && v.size(0) == q.size(0) && v.size(1) == q.size(1),
              "jagged attention: q, k [T, H, d_qk] and v [T, H, d_v] expected");
  TORCH_CHECK(q.scalar_type() == torch::kFloat && v.scalar_type() == torch::kFloat, "jagged attention: float tensors expected");
  TORCH_CHECK(offsets.dim() == 1 && offsets.scalar_type() == torch::kLong && offsets.size(0) >= 1, "jagged attention: offsets [B+1] int64 expected");
  TORCH_CHECK(offsets[0].item<std::int64_t>() == 0 && offsets[-1].item<std::int64_t>() == q.size(0), "jagged attention: offsets must span 0..T");
  TORCH_CHECK(position_bias.dim() == 1, "jagged attention: position_bias [max_len] expected");
  if (time == nullptr) {
    return JaggedPointwiseAttention::apply(q, k, v, offsets, position_bias, torch::empty({0}, torch::kUInt8),
                                           torch::empty({0}, position_bias.options()), normalizer);
  }
  TORCH_CHECK(time->bias.dim() == 1 && time->bias.numel() >= 1 && time->bias.numel() <= 256,
              "jagged attention: time bias [num_buckets] with 1..256 buckets expected");
  TORCH_CHECK(time->pair_buckets.scalar_type() == torch::kUInt8 && time->pair_buckets.dim() == 1,
              "jagged attention: pair buckets uint8 [sum n^2] expected (packed_pair_time_buckets)");
  return JaggedPointwiseAttention::apply(q, k, v, offsets, position_bias, time->pair_buckets, time->bias, normalizer);
}

torch::Tensor padded_causal_pointwise_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                                const torch::Tensor& valid, const torch::Tensor& position_bias,
                                                double normalizer, const TimeBias* time) {
  const auto L = q.size(2);
  TORCH_CHECK(L <= position_bias.size(0), "padded attention: length ", L, " exceeds max_len ", position_bias.size(0));
  auto positions = torch::arange(L, torch::kLong);
  auto distance = (positions.unsqueeze(1) - positions.unsqueeze(0)).clamp_min(0);  // [L, L], i - j
  auto bias = position_bias.index_select(0, distance.reshape({-1})).view({L, L});
  auto mask = torch::ones({L, L}, torch::kBool).tril().unsqueeze(0) & valid.unsqueeze(1) & valid.unsqueeze(2);  // [B, L, L]
  auto scores = torch::matmul(q, k.transpose(-1, -2)) + bias;  // [B, H, L, L]
  if (time != nullptr) {
    const auto& buckets = time->pair_buckets;  // [B, L, L]
    scores = scores + time->bias.index_select(0, buckets.reshape({-1})).view(buckets.sizes()).unsqueeze(1);
  }
  auto weights = torch::silu(scores) * (mask.unsqueeze(1).to(scores.dtype()) * (1.0 / normalizer));
  return torch::matmul(weights, v);
}

}  // namespace tessera::models
