#include "tessera/serve/http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <limits>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "tessera/core/error.h"

namespace tessera::serve {

namespace {

constexpr const char* kJson = "application/json";

void send(httplib::Response& res, const Reply& reply) {
  res.status = reply.status;
  res.set_content(reply.body, kJson);
}

// The route a request counts under in /metrics (unknown paths share one label, so a scanner
// cannot grow the metric without bound).
std::string route_label(const std::string& path) {
  for (const char* known : {"/v1/recommend", "/healthz", "/metrics", "/admin/reload"}) {
    if (path == known) return path;
  }
  return "other";
}

}  // namespace

struct HttpServer::Impl {
  RecommendService& service;
  HttpOptions options;
  httplib::Server server;
  int port = -1;
  int listen_fd = -1;              // the listening socket, seen by the socket-options hook
  std::mutex lifecycle;            // orders serve()'s start against shutdown()
  bool stop_requested = false;     // guarded by lifecycle
  std::atomic<bool> serving{false};

  Impl(RecommendService& s, HttpOptions o) : service(s), options(std::move(o)) {}

  bool admin_allowed(const httplib::Request& req, httplib::Response& res) const {
    if (!options.admin_enabled) {
      send(res, {404, error_body(404, "admin endpoints are disabled on this server")});
      return false;
    }
    if (!options.admin_token.empty() && req.get_header_value("Authorization") != "Bearer " + options.admin_token) {
      send(res, {401, error_body(401, "admin endpoint needs 'Authorization: Bearer <token>'")});
      return false;
    }
    return true;
  }

  void configure() {
    const int threads = options.threads;
    server.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
    server.set_payload_max_length(options.max_body_bytes);
    server.set_keep_alive_max_count(std::numeric_limits<std::size_t>::max() / 2);
    server.set_keep_alive_timeout(options.idle_timeout_s);
    server.set_read_timeout(options.io_timeout_s);
    server.set_write_timeout(options.io_timeout_s);
    server.set_tcp_nodelay(true);
    // httplib's default also sets SO_REUSEPORT, which would let a second server bind a port in use.
    server.set_socket_options([this](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
      listen_fd = sock;
    });

    server.Post("/v1/recommend", [this](const httplib::Request& req, httplib::Response& res) { send(res, service.recommend(req.body)); });
    server.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) { send(res, service.health()); });
    server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(service.metrics_text(), "text/plain; version=0.0.4; charset=utf-8");
    });
    server.Post("/admin/reload", [this](const httplib::Request& req, httplib::Response& res) {
      if (admin_allowed(req, res)) send(res, service.reload(req.body));
    });
    // Statuses httplib sets itself (404 no route, 413 body too large, 400 unreadable request)
    // get a JSON body too.
    server.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      std::string message;
      switch (res.status) {
        case 404: message = fmt::format("no route {} {}", req.method, req.path); break;
        case 413: message = "request body too large"; break;
        case 400: message = "malformed HTTP request (a POST needs Content-Length or a chunked body)"; break;
        default: message = fmt::format("HTTP {}", res.status); break;
      }
      res.set_content(error_body(res.status, message), kJson);
    });
    server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
      std::string message = "internal error";
      try {
        if (error) std::rethrow_exception(error);
      } catch (const std::exception& e) {
        message += std::string(": ") + e.what();
      } catch (...) {
      }
      res.status = 500;
      res.set_content(error_body(500, message), kJson);
    });
    // Counted just before the response is written (httplib's logger runs after it), so a client
    // that reads /metrics after an answer always finds that answer counted.
    server.set_post_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      service.metrics().count_request(route_label(req.path), res.status);
    });
  }
};

HttpServer::HttpServer(RecommendService& service, HttpOptions options) : impl_(std::make_unique<Impl>(service, std::move(options))) {
  impl_->configure();
}

HttpServer::~HttpServer() { shutdown(); }

int HttpServer::bind() {
  auto& o = impl_->options;
  if (o.port == 0) {
    impl_->port = impl_->server.bind_to_any_port(o.host);
  } else {
    impl_->port = impl_->server.bind_to_port(o.host, o.port) ? o.port : -1;
  }
  if (impl_->port < 0) throw Error(fmt::format("serve: cannot listen on {}:{} (in use, or not an address of this machine?)", o.host, o.port));
  // httplib listens with a backlog of 5: a burst of new connections (64 clients starting at
  // once) would overflow it and wait for SYN retransmits. Listening again raises the backlog.
  if (impl_->listen_fd >= 0) ::listen(impl_->listen_fd, SOMAXCONN);
  return impl_->port;
}

void HttpServer::serve() {
  if (impl_->port < 0) throw Error("serve: bind() before serve()");
  {
    std::lock_guard lock(impl_->lifecycle);
    if (impl_->stop_requested) return;
    impl_->serving = true;
  }
  impl_->server.listen_after_bind();  // returns after stop(), once its connection threads have finished
  impl_->serving = false;
}

void HttpServer::shutdown() {
  std::lock_guard lock(impl_->lifecycle);
  if (impl_->stop_requested) return;
  impl_->stop_requested = true;
  // httplib's stop() only acts once the accept loop runs; serve() may be just about to start it.
  while (impl_->serving && !impl_->server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  impl_->server.stop();
}

int HttpServer::port() const { return impl_->port; }

}  // namespace tessera::serve
