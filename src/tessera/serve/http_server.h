#pragma once
// HttpServer: RecommendService over HTTP/1.1 (cpp-httplib), with keep-alive connections.
// Routes:
//   POST /v1/recommend   api.h request -> answer (200), 4xx, 503
//   GET  /healthz        200 {"status": "ok", ...}; 503 while draining
//   GET  /metrics        Prometheus text (metrics.h)
//   POST /admin/reload   hot reload (service.h); 404 when admin is disabled, 401 without the
//                        token when one is set ("Authorization: Bearer <token>")
// Everything else gets a JSON 404; bodies over max_body_bytes get 413, also as JSON.
//
// Binds to loopback unless told otherwise. serve() blocks; shutdown() (from any thread, not a
// signal handler: see signals.h) stops accepting connections and makes serve() return once every
// request already received has been answered. The RecommendService must outlive the server.

#include <memory>
#include <string>

#include "tessera/serve/service.h"

namespace tessera::serve {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                        // 0 = any free port (HttpServer::bind() returns it)
  int threads = 128;                      // connection threads: each serves one keep-alive connection at a time
  std::size_t max_body_bytes = 1 << 20;   // larger request bodies get 413
  int idle_timeout_s = 2;                 // an idle keep-alive connection is closed after this (also bounds the drain)
  int io_timeout_s = 10;                  // reading a request / writing an answer
  bool admin_enabled = true;              // POST /admin/reload
  std::string admin_token;                // "" = no token needed
};

class HttpServer {
 public:
  HttpServer(RecommendService& service, HttpOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the listening socket. Returns the port. Throws tessera::Error naming host:port.
  int bind();
  // Accepts and answers requests until shutdown(); bind() first. Returns after the drain, or at
  // once if shutdown() came first.
  void serve();
  // Idempotent. The thread running serve() must be joined before the server is destroyed.
  void shutdown();
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::serve
