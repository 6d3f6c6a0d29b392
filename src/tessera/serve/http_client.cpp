#include "tessera/serve/http_client.h"

#include <httplib.h>

namespace tessera::serve {

namespace {

httplib::Headers to_headers(const HttpClient::Headers& headers) {
  httplib::Headers out;
  for (const auto& [k, v] : headers) out.emplace(k, v);
  return out;
}

HttpResponse to_response(const httplib::Result& result) {
  HttpResponse response;
  if (!result) {
    response.error = httplib::to_string(result.error());
    return response;
  }
  response.status = result->status;
  response.body = result->body;
  return response;
}

}  // namespace

struct HttpClient::Impl {
  httplib::Client client;
  Impl(const std::string& host, int port) : client(host, port) {}
};

HttpClient::HttpClient(const std::string& host, int port, std::chrono::milliseconds timeout) : impl_(std::make_unique<Impl>(host, port)) {
  auto& c = impl_->client;
  c.set_keep_alive(true);
  c.set_tcp_nodelay(true);
  c.set_connection_timeout(timeout);
  c.set_read_timeout(timeout);
  c.set_write_timeout(timeout);
}

HttpClient::~HttpClient() = default;

HttpResponse HttpClient::post(const std::string& path, const std::string& body, const Headers& headers) {
  return to_response(impl_->client.Post(path.c_str(), to_headers(headers), body, "application/json"));
}

HttpResponse HttpClient::get(const std::string& path, const Headers& headers) {
  return to_response(impl_->client.Get(path.c_str(), to_headers(headers)));
}

}  // namespace tessera::serve
