#pragma once
// RecommendService: the server's behaviour without HTTP. It owns the model now serving, the
// dynamic batcher and the metrics, and answers each endpoint with a status and a JSON body, so
// the HTTP layer (http_server.h) only routes and the rules live here:
//   recommend  validate (api.h) -> queue (batcher.h) -> wait until answered or timed out
//   reload     load a bundle next to the serving one, swap only if it loaded; a bad bundle
//              leaves the old model serving and the error is returned
//   health     model identity and queue depth; 503 once draining
// Every method is thread-safe.

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "tessera/serve/api.h"
#include "tessera/serve/batcher.h"
#include "tessera/serve/metrics.h"
#include "tessera/serve/served_model.h"

namespace tessera::serve {

struct ServiceOptions {
  BatchingOptions batching;
  ApiLimits limits;
  std::chrono::milliseconds request_timeout{10000};  // queued longer than this: 503
  bool kv_cache = true;                              // TIGER decoding with the KV cache
};

struct Reply {
  int status = 200;
  std::string body;  // JSON
};

class RecommendService {
 public:
  // Loads the bundle and starts the batch workers. Throws tessera::Error naming the file.
  RecommendService(const std::string& bundle_path, ServiceOptions options);
  ~RecommendService();
  RecommendService(const RecommendService&) = delete;
  RecommendService& operator=(const RecommendService&) = delete;

  // POST /v1/recommend. 200 with the answer; 4xx from api.h; 503 when the queue is full, the
  // request timed out, or the service is draining. Blocks the calling thread until then.
  Reply recommend(std::string_view body);

  // POST /admin/reload. body: "" or {"bundle": "path"} (default: the serving bundle's path,
  // re-read). 200 with the new model's identity; 400 for a malformed body; 422 if the bundle
  // does not load (the old model keeps serving). One reload at a time.
  Reply reload(std::string_view body);
  // The same from code (SIGHUP): reloads `bundle_path` ("" = the serving bundle's path).
  Reply reload_bundle(const std::string& bundle_path);

  Reply health() const;             // GET /healthz
  std::string metrics_text() const;  // GET /metrics
  ServerMetrics& metrics() { return metrics_; }

  std::shared_ptr<ServedModel> model() const;

  // Refuses new requests (503), answers every queued one, joins the workers. Idempotent.
  void stop();

 private:
  ServiceOptions options_;
  ServerMetrics metrics_;
  mutable std::mutex model_mutex_;
  std::shared_ptr<ServedModel> model_;  // guarded by model_mutex_
  std::mutex reload_mutex_;             // one reload at a time
  std::atomic<bool> draining_{false};
  std::chrono::steady_clock::time_point started_;
  DynamicBatcher batcher_;  // last: its workers stop first
};

}  // namespace tessera::serve
