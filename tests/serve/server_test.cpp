// The HTTP API over real loopback connections: the contract, every bad-request case, limits
// (503), admin protection, hot reload under load, draining shutdown, and answers identical to
// infer::LoadedModel::recommend (what `tessera recommend` prints) for the same histories.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "serve/serve_fixture.h"
#include "tessera/infer/model_loader.h"
#include "tessera/serve/http_client.h"

namespace tessera::testing {
namespace {

using nlohmann::json;
using serve::HttpClient;
using serve::HttpResponse;

HttpResponse post(int port, const std::string& body, const std::string& path = "/v1/recommend", const HttpClient::Headers& headers = {}) {
  HttpClient client("127.0.0.1", port);
  return client.post(path, body, headers);
}

json parse(const HttpResponse& r) {
  auto j = json::parse(r.body, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "status " << r.status << " body: " << r.body;
  return j;
}

// The lists LoadedModel::recommend gives for the same histories, one call per history, from the
// original checkpoint (not the bundle).
std::vector<std::vector<infer::ScoredItem>> reference(const std::string& checkpoint, const std::vector<std::vector<std::int32_t>>& histories,
                                                      std::int64_t k, bool exclude) {
  auto model = infer::LoadedModel::load(checkpoint, &serve_dataset());
  std::vector<std::vector<infer::ScoredItem>> out;
  for (const auto& h : histories) {
    std::vector<std::span<const std::int32_t>> one{std::span<const std::int32_t>(h)};
    out.push_back(model.recommend({}, one, k, exclude)[0]);
  }
  return out;
}

void expect_same(const json& items, const std::vector<infer::ScoredItem>& expected, const std::string& what) {
  ASSERT_EQ(items.size(), expected.size()) << what;
  for (std::size_t j = 0; j < expected.size(); ++j) {
    EXPECT_EQ(items[j]["item"].get<int>(), expected[j].item) << what << " rank " << j;
    EXPECT_NEAR(items[j]["score"].get<double>(), expected[j].score, 1e-4) << what << " rank " << j;
  }
}

std::vector<std::vector<std::int32_t>> sample_histories() {
  const auto& d = serve_dataset();
  std::vector<std::vector<std::int32_t>> out;
  for (std::int64_t u = 0; u < 24; ++u) {
    auto seq = d.sequence(u * 5);
    out.emplace_back(seq.begin(), seq.end() - 1);
  }
  return out;
}

TEST(ServeApiTest, AnswersSingleAndBatchRequests) {
  TestServer server(sasrec_bundle());
  const auto& d = serve_dataset();
  auto r = post(server.port(), R"({"history": [3, 7, "sku-12"], "k": 5, "exclude_history": true})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto answer = parse(r);
  EXPECT_EQ(answer["model"], "sasrec");
  EXPECT_EQ(answer["model_version"], "sasrec-v1");
  EXPECT_GE(answer["latency_ms"].get<double>(), 0.0);
  ASSERT_EQ(answer["items"].size(), 5u);
  double previous = 1e30;
  for (const auto& item : answer["items"]) {
    const int id = item["item"];
    ASSERT_GE(id, 1);
    ASSERT_LE(id, d.num_items);
    EXPECT_NE(id, 3);
    EXPECT_NE(id, 7);
    EXPECT_NE(id, 12);
    EXPECT_EQ(item["original_id"], d.item_ids[id]);
    EXPECT_EQ(item["title"], d.item_metadata[id].title);
    EXPECT_LE(item["score"].get<double>(), previous);
    previous = item["score"];
    EXPECT_FALSE(item.contains("semantic_id"));  // item-ID models have none
  }
  // Original IDs given as numbers with original_ids: the dataset's own IDs here are strings, so
  // "sku-3" is found only as a string; numbers are internal IDs by default.
  auto same = post(server.port(), R"({"history": ["sku-3", "sku-7", 12], "k": 5, "exclude_history": true})");
  ASSERT_EQ(same.status, 200);
  EXPECT_EQ(parse(same)["items"], answer["items"]);

  auto batch = post(server.port(), R"({"histories": [[3, 7, 12], [40], [1, 2]], "k": 4})");
  ASSERT_EQ(batch.status, 200) << batch.body;
  auto results = parse(batch)["results"];
  ASSERT_EQ(results.size(), 3u);
  for (const auto& result : results) EXPECT_EQ(result["items"].size(), 4u);

  auto health = HttpClient("127.0.0.1", server.port()).get("/healthz");
  ASSERT_EQ(health.status, 200);
  EXPECT_EQ(parse(health)["status"], "ok");
  EXPECT_EQ(parse(health)["num_items"], d.num_items);

  auto metrics = HttpClient("127.0.0.1", server.port()).get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  for (const char* expected : {"tessera_serve_requests_total{path=\"/v1/recommend\",status=\"200\"} 3",
                               "# TYPE tessera_serve_request_duration_seconds histogram",
                               "tessera_serve_request_duration_seconds_bucket{le=\"+Inf\"} 3", "tessera_serve_batch_size_bucket",
                               "tessera_serve_model_info{model=\"sasrec\",version=\"sasrec-v1\"", "tessera_serve_queue_depth 0"}) {
    EXPECT_NE(metrics.body.find(expected), std::string::npos) << expected << "\n" << metrics.body;
  }
}

TEST(ServeApiTest, EveryBadRequestGetsA4xxJsonError) {
  serve::HttpOptions http;
  http.max_body_bytes = 4096;
  TestServer server(sasrec_bundle(), {}, http);
  struct Case {
    std::string body;
    int status;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"{\"history\": [1, 2", 400, "not valid JSON"},
      {"", 400, "not valid JSON"},
      {"[1, 2, 3]", 400, "must be a JSON object"},
      {R"({"history": "1 2 3"})", 400, "'history' must be an array"},
      {R"({"history": [1, 2.5]})", 400, "history[1]: expected an item ID"},
      {R"({"history": [1, null]})", 400, "history[1]: expected an item ID"},
      {R"({"history": [1], "k": "10"})", 400, "'k' must be an integer"},
      {R"({"history": [1], "exclude_history": 1})", 400, "'exclude_history' must be true or false"},
      {R"({"history": [1], "exclude_histroy": true})", 400, "unknown field 'exclude_histroy'"},
      {R"({"k": 10})", 400, "exactly one of 'history'"},
      {R"({"history": [1], "histories": [[1]]})", 400, "exactly one of 'history'"},
      {R"({"histories": [1, 2]})", 400, "'histories[0]' must be an array"},
      {R"({"history": [1, 999]})", 422, "history[1]: unknown internal item ID 999"},
      {R"({"history": [0]})", 422, "unknown internal item ID 0"},
      {R"({"history": ["sku-999"]})", 422, "unknown original item ID \"sku-999\""},
      {R"({"history": [12], "original_ids": true})", 422, "unknown original item ID \"12\""},
      {R"({"history": []})", 422, "'history' is empty"},
      {R"({"histories": [[1], []]})", 422, "'histories[1]' is empty"},
      {R"({"histories": []})", 422, "'histories' is empty"},
      {R"({"history": [1], "k": 0})", 422, "'k' must be in 1..80"},
      {R"({"history": [1], "k": 81})", 422, "'k' must be in 1..80"},
      {R"({"history": [1], "k": -3})", 422, "'k' must be in 1..80"},
      {R"({"history": [1, 2], "timestamps": [5]})", 422, "'timestamps' has 1 entries but its history has 2"},
      {R"({"history": [1, 2], "timestamps": [9, 5]})", 422, "timestamps[1]: times must not decrease"},
      {R"({"history": [1, 2], "timestamps": [9, "10"]})", 400, "timestamps[1]: expected an integer time"},
      {R"({"histories": [[1], [2]], "timestamps": [[1]]})", 400, "one list of times per history (2)"},
      {"{\"history\": [" + std::string(5000, '1') + "]}", 413, "too large"},
  };
  for (const auto& c : cases) {
    auto r = post(server.port(), c.body);
    EXPECT_EQ(r.status, c.status) << c.body.substr(0, 80) << " -> " << r.body;
    auto error = parse(r);
    ASSERT_TRUE(error.contains("error")) << r.body;
    EXPECT_NE(error["error"].get<std::string>().find(c.says), std::string::npos) << c.body.substr(0, 80) << " -> " << r.body;
  }
  auto no_route = post(server.port(), "{}", "/v1/nothing");
  EXPECT_EQ(no_route.status, 404);
  EXPECT_TRUE(parse(no_route).contains("error"));
  EXPECT_EQ(HttpClient("127.0.0.1", server.port()).get("/v1/recommend").status, 404);
  // The server is unharmed and answered no 5xx.
  EXPECT_EQ(post(server.port(), R"({"history": [1]})").status, 200);
  const auto& m = server.service().metrics();
  for (int status : {500, 502, 503, 504}) EXPECT_EQ(m.requests_with_status(status), 0u) << status;
  // Every answer is counted by its status, those httplib writes itself (404, 413) too, and before
  // the client has it: the last 200 above is already in.
  std::map<int, std::uint64_t> answered = {{404, 2}, {200, 1}};
  for (const auto& c : cases) ++answered[c.status];
  for (const auto& [status, count] : answered) EXPECT_EQ(m.requests_with_status(status), count) << status;
}

TEST(ServeApiTest, SequenceModelAnswersEqualLoadedModelAlsoWhenBatched) {
  serve::ServiceOptions options;
  options.batching.max_wait = std::chrono::milliseconds(20);  // concurrent requests share batches
  TestServer server(sasrec_bundle(), options);
  const auto histories = sample_histories();
  // Mixed k and exclude_history: only requests that can share a model call are batched together.
  auto k_of = [](std::size_t i) { return static_cast<std::int64_t>(i % 2 == 0 ? 10 : 4); };
  auto exclude_of = [](std::size_t i) { return i % 3 == 0; };
  std::vector<std::vector<infer::ScoredItem>> expected;
  for (std::size_t i = 0; i < histories.size(); ++i) expected.push_back(reference(sasrec_checkpoint(), {histories[i]}, k_of(i), exclude_of(i))[0]);
  for (int round = 0; round < 2; ++round) {
    std::vector<std::future<HttpResponse>> answers;
    for (std::size_t i = 0; i < histories.size(); ++i) {
      const std::string body = json{{"history", histories[i]}, {"k", k_of(i)}, {"exclude_history", exclude_of(i)}}.dump();
      answers.push_back(std::async(std::launch::async, [&, body] { return post(server.port(), body); }));
    }
    std::size_t largest_batch = 0;
    for (std::size_t i = 0; i < histories.size(); ++i) {
      auto r = answers[i].get();
      ASSERT_EQ(r.status, 200) << r.body;
      auto answer = parse(r);
      largest_batch = std::max<std::size_t>(largest_batch, answer["batch_size"].get<std::size_t>());
      expect_same(answer["items"], expected[i], "history " + std::to_string(i));
    }
    EXPECT_GT(largest_batch, 1u) << "concurrent requests were never batched";
  }
}

TEST(ServeApiTest, TimeModelNeedsTimestampsAndAnswersAsLoadedModelAlsoWhenBatched) {
  serve::ServiceOptions options;
  options.batching.max_wait = std::chrono::milliseconds(20);
  TestServer server(hstu_time_bundle(), options);
  const auto& d = serve_dataset();
  auto missing = post(server.port(), R"({"history": [3, 7], "k": 5})");
  EXPECT_EQ(missing.status, 422);
  EXPECT_NE(parse(missing)["error"].get<std::string>().find("send 'timestamps'"), std::string::npos) << missing.body;

  auto model = infer::LoadedModel::load(hstu_time_checkpoint(), &d);
  ASSERT_TRUE(model.uses_time());
  std::vector<json> bodies;
  std::vector<std::vector<infer::ScoredItem>> expected;
  for (std::int64_t u = 0; u < 12; ++u) {
    auto seq = d.sequence(u * 7);
    auto times = d.sequence_timestamps(u * 7);
    std::vector<std::int32_t> history(seq.begin(), seq.end() - 1);
    std::vector<std::int64_t> history_times(times.begin(), times.end() - 1);
    bodies.push_back(json{{"history", history}, {"timestamps", history_times}, {"k", 6}});
    std::vector<std::span<const std::int32_t>> one{std::span<const std::int32_t>(history)};
    const infer::Timestamps one_time{std::span<const std::int64_t>(history_times)};
    expected.push_back(model.recommend({}, one, 6, false, &one_time)[0]);
  }
  std::vector<std::future<HttpResponse>> answers;
  for (const auto& body : bodies) answers.push_back(std::async(std::launch::async, [&, body] { return post(server.port(), body.dump()); }));
  for (std::size_t i = 0; i < answers.size(); ++i) {
    auto r = answers[i].get();
    ASSERT_EQ(r.status, 200) << r.body;
    expect_same(parse(r)["items"], expected[i], "history " + std::to_string(i));
  }
  // The times matter: the same items a year apart from each other score differently.
  auto spread = bodies[0];
  auto times = spread["timestamps"].get<std::vector<std::int64_t>>();
  for (std::size_t j = 0; j < times.size(); ++j) times[j] = static_cast<std::int64_t>(j) * 31536000;
  spread["timestamps"] = times;
  auto moved = post(server.port(), spread.dump());
  ASSERT_EQ(moved.status, 200) << moved.body;
  EXPECT_NE(parse(moved)["items"][0]["score"].get<double>(), expected[0][0].score);
}

TEST(ServeApiTest, ALoneRequestDoesNotWaitForCompany) {
  serve::ServiceOptions options;
  options.batching.max_wait = std::chrono::milliseconds(1000);
  TestServer server(sasrec_bundle(), options);
  HttpClient client("127.0.0.1", server.port());
  for (int i = 0; i < 3; ++i) {
    auto r = client.post("/v1/recommend", R"({"history": [1, 2, 3]})");
    ASSERT_EQ(r.status, 200);
    EXPECT_LT(parse(r)["latency_ms"].get<double>(), 500.0) << "a lone client waited for max_wait";
  }
}

TEST(ServeApiTest, TigerAnswersEqualLoadedModelWithSemanticIds) {
  serve::ServiceOptions options;
  options.batching.max_wait = std::chrono::milliseconds(20);
  TestServer server(tiger_bundle(), options);
  const auto histories = sample_histories();
  auto bundle = bundle::load_bundle(tiger_bundle());
  auto model = infer::LoadedModel::from_checkpoint(bundle.checkpoint, bundle.path, nullptr);
  for (bool exclude : {false, true}) {
    const auto expected = reference(tiger_checkpoint(), histories, 5, exclude);
    std::vector<std::future<HttpResponse>> answers;
    for (const auto& h : histories) {
      const std::string body = json{{"history", h}, {"k", 5}, {"exclude_history", exclude}}.dump();
      answers.push_back(std::async(std::launch::async, [&, body] { return post(server.port(), body); }));
    }
    for (std::size_t i = 0; i < histories.size(); ++i) {
      auto r = answers[i].get();
      ASSERT_EQ(r.status, 200) << r.body;
      auto items = parse(r)["items"];
      expect_same(items, expected[i], "history " + std::to_string(i));
      for (const auto& item : items) {
        auto code = model.tiger()->semantic_ids().code(item["item"].get<int>());
        EXPECT_EQ(item["semantic_id"].get<std::vector<std::int32_t>>(), std::vector<std::int32_t>(code.begin(), code.end()));
      }
    }
  }
}

TEST(ServeApiTest, FullQueueAndTimeoutsAnswer503) {
  {
    serve::ServiceOptions options;
    options.batching.max_queued = 2;
    options.batching.max_batch_size = 64;
    options.batching.max_wait = std::chrono::milliseconds(400);  // requests sit in the queue
    options.batching.adaptive_wait = false;
    TestServer server(sasrec_bundle(), options);
    std::vector<std::future<HttpResponse>> answers;
    for (int i = 0; i < 6; ++i) answers.push_back(std::async(std::launch::async, [&] { return post(server.port(), R"({"history": [1, 2]})"); }));
    int ok = 0, overloaded = 0;
    for (auto& a : answers) {
      auto r = a.get();
      if (r.status == 200) ++ok;
      if (r.status == 503) {
        ++overloaded;
        EXPECT_NE(parse(r)["error"].get<std::string>().find("overloaded"), std::string::npos) << r.body;
      }
    }
    EXPECT_EQ(ok, 2);
    EXPECT_EQ(overloaded, 4);
  }
  {
    serve::ServiceOptions options;
    options.request_timeout = std::chrono::milliseconds(50);
    options.batching.max_batch_size = 64;
    options.batching.max_wait = std::chrono::milliseconds(300);
    options.batching.adaptive_wait = false;
    TestServer server(sasrec_bundle(), options);
    auto r = post(server.port(), R"({"history": [1, 2]})");
    EXPECT_EQ(r.status, 503);
    EXPECT_NE(parse(r)["error"].get<std::string>().find("timed out"), std::string::npos) << r.body;
  }
}

TEST(ServeApiTest, AdminEndpointCanBeProtectedOrDisabled) {
  serve::HttpOptions http;
  http.admin_token = "s3cret";
  TestServer server(sasrec_bundle(), {}, http);
  EXPECT_EQ(post(server.port(), "", "/admin/reload").status, 401);
  EXPECT_EQ(post(server.port(), "", "/admin/reload", {{"Authorization", "Bearer wrong"}}).status, 401);
  auto ok = post(server.port(), "", "/admin/reload", {{"Authorization", "Bearer s3cret"}});
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(parse(ok)["status"], "reloaded");

  serve::HttpOptions closed;
  closed.admin_enabled = false;
  TestServer locked(sasrec_bundle(), {}, closed);
  EXPECT_EQ(post(locked.port(), "", "/admin/reload").status, 404);
}

TEST(ServeReloadTest, ReloadUnderLoadLosesNothingAndABadBundleKeepsTheOldModel) {
  serve::ServiceOptions options;
  options.batching.max_wait = std::chrono::milliseconds(1);
  TestServer server(sasrec_bundle(), options);
  const auto histories = sample_histories();
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::map<int, int> statuses;
  std::set<std::string> versions;
  std::vector<std::thread> clients;
  for (int c = 0; c < 6; ++c) {
    clients.emplace_back([&, c] {
      HttpClient client("127.0.0.1", server.port());
      for (std::size_t i = static_cast<std::size_t>(c); !stop; ++i) {
        const auto body = json{{"history", histories[i % histories.size()]}, {"k", 10}}.dump();
        auto r = client.post("/v1/recommend", body);
        std::lock_guard lock(mutex);
        ++statuses[r.status];
        if (r.status == 200) versions.insert(parse(r)["model_version"].get<std::string>());
      }
    });
  }
  const std::string bad = serve_dir() + "/bad.tsb";
  {
    std::ofstream(bad) << "not a bundle";
  }
  int reloads = 0;
  for (int round = 0; round < 6; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(120));
    const auto& next = round % 2 == 0 ? sasrec_bundle_seed2() : sasrec_bundle();
    auto r = post(server.port(), json{{"bundle", next}}.dump(), "/admin/reload");
    EXPECT_EQ(r.status, 200) << r.body;
    reloads += r.status == 200;
    auto failed = post(server.port(), json{{"bundle", bad}}.dump(), "/admin/reload");
    EXPECT_EQ(failed.status, 422) << failed.body;
    EXPECT_NE(parse(failed)["error"].get<std::string>().find("still serving the previous model"), std::string::npos);
    EXPECT_EQ(parse(failed)["model_version"], round % 2 == 0 ? "sasrec-v2" : "sasrec-v1");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(reloads, 6);
  ASSERT_EQ(statuses.size(), 1u) << "every request must get 200; got other statuses";
  EXPECT_GT(statuses[200], 50);
  EXPECT_EQ(versions, (std::set<std::string>{"sasrec-v1", "sasrec-v2"}));
  const auto metrics = HttpClient("127.0.0.1", server.port()).get("/metrics").body;
  EXPECT_NE(metrics.find("tessera_serve_reloads_total{result=\"ok\"} 6"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("tessera_serve_reloads_total{result=\"error\"} 6"), std::string::npos) << metrics;
}

TEST(ServeShutdownTest, ShutdownAnswersRequestsInFlightThenRefusesConnections) {
  serve::ServiceOptions options;
  options.batching.max_batch_size = 64;
  options.batching.max_wait = std::chrono::milliseconds(300);  // requests wait in the queue during shutdown
  options.batching.adaptive_wait = false;
  auto server = std::make_unique<TestServer>(sasrec_bundle(), options);
  const int port = server->port();
  std::vector<std::future<HttpResponse>> answers;
  for (int i = 0; i < 10; ++i) {
    answers.push_back(std::async(std::launch::async, [port, i] { return post(port, json{{"history", {i + 1, i + 2}}}.dump()); }));
  }
  // Wait until all ten are queued, then shut down (what SIGTERM does).
  for (int tries = 0; tries < 200; ++tries) {
    if (json::parse(server->service().health().body)["queue_depth"] == 10) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_EQ(json::parse(server->service().health().body)["queue_depth"], 10);
  server->shutdown();
  for (auto& a : answers) {
    auto r = a.get();
    EXPECT_EQ(r.status, 200) << r.body;
  }
  EXPECT_EQ(post(port, R"({"history": [1]})").status, 0) << "a stopped server must refuse connections";
  server.reset();
}

}  // namespace
}  // namespace tessera::testing
