// The tessera binary end to end: `tessera export` writes a bundle, `tessera serve` answers exactly
// what `tessera recommend` prints for the same model and history, SIGHUP reloads the bundle file,
// and SIGTERM lets requests in flight finish before the process exits with status 0.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <thread>

#include <nlohmann/json.hpp>

#include "serve/serve_fixture.h"
#include "tessera/core/atomic_file.h"
#include "tessera/serve/http_client.h"

namespace tessera::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Run {
  int status = -1;
  std::string output;  // stdout only
};

Run run_cli(const std::string& args) {
  const std::string command = std::string(TESSERA_CLI_PATH) + " " + args + " 2>/dev/null";
  Run r;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return r;
  char buffer[4096];
  std::size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) r.output.append(buffer, n);
  const int status = pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t size = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  ::close(fd);
  return ntohs(address.sin_port);
}

// `tessera serve` as a child process; stderr goes to `log`.
class ServeProcess {
 public:
  ServeProcess(const std::vector<std::string>& args, const std::string& log) {
    // Everything the child needs is prepared before fork(): after it, only async-signal-safe calls.
    std::vector<char*> argv{const_cast<char*>(TESSERA_CLI_PATH), const_cast<char*>("serve")};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(log_fd, STDERR_FILENO);
      ::execv(TESSERA_CLI_PATH, argv.data());
      ::_exit(127);
    }
    ::close(log_fd);
  }
  ~ServeProcess() {
    if (pid_ > 0 && !waited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  void signal(int s) const { ::kill(pid_, s); }
  // Exit status, or -1 if it did not exit normally within the timeout.
  int wait(std::chrono::seconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        waited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  bool waited_ = false;
};

json wait_healthy(int port, const std::function<bool(const json&)>& ready = [](const json&) { return true; }) {
  for (int tries = 0; tries < 1000; ++tries) {
    serve::HttpClient client("127.0.0.1", port, std::chrono::seconds(2));
    auto r = client.get("/healthz");
    if (r.status == 200) {
      auto health = json::parse(r.body);
      if (ready(health)) return health;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "server on port " << port << " never became ready";
  return {};
}

TEST(CliServeTest, ExportServeEqualsRecommendThenSighupReloadsAndSigtermDrains) {
  const std::string dir = serve_dir() + "/cli";
  fs::create_directories(dir);
  const std::string bundle = dir + "/model.tsb";
  auto exported = run_cli("export --checkpoint " + sasrec_checkpoint() + " --data " + dataset_file() + " --out " + bundle + " --version cli-v1");
  ASSERT_EQ(exported.status, 0) << exported.output;
  auto described = run_cli("export --describe " + bundle);
  ASSERT_EQ(described.status, 0);
  EXPECT_NE(described.output.find("\"version\": \"cli-v1\""), std::string::npos) << described.output;

  const int port = free_port();
  const std::string log = dir + "/serve.log";
  ServeProcess server({"--bundle", bundle, "--port", std::to_string(port), "--max-batch-size", "64", "--max-wait-us", "600000", "--no-adaptive-wait", "--threads", "1"},
                      log);
  ASSERT_FALSE(wait_healthy(port).is_null()) << "serve log:\n" << read_file(log);

  // The same answer as `tessera recommend` for the same model and history.
  auto printed = run_cli("recommend --data " + dataset_file() + " --checkpoint " + sasrec_checkpoint() +
                         " --history sku-3,sku-7,sku-12 --original-ids --k 6 --exclude-history --json");
  ASSERT_EQ(printed.status, 0) << printed.output;
  const auto expected = json::parse(printed.output)["items"];
  serve::HttpClient client("127.0.0.1", port);
  auto r = client.post("/v1/recommend", R"({"history": ["sku-3", "sku-7", "sku-12"], "k": 6, "exclude_history": true})");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto items = json::parse(r.body)["items"];
  ASSERT_EQ(items.size(), expected.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    EXPECT_EQ(items[i]["item"], expected[i]["item"]);
    EXPECT_EQ(items[i]["original_id"], expected[i]["original_id"]);
    EXPECT_EQ(items[i]["title"], expected[i]["title"]);
    EXPECT_NEAR(items[i]["score"].get<double>(), expected[i]["score"].get<double>(), 1e-5);
  }

  // SIGHUP re-reads the bundle file, replaced in place by another model.
  fs::copy_file(sasrec_bundle_seed2(), bundle + ".new");
  fs::rename(bundle + ".new", bundle);
  server.signal(SIGHUP);
  EXPECT_EQ(wait_healthy(port, [](const json& h) { return h["model_version"] == "sasrec-v2"; })["model_version"], "sasrec-v2");

  // SIGTERM while eight requests wait in the batch queue: all eight are answered, then exit 0.
  std::vector<std::future<serve::HttpResponse>> answers;
  for (int i = 0; i < 8; ++i) {
    answers.push_back(std::async(std::launch::async, [port, i] {
      return serve::HttpClient("127.0.0.1", port).post("/v1/recommend", json{{"history", {i + 1, i + 3}}}.dump());
    }));
  }
  wait_healthy(port, [](const json& h) { return h["queue_depth"] == 8; });
  server.signal(SIGTERM);
  for (auto& a : answers) {
    auto answer = a.get();
    EXPECT_EQ(answer.status, 200) << answer.body;
  }
  EXPECT_EQ(server.wait(std::chrono::seconds(20)), 0);
  EXPECT_EQ(serve::HttpClient("127.0.0.1", port, std::chrono::seconds(1)).get("/healthz").status, 0);
}

}  // namespace
}  // namespace tessera::testing
