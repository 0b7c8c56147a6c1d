#include "common/control_wire.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/control_protocol.h"

namespace ferry {
namespace {

struct Pair {
  UniqueFd a, b;
};

Pair MakePair() {
  int sv[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  return {UniqueFd(sv[0]), UniqueFd(sv[1])};
}

ino_t InodeOf(int fd) {
  struct stat st {};
  EXPECT_EQ(::fstat(fd, &st), 0);
  return st.st_ino;
}

TEST(ControlWireTest, RoundTripsTextAndFds) {
  Pair p = MakePair();
  UniqueFd f1(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  UniqueFd f2(::open("/proc/self/status", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(SendWireMessage(p.a.get(), R"({"op":"ping"})", {f1.get(), f2.get()}).ok());
  StatusOr<WireMessage> m = RecvWireMessage(p.b.get());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->text, R"({"op":"ping"})");
  ASSERT_EQ(m->fds.size(), 2u);
  EXPECT_EQ(InodeOf(m->fds[0].get()), InodeOf(f1.get()));
  EXPECT_EQ(InodeOf(m->fds[1].get()), InodeOf(f2.get()));
  EXPECT_EQ(::fcntl(m->fds[0].get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
}

TEST(ControlWireTest, KeepsDatagramBoundaries) {
  Pair p = MakePair();
  ASSERT_TRUE(SendWireMessage(p.a.get(), "first").ok());
  ASSERT_TRUE(SendWireMessage(p.a.get(), "second").ok());
  EXPECT_EQ(RecvWireMessage(p.b.get())->text, "first");
  EXPECT_EQ(RecvWireMessage(p.b.get())->text, "second");
}

TEST(ControlWireTest, MaxSizeMessagePassesAndLargerIsRefused) {
  Pair p = MakePair();
  int size = 256 * 1024;
  ASSERT_EQ(::setsockopt(p.a.get(), SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)), 0);
  std::string big(kControlMaxMessageBytes, 'x');
  ASSERT_TRUE(SendWireMessage(p.a.get(), big).ok());
  StatusOr<WireMessage> m = RecvWireMessage(p.b.get());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->text.size(), kControlMaxMessageBytes);
  Status s = SendWireMessage(p.a.get(), big + "y");
  EXPECT_TRUE(s.Is(StatusCode::kInvalidArgument)) << s.ToString();
}

TEST(ControlWireTest, OversizedDatagramFromARawPeerIsTruncationError) {
  Pair p = MakePair();
  int size = 256 * 1024;
  ASSERT_EQ(::setsockopt(p.a.get(), SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)), 0);
  std::string big(kControlMaxMessageBytes + 100, 'x');
  ASSERT_EQ(::send(p.a.get(), big.data(), big.size(), 0), static_cast<ssize_t>(big.size()));
  StatusOr<WireMessage> m = RecvWireMessage(p.b.get());
  EXPECT_TRUE(m.status().Is(StatusCode::kInvalidArgument)) << m.status().ToString();
}

TEST(ControlWireTest, PeerCloseIsUnavailableOnBothSides) {
  Pair p = MakePair();
  p.a.Reset();
  StatusOr<WireMessage> m = RecvWireMessage(p.b.get());
  EXPECT_TRUE(m.status().Is(StatusCode::kUnavailable)) << m.status().ToString();
  Status s = SendWireMessage(p.b.get(), "x");  // no SIGPIPE: the test would die
  EXPECT_TRUE(s.Is(StatusCode::kUnavailable)) << s.ToString();
}

TEST(ControlWireTest, WaitReadableTimesOut) {
  Pair p = MakePair();
  Status s = WaitReadable(p.b.get(), std::chrono::milliseconds(10));
  EXPECT_TRUE(s.Is(StatusCode::kDeadlineExceeded)) << s.ToString();
  ASSERT_TRUE(SendWireMessage(p.a.get(), "x").ok());
  EXPECT_TRUE(WaitReadable(p.b.get(), std::chrono::milliseconds(1000)).ok());
}

TEST(ControlWireTest, ParseJsonObjectRejectsNonObjects) {
  EXPECT_TRUE(ParseJsonObject(R"({"a":1})").ok());
  EXPECT_TRUE(ParseJsonObject("[1]").status().Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(ParseJsonObject("{").status().Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(ParseJsonObject("").status().Is(StatusCode::kInvalidArgument));
}

TEST(ControlWireTest, ErrorReplyRoundTripsCodeMessageAndErrno) {
  Status in = StatusFromErrno(EBUSY, "mount /x");
  nlohmann::json j = ErrorReply(in);
  EXPECT_FALSE(j["ok"].get<bool>());
  EXPECT_EQ(j["errno"].get<int>(), EBUSY);
  Status out = StatusFromReply(j);
  EXPECT_EQ(out.code(), in.code());
  EXPECT_EQ(out.message(), in.message());
  EXPECT_EQ(out.sys_errno(), EBUSY);
}

TEST(ControlWireTest, StatusFromReplyWithoutCodeFallsBackToErrno) {
  Status s = StatusFromReply({{"ok", false}, {"error", "gone"}, {"errno", ENOENT}});
  EXPECT_TRUE(s.Is(StatusCode::kNotFound));
  EXPECT_EQ(s.message(), "gone");
  EXPECT_TRUE(StatusFromReply({{"ok", false}}).Is(StatusCode::kInternal));
  EXPECT_TRUE(StatusFromReply({{"ok", true}}).ok());
  EXPECT_TRUE(StatusFromReply({{"ok", "yes"}}).Is(StatusCode::kInternal));
}

TEST(ControlWireTest, StatusCodeNamesRoundTrip) {
  for (int c = 0; c <= static_cast<int>(StatusCode::kCancelled); ++c) {
    StatusCode code = static_cast<StatusCode>(c);
    EXPECT_EQ(StatusCodeFromName(StatusCodeName(code)), code);
  }
  EXPECT_EQ(StatusCodeFromName("NOPE"), StatusCode::kInternal);
}

}  // namespace
}  // namespace ferry
