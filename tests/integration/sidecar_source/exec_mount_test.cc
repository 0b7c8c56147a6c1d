// ExecMount with a real libfuse3 binary on a real FUSE mount made the way the
// propagator makes it (open /dev/fuse, mount(2) with fd=N), handed over as
// /dev/fd/3; restart after a crash on a fresh mount; libfuse2 refusal.
#include "sidecar/exec_mount.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/logging.h"
#include "tests/support/server_fixtures.h"
#include "tests/unit/sidecar/source/elf_builder.h"

namespace ferry::testing {
namespace {

// Mounts like the propagator: returns the /dev/fuse fd of a fresh mount at `dir`.
StatusOr<UniqueFd> MountFuse(const std::string& dir) {
  UniqueFd fd(::open("/dev/fuse", O_RDWR | O_CLOEXEC));
  if (!fd) return Unavailable("cannot open /dev/fuse: " + std::string(strerror(errno)));
  std::string data = "fd=" + std::to_string(fd.get()) +
                     ",rootmode=40000,user_id=0,group_id=0,allow_other";
  if (::mount("ferry-exec-test", dir.c_str(), "fuse.ferry", MS_NOSUID | MS_NODEV | MS_RDONLY,
              data.c_str()) != 0) {
    return Unavailable("cannot mount FUSE at " + dir + ": " + std::string(strerror(errno)));
  }
  return fd;
}

// Polls until reading `path` gives `want`.
bool ReadsBack(const std::string& path, const std::string& want, std::chrono::seconds deadline) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (ReadFileOrEmpty(path) == want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

class ExecMountTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mnt_ = dir_.path() + "/mnt";
    std::filesystem::create_directories(mnt_);
    StatusOr<UniqueFd> probe = MountFuse(mnt_);
    if (!probe.ok()) GTEST_SKIP() << probe.status().ToString();
    ::umount2(mnt_.c_str(), MNT_DETACH);
  }
  void TearDown() override {
    if (!mnt_.empty()) ::umount2(mnt_.c_str(), MNT_DETACH);
  }
  // Each (re)start: detach the previous mount, make a fresh one.
  sidecar::ExecMount::FuseFdProvider Provider() {
    return [this]() -> StatusOr<UniqueFd> {
      ++mounts_;
      ::umount2(mnt_.c_str(), MNT_DETACH);
      return MountFuse(mnt_);
    };
  }

  TempDir dir_{"ferry-exec"};
  std::string mnt_;
  std::atomic<int> mounts_{0};
};

TEST_F(ExecMountTest, ServesTheMountAndRestartsAfterACrash) {
  std::ostringstream logs;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(logs);
  GetLogger("exec")->sinks().push_back(sink);
  sidecar::ExecSpec spec{HELLO_FUSE3, {"-o", "ro"}};
  sidecar::ExecMount::Options opts;
  opts.initial_backoff = std::chrono::milliseconds(50);
  StatusOr<std::unique_ptr<sidecar::ExecMount>> m = sidecar::ExecMount::Start(spec, Provider(), opts);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(ReadsBack(mnt_ + "/hello", "hello from exec\n", std::chrono::seconds(20)));
  pid_t first = (*m)->pid();
  ASSERT_GT(first, 0);

  ::kill(first, SIGKILL);  // crash
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (((*m)->starts() < 2 || (*m)->pid() == 0) && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ((*m)->starts(), 2);
  EXPECT_NE((*m)->pid(), first);
  EXPECT_TRUE(ReadsBack(mnt_ + "/hello", "hello from exec\n", std::chrono::seconds(20)));
  EXPECT_EQ(mounts_.load(), 2) << "each start gets a fresh mount (INIT comes once per mount)";

  pid_t second = (*m)->pid();
  (*m)->Stop();
  EXPECT_EQ((*m)->pid(), 0);
  EXPECT_NE(::kill(second, 0), 0) << "child gone after Stop";
  GetLogger("exec")->sinks().pop_back();
  EXPECT_NE(logs.str().find("hello_fuse3: hello_fuse3 starting"), std::string::npos) << logs.str();
  EXPECT_NE(logs.str().find("hello_fuse3: second line"), std::string::npos);
}

TEST_F(ExecMountTest, VendorBinaryDoesNotInheritTheBlockedStopSignals) {
  // ferry-sidecar blocks SIGTERM/SIGINT in every thread (its signal thread
  // sigwait()s them); the binary must still see SIGTERM (stop, parent death).
  sigset_t stop, old;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, &old);
  sidecar::ExecSpec spec{HELLO_FUSE3, {"-o", "ro"}};
  StatusOr<std::unique_ptr<sidecar::ExecMount>> m =
      sidecar::ExecMount::Start(spec, Provider(), sidecar::ExecMount::Options{});
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(ReadsBack(mnt_ + "/hello", "hello from exec\n", std::chrono::seconds(20)));
  pid_t pid = (*m)->pid();
  ASSERT_GT(pid, 0);
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line, blocked;
  while (std::getline(status, line)) {
    if (line.rfind("SigBlk:", 0) == 0) blocked = line.substr(7);
  }
  EXPECT_NE(blocked.find("0000000000000000"), std::string::npos) << "SigBlk:" << blocked;
  auto t0 = std::chrono::steady_clock::now();
  (*m)->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3))
      << "SIGTERM was ignored: Stop waited for the SIGKILL grace";
}

TEST(ExecMountRefusalTest, Libfuse2BinariesAreRefusedWithTheReason) {
  TempDir dir("ferry-exec");
  std::string bin = dir.path() + "/s3fs-fuse2";
  ASSERT_TRUE(WriteFile(bin, BuildElfWithNeeded({"libfuse.so.2", "libc.so.6"})).ok());
  ::chmod(bin.c_str(), 0755);
  int calls = 0;
  StatusOr<std::unique_ptr<sidecar::ExecMount>> m = sidecar::ExecMount::Start(
      {bin, {}}, [&]() -> StatusOr<UniqueFd> {
        ++calls;
        return Unavailable("unused");
      },
      {});
  EXPECT_EQ(m.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(m.status().message().find("libfuse 3.3"), std::string_view::npos) << m.status().ToString();
  EXPECT_EQ(calls, 0) << "refused before anything is mounted";
  EXPECT_EQ(sidecar::ExecMount::Start({"no-such-fuse-binary", {}}, nullptr, {}).status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace ferry::testing
