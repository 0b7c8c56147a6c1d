// `ferry-sidecar mount exec://...` for real: the ferry-sidecar binary mounts
// DIR itself (root, /dev/fuse), runs a real libfuse3 binary (hello_fuse3) on
// /dev/fd/3, restarts it on a fresh mount after a SIGKILL, logs its stderr,
// and on SIGTERM stops it and exits 0 leaving no mount and no process; an
// external unmount ends it too; bad options exit 2 naming the option. Needs
// root and /dev/fuse (skips otherwise).
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <sstream>

#include "tests/support/fuse_fixture.h"
#include "tests/support/server_fixtures.h"

namespace ferry::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kHello[] = "hello from exec\n";

// Literal concatenation: gcc 12 -O3 misreports operator+ on these (-Wstringop-overread).
std::string SidecarBin() { return FERRY_BINARY_DIR "/bin/ferry-sidecar"; }

// Children of `pid` (any of its threads may have forked them).
std::set<pid_t> ChildrenOf(pid_t pid) {
  std::set<pid_t> out;
  std::error_code ec;
  for (const auto& t : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::istringstream in(ReadFileOrEmpty(t.path().string() + "/children"));
    for (pid_t c; in >> c;) out.insert(c);
  }
  return out;
}

// The one child of `pid` running hello_fuse3, or 0.
pid_t VendorChild(pid_t pid) {
  for (pid_t c : ChildrenOf(pid)) {
    std::string cmd = ReadFileOrEmpty("/proc/" + std::to_string(c) + "/cmdline");
    if (cmd.find("hello_fuse3") != std::string::npos) return c;
  }
  return 0;
}

bool ProcessGone(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

class StandaloneExecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why = FuseUnavailableReason();
    if (!why.empty()) GTEST_SKIP() << why;
    mnt_ = dir_.path() + "/mnt";
    fs::create_directories(mnt_);
  }
  void TearDown() override {
    if (child_ != nullptr) child_->Stop();
    if (vendor_ > 0 && !ProcessGone(vendor_)) ::kill(vendor_, SIGKILL);
    if (!mnt_.empty() && IsMountPoint(mnt_)) ::umount2(mnt_.c_str(), MNT_DETACH);
  }
  std::string Log() const { return dir_.path() + "/sidecar.log"; }

  // Starts `ferry-sidecar mount exec://hello_fuse3 mnt -f ...` and waits for
  // the file to read back.
  void Start(const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {SidecarBin(), "mount", std::string("exec://" HELLO_FUSE3),
                                     mnt_, "-f", "-o", "restart_backoff=50ms,stop_grace=3s"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    StatusOr<std::unique_ptr<ChildProcess>> c = ChildProcess::Start(argv, Log());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    child_ = *std::move(c);
    ASSERT_TRUE(WaitUntil([&] { return ReadFileOrEmpty(mnt_ + "/hello") == kHello || !child_->Running(); },
                          std::chrono::seconds(20)))
        << ReadFileOrEmpty(Log());
    ASSERT_EQ(ReadFileOrEmpty(mnt_ + "/hello"), kHello) << ReadFileOrEmpty(Log());
    vendor_ = VendorChild(child_->pid());
    ASSERT_GT(vendor_, 0) << "no hello_fuse3 child of ferry-sidecar";
  }

  // Runs ferry-sidecar to completion; its exit code.
  int RunToEnd(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {SidecarBin(), "mount"};
    argv.insert(argv.end(), args.begin(), args.end());
    StatusOr<int> rc = RunCommand(argv, Log());
    EXPECT_TRUE(rc.ok()) << rc.status().ToString();
    return rc.ok() ? *rc : -1;
  }

  TempDir dir_{"ferry-standalone-exec"};
  std::string mnt_;
  std::unique_ptr<ChildProcess> child_;
  pid_t vendor_ = 0;
};

