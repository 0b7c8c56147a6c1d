#include "sidecar/status_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/unique_fd.h"
#include "tests/support/fake_clock.h"

namespace ferry::sidecar {
namespace {

struct Response {
  int code = 0;
  std::string body;
};

// A minimal HTTP/1.0 GET against 127.0.0.1:port.
Response Get(int port, const std::string& path) {
  Response r;
  UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return r;
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
  if (write(fd.get(), req.data(), req.size()) != static_cast<ssize_t>(req.size())) return r;
  std::string all;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd.get(), buf, sizeof(buf))) > 0) all.append(buf, static_cast<size_t>(n));
  if (all.size() < 12) return r;
  r.code = std::stoi(all.substr(9, 3));
  size_t sep = all.find("\r\n\r\n");
  if (sep != std::string::npos) r.body = all.substr(sep + 4);
  return r;
}

TEST(StatusServerTest, ServesHealthReadinessStatusAndMetrics) {
  testing::FakeClock clock;
  StatusModel model(clock);
  auto server = StatusServer::Start("127.0.0.1:0", model);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  int port = (*server)->port();
  ASSERT_GT(port, 0);

  EXPECT_EQ(Get(port, "/healthz").code, 200);
  Response not_ready = Get(port, "/readyz");
  EXPECT_EQ(not_ready.code, 503);
  model.SetDataset("a", DatasetPhase::kPending, "local:///a", true, "");
  EXPECT_NE(Get(port, "/readyz").body.find("a Pending"), std::string::npos);
  model.SetDataset("a", DatasetPhase::kMounted, "local:///a", true, "");
  model.SetReady();
  EXPECT_EQ(Get(port, "/readyz").code, 200);
  Response status = Get(port, "/status");
  EXPECT_EQ(status.code, 200);
  EXPECT_NE(status.body.find("\"phase\": \"Mounted\""), std::string::npos);
  Response metrics = Get(port, "/metrics");
  EXPECT_EQ(metrics.code, 200);
  EXPECT_NE(metrics.body.find("ferry_datasets{phase=\"Mounted\"} 1"), std::string::npos);
  EXPECT_EQ(Get(port, "/nope").code, 404);
}

TEST(StatusServerTest, BusyPortIsUnavailable) {
  testing::FakeClock clock;
  StatusModel model(clock);
  auto first = StatusServer::Start("127.0.0.1:0", model);
  ASSERT_TRUE(first.ok());
  auto second = StatusServer::Start("127.0.0.1:" + std::to_string((*first)->port()), model);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.status().Is(StatusCode::kUnavailable)) << second.status().ToString();
}

TEST(StatusServerTest, MalformedAddressIsInvalid) {
  testing::FakeClock clock;
  StatusModel model(clock);
  EXPECT_TRUE(StatusServer::Start("localhost", model).status().Is(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace ferry::sidecar
