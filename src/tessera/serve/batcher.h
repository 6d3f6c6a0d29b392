#pragma once
// Dynamic batching: requests arriving concurrently are queued, and each batch worker takes the
// oldest request plus every queued request that may share its model call (same ServedModel and
// batch key), up to max_batch_size histories, then answers them all with one
// ServedModel::recommend call. max_batch_size = 1 turns batching off.
//
// How long a worker waits for company: never past max_wait after the oldest request arrived, and
// with adaptive_wait only while company can be expected, i.e. until the batch holds as many
// histories as were in flight (queued or being computed) since the previous batch was taken. So
// a lone client is never delayed by max_wait, and under a steady load of N concurrent clients a
// batch starts as soon as the N-th request is in, not when max_wait runs out. Under heavy load
// the queue refills while a batch runs, so the next batch starts at once.
//
// Worker i only uses the model replica i (ServedModel), so workers never share a LoadedModel;
// libtorch's intra-op threads parallelise the math inside each call.
//
// Thread-safe: submit() from any number of threads.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tessera/infer/retrieval.h"
#include "tessera/serve/metrics.h"
#include "tessera/serve/served_model.h"

namespace tessera::serve {

struct BatchingOptions {
  std::size_t max_batch_size = 32;           // histories per model call; 1 = no batching
  std::chrono::microseconds max_wait{2000};  // longest the oldest request waits for company
  bool adaptive_wait = true;                 // wait only for the company recent load promises (above)
  std::size_t max_queued = 1024;             // histories waiting; submit() refuses more (the server answers 503)
  int workers = 1;                           // batch workers = model replicas
};

// How one job ended.
struct BatchOutcome {
  enum class Status { kDone, kExpired, kFailed };
  Status status = Status::kDone;
  std::vector<std::vector<infer::ScoredItem>> lists;  // kDone: one list per history, in order
  std::string error;                                  // kFailed: what went wrong
  std::size_t batch_histories = 0;                    // size of the model call that answered it
};

// One request's work: its histories are answered together, by one model call.
struct BatchJob {
  std::shared_ptr<ServedModel> model;                // the model that validated the request
  std::vector<std::vector<std::int32_t>> histories;  // internal item IDs, none empty
  std::vector<std::vector<std::int64_t>> timestamps;  // one list per history when model->uses_time(), else empty
  std::int64_t k = 10;
  bool exclude_history = false;
  std::string key;                                   // model->batch_key(k, exclude_history)
  std::chrono::steady_clock::time_point deadline;    // not started by then: kExpired
  std::chrono::steady_clock::time_point enqueued;    // set by submit()
  std::promise<BatchOutcome> outcome;                // fulfilled exactly once by a worker
};

class DynamicBatcher {
 public:
  // metrics may be nullptr. Starts options.workers worker threads.
  DynamicBatcher(BatchingOptions options, ServerMetrics* metrics);
  ~DynamicBatcher();
  DynamicBatcher(const DynamicBatcher&) = delete;
  DynamicBatcher& operator=(const DynamicBatcher&) = delete;

  enum class Admission { kQueued, kQueueFull, kStopped };
  // Queues the job (its outcome is then always fulfilled), or refuses it when max_queued
  // histories are already waiting or stop() was called (the outcome is then never fulfilled).
  // A job larger than max_queued is admitted only into an empty queue.
  Admission submit(std::shared_ptr<BatchJob> job);

  std::size_t queued_histories() const;
  const BatchingOptions& options() const { return options_; }

  // Refuses new jobs, lets the workers answer every queued job, and joins them. Idempotent.
  void stop();

 private:
  void work(int worker);
  // Waits for a batch and takes it off the queue; empty when stopping with nothing queued.
  std::vector<std::shared_ptr<BatchJob>> take_batch();
  void run_batch(int worker, const std::vector<std::shared_ptr<BatchJob>>& batch);

  const BatchingOptions options_;
  ServerMetrics* metrics_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::shared_ptr<BatchJob>> queue_;
  std::size_t queued_histories_ = 0;
  std::size_t in_flight_histories_ = 0;  // queued or in a running batch
  std::size_t peak_in_flight_ = 0;       // most in flight since the last batch was taken
  bool stopping_ = false;
  std::mutex stop_mutex_;  // serialises stop()
  std::vector<std::thread> workers_;
};

}  // namespace tessera::serve