TEST_F(StandaloneExecTest, RestartsTheBinaryAfterACrashAndStopsCleanlyOnSigterm) {
  ASSERT_NO_FATAL_FAILURE(Start({"--", "-o", "ro", "{mountpoint}"}));
  const pid_t first = vendor_;
  EXPECT_TRUE(IsMountPoint(mnt_));

  ASSERT_EQ(::kill(first, SIGKILL), 0);  // crash
  ASSERT_TRUE(WaitUntil(
      [&] {
        pid_t v = VendorChild(child_->pid());
        if (v != 0 && v != first) vendor_ = v;
        return vendor_ != first && ReadFileOrEmpty(mnt_ + "/hello") == kHello;
      },
      std::chrono::seconds(20)))
      << ReadFileOrEmpty(Log());
  EXPECT_TRUE(ProcessGone(first));
  EXPECT_TRUE(child_->Running());

  ASSERT_EQ(::kill(child_->pid(), SIGTERM), 0);
  EXPECT_EQ(child_->Wait(), 0) << ReadFileOrEmpty(Log());
  EXPECT_FALSE(IsMountPoint(mnt_)) << "the mount is detached on exit";
  EXPECT_TRUE(ProcessGone(vendor_)) << "the binary is stopped on exit";
  std::string log = ReadFileOrEmpty(Log());
  EXPECT_NE(log.find("hello_fuse3: hello_fuse3 starting"), std::string::npos) << log;
  EXPECT_NE(log.find("was killed by signal 9; restarting"), std::string::npos) << log;
}

TEST_F(StandaloneExecTest, ArgumentsFromOptionAndSigintStopsIt) {
  ASSERT_NO_FATAL_FAILURE(Start({"-o", "args=-o ro,fsname=exec-test"}));
  ASSERT_EQ(::kill(child_->pid(), SIGINT), 0);
  EXPECT_EQ(child_->Wait(), 0) << ReadFileOrEmpty(Log());
  EXPECT_FALSE(IsMountPoint(mnt_));
  EXPECT_TRUE(ProcessGone(vendor_));
}

TEST_F(StandaloneExecTest, AnExternalUnmountEndsIt) {
  ASSERT_NO_FATAL_FAILURE(Start({"--", "-o", "ro"}));
  ASSERT_EQ(::umount2(mnt_.c_str(), MNT_DETACH), 0);
  ASSERT_TRUE(WaitUntil([&] { return !child_->Running(); }, std::chrono::seconds(20)))
      << ReadFileOrEmpty(Log());
  EXPECT_EQ(child_->Wait(), 0);
  EXPECT_FALSE(IsMountPoint(mnt_)) << "not remounted";
  EXPECT_TRUE(ProcessGone(vendor_));
  EXPECT_NE(ReadFileOrEmpty(Log()).find("was unmounted"), std::string::npos) << ReadFileOrEmpty(Log());
}

TEST_F(StandaloneExecTest, BadOptionsExitTwoNamingTheOption) {
  const std::string src = std::string("exec://" HELLO_FUSE3);
  struct Case {
    std::vector<std::string> args;
    std::string named;
  };
  for (const Case& c : std::vector<Case>{
           {{src, mnt_, "-f", "-o", "threads=4"}, "threads"},
           {{src, mnt_, "-f", "-o", "restart_backoff=soon"}, "restart_backoff"},
           {{src, mnt_, "-f", "-o", "read_ahead_kb=x"}, "read_ahead_kb"},
           {{src, mnt_, "-f", "-o", "rw"}, "rw"},
           {{src, mnt_, "-f", "-o", "args=-d", "--", "-o", "ro"}, "args"},
           {{"exec://", mnt_, "-f"}, "names no program"},
           {{"local:///tmp", mnt_, "-f", "--", "x"}, "after --"},
       }) {
    ASSERT_TRUE(WriteFile(Log(), "").ok());
    EXPECT_EQ(RunToEnd(c.args), 2) << c.named;
    EXPECT_NE(ReadFileOrEmpty(Log()).find(c.named), std::string::npos) << ReadFileOrEmpty(Log());
    EXPECT_FALSE(IsMountPoint(mnt_)) << c.named;
  }
  ASSERT_TRUE(WriteFile(Log(), "").ok());
  EXPECT_EQ(RunToEnd({"exec://no-such-fuse-binary", mnt_, "-f"}), 1);
  EXPECT_NE(ReadFileOrEmpty(Log()).find("no-such-fuse-binary"), std::string::npos);
  EXPECT_FALSE(IsMountPoint(mnt_));
}

}  // namespace
}  // namespace ferry::testing
