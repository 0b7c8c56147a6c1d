#include "propagator/control_handler.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <thread>

#include "common/control_protocol.h"
#include "common/control_wire.h"
#include "tests/support/fake_mounter.h"
#include "tests/support/fake_sys.h"

namespace ferry::propagator {
namespace {

using ::testing::HasSubstr;

class ControlHandlerTest : public ::testing::Test {
 protected:
  ControlHandlerTest() : mounter_(&sys_) {
    sys_.AddDir("/run/ferry/mnt");
    sys_.AddFile("/dev/fuse");
    mounter_.AddRootAndTmpfs("/run/ferry/mnt", true);
    manager_ = std::make_unique<MountManager>(sys_, mounter_, MountManagerOptions{});
    handler_ = std::make_unique<ControlHandler>(*manager_, 4242, [this] { return propagation_; });
  }

  nlohmann::json Call(const std::string& request, size_t* fds = nullptr) {
    ControlReply r = handler_->Handle(request);
    if (fds != nullptr) *fds = r.fds.size();
    return *ParseJsonObject(r.text);
  }

  testing::FakeSys sys_;
  testing::FakeMounter mounter_;
  std::unique_ptr<MountManager> manager_;
  std::unique_ptr<ControlHandler> handler_;
  std::string propagation_ = "ok";
};

TEST_F(ControlHandlerTest, MountRepliesOkWithOneFdAndEchoesId) {
  size_t fds = 0;
  nlohmann::json r =
      Call(R"({"op":"mount","name":"a","readOnly":false,"fsname":"ferry:a","id":7})", &fds);
  EXPECT_EQ(r["ok"], true);
  EXPECT_EQ(r["id"], 7);
  EXPECT_EQ(fds, 1u);
  EXPECT_TRUE(mounter_.MountsAt("/run/ferry/mnt/a")[0].HasMountOption("rw"));
}

TEST_F(ControlHandlerTest, ReadOnlyIsTheDefault) {
  Call(R"({"op":"mount","name":"a"})");
  EXPECT_TRUE(mounter_.MountsAt("/run/ferry/mnt/a")[0].HasMountOption("ro"));
}

TEST_F(ControlHandlerTest, ErrorsCarryCodeErrnoAndNoFds) {
  size_t fds = 9;
  nlohmann::json r = Call(R"({"op":"mount","name":"Bad/Name"})", &fds);
  EXPECT_EQ(r["ok"], false);
  EXPECT_EQ(r["code"], "INVALID_ARGUMENT");
  EXPECT_EQ(fds, 0u);
  sys_.SetError("open", "/dev/fuse", EACCES);
  r = Call(R"({"op":"mount","name":"b"})");
  EXPECT_EQ(r["errno"], EACCES);
  EXPECT_EQ(r["code"], "PERMISSION_DENIED");
}

TEST_F(ControlHandlerTest, MalformedRequestsGetErrorReplies) {
  for (const char* bad : {"not json", "[]", R"({"op":"mount"})", R"({"op":"mount","name":3})",
                          R"({"op":"save","name":"a"})", R"({"op":"fly"})", R"({})"}) {
    nlohmann::json r = Call(bad);
    EXPECT_EQ(r["ok"], false) << bad;
    EXPECT_EQ(r["code"], "INVALID_ARGUMENT") << bad;
  }
}

TEST_F(ControlHandlerTest, UnmountIsIdempotent) {
  Call(R"({"op":"mount","name":"a"})");
  EXPECT_EQ(Call(R"({"op":"unmount","name":"a"})")["ok"], true);
  EXPECT_EQ(Call(R"({"op":"unmount","name":"a"})")["ok"], true);
  EXPECT_TRUE(mounter_.MountsAt("/run/ferry/mnt/a").empty());
}

TEST_F(ControlHandlerTest, SaveThenAdoptReturnsStateAndFds) {
  Call(R"({"op":"mount","name":"a"})");
  EXPECT_EQ(Call(R"({"op":"save","name":"a","state":"eHl6"})")["ok"], true);
  EXPECT_EQ(Call(R"({"op":"save","name":"b","state":"eHl6"})")["code"], "NOT_FOUND");
  size_t fds = 0;
  nlohmann::json r = Call(R"({"op":"adopt"})", &fds);
  ASSERT_EQ(r["mounts"].size(), 1u);
  EXPECT_EQ(r["mounts"][0]["name"], "a");
  EXPECT_EQ(r["mounts"][0]["readOnly"], true);
  EXPECT_EQ(r["mounts"][0]["state"], "eHl6");
  EXPECT_EQ(fds, 1u);
}

TEST_F(ControlHandlerTest, PingReportsPidAndPropagation) {
  nlohmann::json r = Call(R"({"op":"ping"})");
  EXPECT_EQ(r["pid"], 4242);
  EXPECT_EQ(r["propagation"], "ok");
  propagation_ = "not shared";
  EXPECT_EQ(Call(R"({"op":"ping"})")["propagation"], "not shared");
}

// The real client against the real handler over a real socketpair.
TEST_F(ControlHandlerTest, BackingOpenNeedsAMountAndExactlyOneFd) {
  auto with_fds = [&](const std::string& request, int n, int flags = O_RDONLY) {
    std::vector<UniqueFd> fds;
    for (int i = 0; i < n; ++i) fds.emplace_back(::open("/proc/self/exe", flags | O_CLOEXEC));
    return *ParseJsonObject(handler_->Handle(request, std::move(fds)).text);
  };
  nlohmann::json r = with_fds(R"({"op":"backingOpen","name":"nope"})", 1);
  EXPECT_EQ(r["ok"], false);
  EXPECT_EQ(r["code"], "NOT_FOUND");
  EXPECT_THAT(r["error"].get<std::string>(), HasSubstr("nope"));
  Call(R"({"op":"mount","name":"a"})");
  r = with_fds(R"({"op":"backingOpen","name":"a"})", 0);
  EXPECT_EQ(r["code"], "INVALID_ARGUMENT");
  EXPECT_THAT(r["error"].get<std::string>(), HasSubstr("exactly 1 fd"));
  r = with_fds(R"({"op":"backingOpen","name":"a"})", 2);
  EXPECT_EQ(r["code"], "INVALID_ARGUMENT");
  // The kernel re-opens backing files with the propagator's credentials: an
  // O_PATH fd (no read permission needed to get one) or a non-file is refused.
  r = with_fds(R"({"op":"backingOpen","name":"a"})", 1, O_PATH);
  EXPECT_EQ(r["code"], "PERMISSION_DENIED");
  EXPECT_THAT(r["error"].get<std::string>(), HasSubstr("opened for reading"));
  std::vector<UniqueFd> dev;
  dev.emplace_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  r = *ParseJsonObject(handler_->Handle(R"({"op":"backingOpen","name":"a"})", std::move(dev)).text);
  EXPECT_EQ(r["code"], "PERMISSION_DENIED");
  // The fake mount's fd is no /dev/fuse: the kernel's refusal comes back named.
  r = with_fds(R"({"op":"backingOpen","name":"a"})", 1);
  EXPECT_EQ(r["ok"], false);
  EXPECT_THAT(r["error"].get<std::string>(), HasSubstr("passthrough backing file"));
}

TEST_F(ControlHandlerTest, BackingCloseValidatesTheId) {
  Call(R"({"op":"mount","name":"a"})");
  for (const char* req : {R"({"op":"backingClose","name":"a"})",
                          R"({"op":"backingClose","name":"a","backingId":0})",
                          R"({"op":"backingClose","name":"a","backingId":"1"})",
                          R"({"op":"backingClose","name":"a","backingId":4294967296})"}) {
    nlohmann::json r = Call(req);
    EXPECT_EQ(r["code"], "INVALID_ARGUMENT") << req;
  }
  EXPECT_EQ(Call(R"({"op":"backingClose","name":"b","backingId":1})")["code"], "NOT_FOUND");
}

TEST_F(ControlHandlerTest, RealClientRoundTrip) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd server(sv[1]);
  std::thread serve([&] {
    for (;;) {
      StatusOr<WireMessage> m = RecvWireMessage(server.get());
      if (!m.ok()) return;
      ControlReply r = handler_->Handle(m->text);
      std::vector<int> fds;
      for (const UniqueFd& f : r.fds) fds.push_back(f.get());
      if (!SendWireMessage(server.get(), r.text, fds).ok()) return;
    }
  });
  {
    PropagatorClient client{UniqueFd(sv[0])};
    StatusOr<UniqueFd> fd = client.Mount({"imagenet", true, "ferry:imagenet"});
    ASSERT_TRUE(fd.ok()) << fd.status().ToString();
    EXPECT_TRUE(fd->valid());
    EXPECT_TRUE(client.SaveState("imagenet", "c3Q=").ok());
    StatusOr<std::vector<KeptMount>> kept = client.Adopt();
    ASSERT_TRUE(kept.ok());
    ASSERT_EQ(kept->size(), 1u);
    EXPECT_EQ((*kept)[0].state, "c3Q=");
    Status bad = client.Unmount("Bad");
    EXPECT_TRUE(bad.Is(StatusCode::kInvalidArgument));
    EXPECT_THAT(std::string(bad.message()), HasSubstr("lower-case"));
    EXPECT_TRUE(client.Unmount("imagenet").ok());
    EXPECT_TRUE(client.Ping().ok());
  }  // the client closes its end: the server loop ends
  serve.join();
  EXPECT_EQ(manager_->size(), 0u);
}

}  // namespace
}  // namespace ferry::propagator
