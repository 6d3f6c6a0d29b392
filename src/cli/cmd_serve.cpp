// tessera serve: answer recommendation requests for a model bundle over HTTP (see README.md).
#include <fmt/format.h>

#include <cstdio>

#include "cli/commands.h"
#include "tessera/core/runtime.h"
#include "tessera/serve/http_server.h"
#include "tessera/serve/service.h"
#include "tessera/serve/signals.h"

namespace tessera::cli {

namespace {
bool is_loopback(const std::string& host) { return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0; }
}  // namespace

void add_serve_command(CLI::App& app) {
  struct Args {
    std::string bundle;
    serve::HttpOptions http;
    serve::ServiceOptions service;
    std::int64_t max_wait_us = 2000, timeout_ms = 10000;
    int threads = 0;
    bool no_admin = false, no_kv_cache = false, fixed_wait = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("serve", "Serve a model bundle over HTTP: POST /v1/recommend, GET /healthz, GET /metrics, POST /admin/reload");
  cmd->add_option("--bundle", args->bundle, "Model bundle written by `tessera export`")->required();
  cmd->add_option("--host", args->http.host, "Address to listen on (default loopback only; 0.0.0.0 = every interface)")->capture_default_str();
  cmd->add_option("--port", args->http.port, "TCP port (0 = any free port, printed at start)")->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->add_option("--max-batch-size", args->service.batching.max_batch_size, "Histories per model call (1 = no batching)")
      ->capture_default_str()->check(CLI::Range(1, 4096));
  cmd->add_option("--max-wait-us", args->max_wait_us, "Longest a request waits for others to share its batch, microseconds")
      ->capture_default_str()->check(CLI::Range(0, 1000000));
  cmd->add_flag("--no-adaptive-wait", args->fixed_wait,
                "Always wait the full --max-wait-us for a full batch (default: wait only for as many requests as recently were in flight)");
  cmd->add_option("--workers", args->service.batching.workers, "Batch workers, each with its own model replica")
      ->capture_default_str()->check(CLI::Range(1, 64));
  cmd->add_option("--queue-limit", args->service.batching.max_queued, "Histories allowed to wait; more get 503")
      ->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--timeout-ms", args->timeout_ms, "Request timeout: not answered within it -> 503")->capture_default_str()->check(CLI::Range(1, 3600000));
  cmd->add_option("--max-k", args->service.limits.max_k, "Largest k a request may ask for")->capture_default_str()->check(CLI::Range(1, 100000));
  cmd->add_option("--max-body-bytes", args->http.max_body_bytes, "Largest request body; larger -> 413")->capture_default_str();
  cmd->add_option("--http-threads", args->http.threads, "Connection threads (at least the number of concurrent clients)")
      ->capture_default_str()->check(CLI::Range(1, 4096));
  cmd->add_option("--threads", args->threads, "libtorch intra-op threads (default: all cores)")->check(CLI::Range(1, 256));
  cmd->add_flag("--no-admin", args->no_admin, "Disable POST /admin/reload (SIGHUP still reloads)");
  cmd->add_option("--admin-token", args->http.admin_token, "Require 'Authorization: Bearer TOKEN' on admin endpoints");
  cmd->add_flag("--no-kv-cache", args->no_kv_cache, "TIGER: decode without the KV cache (for comparisons only)");
  cmd->callback([args] {
    if (args->threads > 0) init_runtime(args->threads);
    args->service.batching.max_wait = std::chrono::microseconds(args->max_wait_us);
    args->service.batching.adaptive_wait = !args->fixed_wait;
    args->service.request_timeout = std::chrono::milliseconds(args->timeout_ms);
    args->service.kv_cache = !args->no_kv_cache;
    args->http.admin_enabled = !args->no_admin;
    if (args->http.admin_enabled && args->http.admin_token.empty() && !is_loopback(args->http.host)) {
      args->http.admin_enabled = false;
      std::fprintf(stderr, "[serve] listening beyond loopback without --admin-token: POST /admin/reload is disabled (SIGHUP still reloads)\n");
    }
    serve::RecommendService service(args->bundle, args->service);
    serve::HttpServer server(service, args->http);
    const int port = server.bind();
    serve::SignalWatcher signals(
        [&] {
          std::fprintf(stderr, "[serve] SIGTERM: no new connections; finishing requests in flight\n");
          server.shutdown();
        },
        [&] {
          const auto reply = service.reload_bundle("");
          std::fprintf(stderr, "[serve] SIGHUP reload: %d %s\n", reply.status, reply.body.c_str());
        });
    const auto model = service.model();
    std::fprintf(stderr, "[serve] %s (version %s, %d items) on http://%s:%d  batch<=%zu wait<=%lldus workers=%d threads=%d admin=%s\n",
                 model->name().c_str(), model->version().c_str(), model->items().num_items(), args->http.host.c_str(), port,
                 args->service.batching.max_batch_size, static_cast<long long>(args->max_wait_us), args->service.batching.workers,
                 runtime_threads(), !args->http.admin_enabled ? "off" : args->http.admin_token.empty() ? "on" : "token");
    std::fflush(stderr);
    server.serve();
    service.stop();
    std::fprintf(stderr, "[serve] stopped: %llu requests answered with 200\n",
                 static_cast<unsigned long long>(service.metrics().requests_with_status(200)));
  });
}

}  // namespace tessera::cli
