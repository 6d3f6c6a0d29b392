#pragma once
// Shared by the serving tests: a tiny synthetic dataset with titles and original IDs, tiny SASRec
// and TIGER models trained on it once per test binary, their bundles, and an in-process server on
// a free loopback port.

#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "tessera/bundle/bundle.h"
#include "tessera/data/dataset.h"
#include "tessera/serve/http_server.h"
#include "tessera/serve/service.h"

namespace tessera::testing {

// 120 users over 80 items; original IDs "sku-<n>"; titles "Item <n>"; category attributes;
// timestamps with gaps from a minute to weeks.
const data::Dataset& serve_dataset();

// The directory all artefacts of this test binary go to (removed at exit).
std::string serve_dir();

// Paths, trained and exported on first use: the dataset file, SASRec (seed 1 and seed 2, so a
// reload visibly changes answers) and TIGER checkpoints and bundles.
const std::string& dataset_file();
const std::string& sasrec_checkpoint();
const std::string& sasrec_bundle();
const std::string& sasrec_bundle_seed2();
const std::string& tiger_checkpoint();
const std::string& tiger_bundle();
// A tiny HSTU with time buckets (its requests must carry timestamps).
const std::string& hstu_time_checkpoint();
const std::string& hstu_time_bundle();

// A server for a bundle, started on construction and drained on destruction.
class TestServer {
 public:
  TestServer(const std::string& bundle, serve::ServiceOptions service_options = {}, serve::HttpOptions http_options = {});
  ~TestServer();
  int port() const { return port_; }
  serve::RecommendService& service() { return *service_; }
  // Stops accepting and drains (as SIGTERM does); returns when serve() has returned.
  void shutdown();

 private:
  std::unique_ptr<serve::RecommendService> service_;
  std::unique_ptr<serve::HttpServer> http_;
  std::thread serving_;
  int port_ = 0;
};

}  // namespace tessera::testing
