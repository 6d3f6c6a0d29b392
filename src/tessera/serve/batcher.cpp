#include "tessera/serve/batcher.h"

#include <algorithm>
#include <exception>

#include "tessera/core/error.h"

namespace tessera::serve {

namespace {
using Clock = std::chrono::steady_clock;

bool compatible(const BatchJob& a, const BatchJob& b) { return a.model == b.model && a.key == b.key; }
}  // namespace

DynamicBatcher::DynamicBatcher(BatchingOptions options, ServerMetrics* metrics) : options_(options), metrics_(metrics) {
  if (options_.max_batch_size < 1) throw Error("serve: max batch size must be at least 1");
  if (options_.workers < 1) throw Error("serve: at least one batch worker is needed");
  for (int w = 0; w < options_.workers; ++w) workers_.emplace_back([this, w] { work(w); });
}

DynamicBatcher::~DynamicBatcher() { stop(); }

DynamicBatcher::Admission DynamicBatcher::submit(std::shared_ptr<BatchJob> job) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return Admission::kStopped;
    const auto size = job->histories.size();
    if (queued_histories_ > 0 && queued_histories_ + size > options_.max_queued) return Admission::kQueueFull;
    job->enqueued = Clock::now();
    queued_histories_ += size;
    in_flight_histories_ += size;
    peak_in_flight_ = std::max(peak_in_flight_, in_flight_histories_);
    queue_.push_back(std::move(job));
  }
  changed_.notify_all();
  return Admission::kQueued;
}

std::size_t DynamicBatcher::queued_histories() const {
  std::lock_guard lock(mutex_);
  return queued_histories_;
}

void DynamicBatcher::stop() {
  std::lock_guard stop_lock(stop_mutex_);  // two callers must not join the same threads
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
}

std::vector<std::shared_ptr<BatchJob>> DynamicBatcher::take_batch() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return !queue_.empty() || stopping_; });
    if (queue_.empty()) return {};  // stopping, nothing left
    const auto first = queue_.front();
    // Histories that could join the oldest job's batch now.
    std::size_t ready = 0;
    for (const auto& job : queue_) {
      if (compatible(*job, *first)) ready += job->histories.size();
    }
    const auto wait_until = first->enqueued + options_.max_wait;
    const auto wanted = options_.adaptive_wait ? std::min(options_.max_batch_size, peak_in_flight_) : options_.max_batch_size;
    if (ready < wanted && !stopping_ && Clock::now() < wait_until) {
      changed_.wait_until(lock, wait_until);
      continue;  // the queue changed (or time is up): look again, the front may be another job now
    }
    std::vector<std::shared_ptr<BatchJob>> batch;
    std::size_t histories = 0;
    for (auto it = queue_.begin(); it != queue_.end();) {
      const auto size = (*it)->histories.size();
      if (compatible(**it, *first) && (batch.empty() || histories + size <= options_.max_batch_size)) {
        histories += size;
        batch.push_back(std::move(*it));
        it = queue_.erase(it);
        if (histories >= options_.max_batch_size) break;
      } else {
        ++it;
      }
    }
    queued_histories_ -= histories;
    peak_in_flight_ = in_flight_histories_;
    return batch;
  }
}

void DynamicBatcher::work(int worker) {
  for (;;) {
    auto batch = take_batch();
    if (batch.empty()) return;
    run_batch(worker, batch);
  }
}

void DynamicBatcher::run_batch(int worker, const std::vector<std::shared_ptr<BatchJob>>& batch) {
  const auto start = Clock::now();
  std::vector<BatchOutcome> outcomes(batch.size());
  std::vector<std::span<const std::int32_t>> histories;
  infer::Timestamps timestamps;  // filled only for models that read time (every job then has them)
  std::size_t taken = 0;
  for (std::size_t j = 0; j < batch.size(); ++j) {
    taken += batch[j]->histories.size();
    if (start > batch[j]->deadline) {
      outcomes[j].status = BatchOutcome::Status::kExpired;  // its client has been told 503 already
    } else {
      for (const auto& h : batch[j]->histories) histories.emplace_back(h);
      for (const auto& t : batch[j]->timestamps) timestamps.emplace_back(t);
    }
  }
  if (!histories.empty()) {
    const auto& first = *batch.front();
    std::vector<std::vector<infer::ScoredItem>> lists;
    std::string error;
    try {
      lists = first.model->recommend(worker, histories, first.k, first.exclude_history,
                                     first.model->uses_time() ? &timestamps : nullptr);
      if (lists.size() != histories.size()) {
        error = "model returned " + std::to_string(lists.size()) + " lists for " + std::to_string(histories.size()) + " histories";
      }
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (metrics_) metrics_->observe_batch(histories.size(), std::chrono::duration<double>(Clock::now() - start).count());
    std::size_t next = 0;
    for (std::size_t j = 0; j < batch.size(); ++j) {
      auto& outcome = outcomes[j];
      if (outcome.status == BatchOutcome::Status::kExpired) continue;
      outcome.batch_histories = histories.size();
      if (!error.empty()) {
        outcome.status = BatchOutcome::Status::kFailed;
        outcome.error = error;
        continue;
      }
      for (std::size_t h = 0; h < batch[j]->histories.size(); ++h) outcome.lists.push_back(std::move(lists[next++]));
    }
  }
  {
    // Out of flight before the clients hear back, so their next requests count afresh.
    std::lock_guard lock(mutex_);
    in_flight_histories_ -= taken;
  }
  for (std::size_t j = 0; j < batch.size(); ++j) batch[j]->outcome.set_value(std::move(outcomes[j]));
}

}  // namespace tessera::serve
