#include "tessera/serve/service.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "tessera/core/error.h"

namespace tessera::serve {

namespace {

using Clock = std::chrono::steady_clock;

std::string dump(const nlohmann::json& json) { return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

Reply error_reply(int status, std::string_view message) { return {status, error_body(status, message)}; }

double ms_since(Clock::time_point start) { return std::chrono::duration<double, std::milli>(Clock::now() - start).count(); }

}  // namespace

RecommendService::RecommendService(const std::string& bundle_path, ServiceOptions options)
    : options_(options),
      model_(ServedModel::load(bundle_path, {options.batching.workers, options.kv_cache})),
      started_(Clock::now()),
      batcher_(options.batching, &metrics_) {}

RecommendService::~RecommendService() { stop(); }

std::shared_ptr<ServedModel> RecommendService::model() const {
  std::lock_guard lock(model_mutex_);
  return model_;
}

Reply RecommendService::recommend(std::string_view body) {
  const auto arrived = Clock::now();
  Reply reply = [&]() -> Reply {
    if (draining_) return error_reply(503, "server is shutting down");
    auto job = std::make_shared<BatchJob>();
    job->model = model();
    RecommendRequest request;
    try {
      request = parse_recommend_request(body, job->model->items(), options_.limits);
    } catch (const ApiError& e) {
      return error_reply(e.status(), e.what());
    }
    if (job->model->uses_time()) {
      if (request.timestamps.empty()) {
        return error_reply(422, fmt::format("model '{}' was trained with time buckets: send 'timestamps', one time in seconds per history item",
                                            job->model->name()));
      }
      job->timestamps = std::move(request.timestamps);
    }
    job->histories = std::move(request.histories);
    job->k = request.k;
    job->exclude_history = request.exclude_history;
    job->key = job->model->batch_key(job->k, job->exclude_history);
    job->deadline = arrived + options_.request_timeout;
    auto outcome_future = job->outcome.get_future();
    switch (batcher_.submit(job)) {
      case DynamicBatcher::Admission::kQueued:
        break;
      case DynamicBatcher::Admission::kQueueFull:
        return error_reply(503, fmt::format("server overloaded: {} histories already queued (limit {}); retry later",
                                            batcher_.queued_histories(), batcher_.options().max_queued));
      case DynamicBatcher::Admission::kStopped:
        return error_reply(503, "server is shutting down");
    }
    if (outcome_future.wait_until(job->deadline) != std::future_status::ready) {
      return error_reply(503, fmt::format("request timed out after {} ms in the queue", options_.request_timeout.count()));
    }
    auto outcome = outcome_future.get();
    if (outcome.status == BatchOutcome::Status::kExpired) {
      return error_reply(503, fmt::format("request timed out after {} ms in the queue", options_.request_timeout.count()));
    }
    if (outcome.status == BatchOutcome::Status::kFailed) return error_reply(500, "model failed: " + outcome.error);
    nlohmann::json answer;
    const auto* ids = job->model->semantic_ids();
    if (request.batch_form) {
      answer["results"] = nlohmann::json::array();
      for (const auto& list : outcome.lists) answer["results"].push_back({{"items", render_items(list, job->model->items(), ids)}});
    } else {
      answer["items"] = render_items(outcome.lists.front(), job->model->items(), ids);
    }
    answer["model"] = job->model->name();
    answer["model_version"] = job->model->version();
    answer["batch_size"] = outcome.batch_histories;
    answer["latency_ms"] = ms_since(arrived);
    return {200, dump(answer)};
  }();
  metrics_.observe_request_seconds(std::chrono::duration<double>(Clock::now() - arrived).count());
  return reply;
}

Reply RecommendService::reload(std::string_view body) {
  std::string path;
  if (body.find_first_not_of(" \t\r\n") != std::string_view::npos) {
    const auto json = nlohmann::json::parse(body, nullptr, false);
    if (json.is_discarded() || !json.is_object()) return error_reply(400, "reload body must be empty or a JSON object {\"bundle\": \"path\"}");
    for (const auto& [key, value] : json.items()) {
      if (key != "bundle") return error_reply(400, fmt::format("unknown field '{}' (known: bundle)", key));
      if (!value.is_string() || value.get<std::string>().empty()) return error_reply(400, "'bundle' must be a non-empty path string");
      path = value.get<std::string>();
    }
  }
  return reload_bundle(path);
}

Reply RecommendService::reload_bundle(const std::string& bundle_path) {
  std::lock_guard reload_lock(reload_mutex_);
  const auto start = Clock::now();
  auto current = model();
  const std::string path = bundle_path.empty() ? current->bundle_path() : bundle_path;
  std::shared_ptr<ServedModel> loaded;
  try {
    loaded = ServedModel::load(path, {options_.batching.workers, options_.kv_cache});
  } catch (const std::exception& e) {
    metrics_.count_reload(false);
    return {422, dump({{"error", std::string("reload failed, still serving the previous model: ") + e.what()},
                       {"status", 422},
                       {"model", current->name()},
                       {"model_version", current->version()},
                       {"bundle", current->bundle_path()}})};
  }
  {
    std::lock_guard lock(model_mutex_);
    model_ = loaded;
  }
  metrics_.count_reload(true);
  return {200, dump({{"status", "reloaded"},
                     {"model", loaded->name()},
                     {"model_version", loaded->version()},
                     {"previous_version", current->version()},
                     {"bundle", loaded->bundle_path()},
                     {"load_ms", ms_since(start)}})};
}

Reply RecommendService::health() const {
  auto current = model();
  nlohmann::json body = {{"status", draining_ ? "draining" : "ok"},
                         {"model", current->name()},
                         {"model_version", current->version()},
                         {"bundle", current->bundle_path()},
                         {"num_items", current->items().num_items()},
                         {"queue_depth", batcher_.queued_histories()},
                         {"uptime_s", std::chrono::duration<double>(Clock::now() - started_).count()}};
  return {draining_ ? 503 : 200, dump(body)};
}

std::string RecommendService::metrics_text() const {
  auto current = model();
  return metrics_.render(current->name(), current->version(), current->bundle_path(), batcher_.queued_histories());
}

void RecommendService::stop() {
  draining_ = true;
  batcher_.stop();
}

}  // namespace tessera::serve
