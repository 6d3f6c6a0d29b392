#pragma once
// HttpClient: a small blocking HTTP/1.1 client for one server (cpp-httplib underneath), keeping
// its connection alive between requests. Used by the load generator (load_generator.h) and the
// serving tests, so both talk to the server exactly the same way.
//
// Not thread-safe: one client per thread.

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tessera::serve {

struct HttpResponse {
  int status = 0;     // HTTP status; 0 = no response (connection refused, reset or timed out)
  std::string body;
  std::string error;  // why there was no response, when status == 0
};

class HttpClient {
 public:
  using Headers = std::vector<std::pair<std::string, std::string>>;

  // timeout bounds connecting, sending and waiting for the answer.
  HttpClient(const std::string& host, int port, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResponse post(const std::string& path, const std::string& body, const Headers& headers = {});
  HttpResponse get(const std::string& path, const Headers& headers = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::serve
