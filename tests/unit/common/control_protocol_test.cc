// PropagatorClient against a scripted responder on a real socketpair.

#include "common/control_protocol.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <thread>

#include "common/control_wire.h"

namespace ferry {
namespace {

// Answers each request with respond(request, fds_out) until the peer closes.
class Responder {
 public:
  using Fn = std::function<nlohmann::json(const nlohmann::json&, std::vector<int>&)>;
  explicit Responder(Fn respond) {
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    client_end_ = UniqueFd(sv[0]);
    server_ = UniqueFd(sv[1]);
    thread_ = std::thread([this, respond = std::move(respond)] {
      for (;;) {
        StatusOr<WireMessage> m = RecvWireMessage(server_.get());
        if (!m.ok()) return;
        nlohmann::json req = *ParseJsonObject(m->text);
        std::vector<int> fds;
        nlohmann::json reply = respond(req, fds);
        if (reply.is_null()) continue;  // no answer
        if (!reply.contains("id") && req.contains("id")) reply["id"] = req["id"];
        (void)SendWireMessage(server_.get(), reply.dump(), fds);
      }
    });
  }
  ~Responder() {
    ::shutdown(server_.get(), SHUT_RDWR);
    thread_.join();
  }
  UniqueFd TakeClientEnd() { return std::move(client_end_); }

 private:
  UniqueFd client_end_, server_;
  std::thread thread_;
};

TEST(PropagatorClientTest, MountSendsRequestAndReturnsTheFd) {
  UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  nlohmann::json seen;
  Responder r([&](const nlohmann::json& req, std::vector<int>& fds) {
    seen = req;
    fds.push_back(devnull.get());
    return nlohmann::json{{"ok", true}};
  });
  PropagatorClient c(r.TakeClientEnd());
  StatusOr<UniqueFd> fd = c.Mount({"imagenet", false, "ferry:imagenet"});
  ASSERT_TRUE(fd.ok()) << fd.status().ToString();
  EXPECT_TRUE(fd->valid());
  EXPECT_EQ(seen["op"], "mount");
  EXPECT_EQ(seen["name"], "imagenet");
  EXPECT_EQ(seen["readOnly"], false);
  EXPECT_EQ(seen["fsname"], "ferry:imagenet");
}

TEST(PropagatorClientTest, MountWithoutFdIsInternalError) {
  Responder r([](const nlohmann::json&, std::vector<int>&) { return nlohmann::json{{"ok", true}}; });
  PropagatorClient c(r.TakeClientEnd());
  EXPECT_TRUE(c.Mount({"a", true, "x"}).status().Is(StatusCode::kInternal));
}

TEST(PropagatorClientTest, ErrorRepliesKeepCodeAndErrno) {
  Responder r([](const nlohmann::json&, std::vector<int>&) {
    return ErrorReply(StatusFromErrno(EBUSY, "mount /run/ferry/mnt/a"));
  });
  PropagatorClient c(r.TakeClientEnd());
  Status s = c.Unmount("a");
  EXPECT_TRUE(s.Is(StatusCode::kFailedPrecondition)) << s.ToString();
  EXPECT_EQ(s.sys_errno(), EBUSY);
  EXPECT_NE(s.message().find("unmount"), std::string_view::npos);
}

TEST(PropagatorClientTest, AdoptPairsMountsWithFdsInOrder) {
  UniqueFd f1(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  UniqueFd f2(::open("/proc/self/status", O_RDONLY | O_CLOEXEC));
  Responder r([&](const nlohmann::json&, std::vector<int>& fds) {
    fds = {f1.get(), f2.get()};
    return nlohmann::json{{"ok", true},
                          {"mounts",
                           {{{"name", "a"}, {"readOnly", true}, {"state", "s1"}},
                            {{"name", "b"}, {"readOnly", false}, {"state", ""}}}}};
  });
  PropagatorClient c(r.TakeClientEnd());
  StatusOr<std::vector<KeptMount>> kept = c.Adopt();
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  ASSERT_EQ(kept->size(), 2u);
  EXPECT_EQ((*kept)[0].name, "a");
  EXPECT_EQ((*kept)[0].state, "s1");
  EXPECT_TRUE((*kept)[0].read_only);
  EXPECT_FALSE((*kept)[1].read_only);
  struct stat a {}, b {};
  ASSERT_EQ(::fstat((*kept)[1].fuse_fd.get(), &a), 0);
  ASSERT_EQ(::fstat(f2.get(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
}

TEST(PropagatorClientTest, AdoptWithMismatchedFdCountIsError) {
  Responder r([](const nlohmann::json&, std::vector<int>&) {
    return nlohmann::json{{"ok", true}, {"mounts", {{{"name", "a"}}}}};
  });
  PropagatorClient c(r.TakeClientEnd());
  EXPECT_TRUE(c.Adopt().status().Is(StatusCode::kInternal));
}

TEST(PropagatorClientTest, SkipsAStaleReplyWithAnotherId) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd server(sv[1]);
  std::thread t([&] {
    StatusOr<WireMessage> m = RecvWireMessage(server.get());
    ASSERT_TRUE(m.ok());
    uint64_t id = (*ParseJsonObject(m->text))["id"].get<uint64_t>();
    // A late answer to an earlier request that timed out, then the real one.
    nlohmann::json stale = {{"ok", false}, {"error", "old"}, {"id", id - 1}};
    ASSERT_TRUE(SendWireMessage(server.get(), stale.dump()).ok());
    nlohmann::json real = {{"ok", true}, {"id", id}};
    ASSERT_TRUE(SendWireMessage(server.get(), real.dump()).ok());
  });
  PropagatorClient c{UniqueFd(sv[0])};
  Status s = c.SaveState("a", "c3RhdGU=");
  t.join();
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(PropagatorClientTest, PingReportsBrokenPropagation) {
  Responder r([](const nlohmann::json&, std::vector<int>&) {
    return nlohmann::json{{"ok", true}, {"pid", 1}, {"propagation", "not shared"}};
  });
  PropagatorClient c(r.TakeClientEnd());
  Status s = c.Ping();
  EXPECT_TRUE(s.Is(StatusCode::kFailedPrecondition)) << s.ToString();
}

TEST(PropagatorClientTest, ClosedPropagatorIsUnavailable) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  ::close(sv[1]);
  PropagatorClient c{UniqueFd(sv[0])};
  EXPECT_TRUE(c.Ping().Is(StatusCode::kUnavailable));
}

TEST(PropagatorClientTest, FromEnvValidatesTheVariable) {
  ::unsetenv(kControlFdEnv);
  EXPECT_TRUE(PropagatorClient::FromEnv().status().Is(StatusCode::kNotFound));
  ::setenv(kControlFdEnv, "abc", 1);
  EXPECT_TRUE(PropagatorClient::FromEnv().status().Is(StatusCode::kInvalidArgument));
  UniqueFd file(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  ::setenv(kControlFdEnv, std::to_string(file.get()).c_str(), 1);
  EXPECT_FALSE(PropagatorClient::FromEnv().ok());  // not a socket
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);  // inherited: no CLOEXEC
  UniqueFd peer(sv[1]);
  ::setenv(kControlFdEnv, std::to_string(sv[0]).c_str(), 1);
  StatusOr<std::unique_ptr<PropagatorClient>> c = PropagatorClient::FromEnv();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(::fcntl(sv[0], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  ::unsetenv(kControlFdEnv);
}

}  // namespace
}  // namespace ferry
