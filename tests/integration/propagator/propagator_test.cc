// The real ferry-propagator binary in a private mount namespace with a shared
// tmpfs as --mnt-dir, running ferry-test-dataplane as its data plane. A second
// namespace, a slave of the first (an app container with HostToContainer),
// watches mounts come and go. Needs root and /dev/fuse.

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "common/caps.h"
#include "common/mountinfo.h"
#include "common/unique_fd.h"
#include "tests/support/ns_fixture.h"

namespace ferry {
namespace {

using ::testing::HasSubstr;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<MountInfo> MountsAt(const std::string& mountinfo_text, const std::string& path) {
  std::vector<MountInfo> out;
  StatusOr<std::vector<MountInfo>> t = ParseMountInfo(mountinfo_text);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  if (!t.ok()) return out;
  for (const MountInfo& m : *t) {
    if (m.mount_point == path) out.push_back(m);
  }
  return out;
}

std::vector<MountInfo> FerryMountsBelow(const std::string& mountinfo_text,
                                        const std::string& dir) {
  std::vector<MountInfo> out;
  StatusOr<std::vector<MountInfo>> t = ParseMountInfo(mountinfo_text);
  if (!t.ok()) return out;
  for (const MountInfo& m : *t) {
    if (m.fstype == "fuse.ferry" && PathIsWithin(m.mount_point, dir)) out.push_back(m);
  }
  return out;
}

std::string OwnMountInfo() { return ReadAll("/proc/self/mountinfo"); }

bool ProcessGone(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

// One running ferry-propagator with pipes to its data plane's stdin/stdout.
class Running {
 public:
  Running(const std::string& mnt_dir, std::vector<std::string> dp_args,
          std::vector<std::string> extra_flags = {}) {
    int in[2], out[2];
    EXPECT_EQ(::pipe2(in, O_CLOEXEC), 0);
    EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
    char log_tmpl[] = "/tmp/ferry-prop-log-XXXXXX";
    int log_fd = ::mkstemp(log_tmpl);
    log_path_ = log_tmpl;
    std::vector<std::string> args = {PROP_BIN, "--mnt-dir=" + mnt_dir, "--grace=5s",
                                     "--termination-log="};
    args.insert(args.end(), extra_flags.begin(), extra_flags.end());
    args.push_back("--");
    args.push_back(HELPER_BIN);
    args.insert(args.end(), dp_args.begin(), dp_args.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::dup2(log_fd, 2);
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      _exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(log_fd);
    stdin_ = UniqueFd(in[1]);
    stdout_ = UniqueFd(out[0]);
  }

  ~Running() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    for (pid_t p : helpers_) ReapIfOurs(p);
    ::unlink(log_path_.c_str());
  }

  pid_t pid() const { return pid_; }
  std::string Log() const { return ReadAll(log_path_); }

  void Send(const std::string& line) {
    std::string l = line + "\n";
    ASSERT_EQ(::write(stdin_.get(), l.data(), l.size()), static_cast<ssize_t>(l.size()));
  }

  // The next stdout line starting with `prefix` (earlier lines are dropped);
  // "" on timeout.
  std::string WaitLine(const std::string& prefix, milliseconds timeout = seconds(15)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      size_t nl;
      while ((nl = buf_.find('\n')) != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        if (line.rfind("pid ", 0) == 0) helpers_.push_back(std::stoi(line.substr(4)));
        if (line.rfind(prefix, 0) == 0) return line;
      }
      auto left = std::chrono::duration_cast<milliseconds>(deadline -
                                                           std::chrono::steady_clock::now());
      if (left.count() <= 0) return "";
      pollfd p{stdout_.get(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[4096];
      ssize_t n = ::read(stdout_.get(), chunk, sizeof(chunk));
      if (n <= 0) return "";
      buf_.append(chunk, static_cast<size_t>(n));
    }
  }

  // The data plane's pid from its "pid N" line.
  pid_t WaitHelperPid() {
    std::string l = WaitLine("pid ");
    return l.empty() ? 0 : std::stoi(l.substr(4));
  }

  // Waits for the propagator to exit; its wait status, or -1 on timeout.
  int WaitExit(milliseconds timeout = seconds(20)) {
    int status = -1;
    bool done = testing::WaitFor(
        [&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, timeout);
    if (!done) return -1;
    reaped_ = true;
    return status;
  }

  void Signal(int sig) { ::kill(pid_, sig); }

 private:
  // Data planes orphaned by a SIGKILLed propagator come to us (subreaper).
  static void ReapIfOurs(pid_t p) {
    ::kill(p, SIGKILL);
    ::waitpid(p, nullptr, WNOHANG);
  }

  pid_t pid_ = -1;
  bool reaped_ = false;
  UniqueFd stdin_, stdout_;
  std::string buf_;
  std::string log_path_;
  std::vector<pid_t> helpers_;
};

class PropagatorIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why = testing::FuseTestSkipReason();
    if (!why.empty()) GTEST_SKIP() << why;
    Status s = testing::EnterPrivateMountNamespace();
    if (!s.ok()) GTEST_SKIP() << s.ToString();
    ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
  }

  void MakeMntDir(bool shared) {
    StatusOr<std::unique_ptr<testing::ScopedTmpfs>> t = testing::ScopedTmpfs::Create(shared);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    tmpfs_ = std::move(t).value();
    mnt_ = tmpfs_->path();
  }

  std::unique_ptr<testing::ScopedTmpfs> tmpfs_;
  std::string mnt_;
};

TEST_F(PropagatorIntegrationTest, MountsAppearWithFlagsAndPropagateToASlaveNamespace) {
  MakeMntDir(/*shared=*/true);
  StatusOr<std::unique_ptr<testing::SlaveNamespace>> app = testing::SlaveNamespace::Create(mnt_);
  ASSERT_TRUE(app.ok()) << app.status().ToString();
  testing::SlaveNamespace& ns = **app;

  Running prop(mnt_, {"alpha"});
  ASSERT_EQ(prop.WaitLine("mounted"), "mounted alpha") << prop.Log();
  std::string alpha = mnt_ + "/alpha";
  std::vector<MountInfo> at = MountsAt(OwnMountInfo(), alpha);
  ASSERT_EQ(at.size(), 1u);
  EXPECT_EQ(at[0].fstype, "fuse.ferry");
  EXPECT_EQ(at[0].source, "ferry:alpha");
  EXPECT_TRUE(at[0].HasMountOption("ro"));
  EXPECT_TRUE(at[0].HasMountOption("nosuid"));
  EXPECT_TRUE(at[0].HasMountOption("nodev"));
  EXPECT_TRUE(at[0].HasSuperOption("allow_other"));
  EXPECT_TRUE(at[0].HasSuperOption("default_permissions"));
  EXPECT_EQ(ReadAll(alpha + "/hello"), "hello from alpha\n");

  // Added after the app namespace was made: only propagation can show it there.
  ASSERT_TRUE(testing::WaitFor([&] { return MountsAt(ns.MountInfoText(), alpha).size() == 1; }))
      << ns.MountInfoText();
  EXPECT_EQ(ReadAll(ns.Outside(alpha + "/hello")), "hello from alpha\n");

  prop.Send("mount beta rw");
  ASSERT_EQ(prop.WaitLine("mounted"), "mounted beta") << prop.Log();
  std::string beta = mnt_ + "/beta";
  ASSERT_TRUE(testing::WaitFor([&] { return MountsAt(ns.MountInfoText(), beta).size() == 1; }));
  EXPECT_TRUE(MountsAt(ns.MountInfoText(), beta)[0].HasMountOption("rw"));
  EXPECT_EQ(ReadAll(ns.Outside(beta + "/hello")), "hello from beta\n");

  prop.Send("unmount alpha");
  ASSERT_EQ(prop.WaitLine("unmounted"), "unmounted alpha") << prop.Log();
  EXPECT_TRUE(MountsAt(OwnMountInfo(), alpha).empty());
  struct stat st {};
  EXPECT_EQ(::stat(alpha.c_str(), &st), -1);  // the directory went too
  ASSERT_TRUE(testing::WaitFor([&] { return MountsAt(ns.MountInfoText(), alpha).empty(); }))
      << ns.MountInfoText();
  EXPECT_EQ(MountsAt(ns.MountInfoText(), beta).size(), 1u);

  prop.Signal(SIGTERM);
  int status = prop.WaitExit();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << prop.Log();
  EXPECT_TRUE(FerryMountsBelow(OwnMountInfo(), mnt_).empty());
  EXPECT_TRUE(testing::WaitFor([&] { return FerryMountsBelow(ns.MountInfoText(), mnt_).empty(); }))
      << ns.MountInfoText();
}

TEST_F(PropagatorIntegrationTest, PrivateMntDirFailsWithTheFix) {
  MakeMntDir(/*shared=*/false);
  char tmpl[] = "/tmp/ferry-termlog-XXXXXX";
  UniqueFd term(::mkstemp(tmpl));
  std::string term_path = tmpl;
  Running prop(mnt_, {"alpha"}, {"--termination-log=" + term_path});
  int status = prop.WaitExit();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;
  EXPECT_THAT(prop.Log(), HasSubstr("mountPropagation: Bidirectional"));
  EXPECT_THAT(prop.Log(), HasSubstr("privileged: true"));
  EXPECT_THAT(ReadAll(term_path), HasSubstr("mountPropagation: Bidirectional"));
  EXPECT_EQ(prop.WaitLine("pid", milliseconds(100)), "");  // no data plane ever started
  EXPECT_TRUE(FerryMountsBelow(OwnMountInfo(), mnt_).empty());
  ::unlink(term_path.c_str());
}

TEST_F(PropagatorIntegrationTest, SweepsTheDeadMountOfASigkilledInstance) {
  MakeMntDir(/*shared=*/true);
  std::string alpha = mnt_ + "/alpha";
  {
    Running first(mnt_, {"alpha"});
    pid_t helper = first.WaitHelperPid();
    ASSERT_GT(helper, 0);
    ASSERT_EQ(first.WaitLine("mounted"), "mounted alpha") << first.Log();
    first.Signal(SIGKILL);
    first.WaitExit();
    // PDEATHSIG takes the data plane down too; it comes to us as subreaper.
    ASSERT_TRUE(testing::WaitFor([&] { return ::waitpid(helper, nullptr, WNOHANG) == helper; }));
  }
  struct stat st {};
  ASSERT_TRUE(testing::WaitFor([&] { return ::stat(alpha.c_str(), &st) == -1 && errno == ENOTCONN; }))
      << "the killed instance's mount should be dead";
  ASSERT_EQ(MountsAt(OwnMountInfo(), alpha).size(), 1u);

  Running second(mnt_, {});
  ASSERT_GT(second.WaitHelperPid(), 0) << second.Log();  // the sweep precedes the data plane
  EXPECT_TRUE(MountsAt(OwnMountInfo(), alpha).empty()) << OwnMountInfo();
  EXPECT_EQ(::stat(alpha.c_str(), &st), -1);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_THAT(second.Log(), HasSubstr("sweep: detached stale mount " + alpha));
  second.Signal(SIGTERM);
  EXPECT_EQ(second.WaitExit(), 0);
}

TEST_F(PropagatorIntegrationTest, SigtermLeavesNoMountNoProcessNoFd) {
  MakeMntDir(/*shared=*/true);
  // fusectl shows one directory per live FUSE connection: it goes away only
  // when every /dev/fuse fd of the mount (the data plane's and the
  // propagator's dup) is closed and the mount is gone.
  bool fusectl = ::mount("fusectl", "/sys/fs/fuse/connections", "fusectl", 0, nullptr) == 0;
  Running prop(mnt_, {"alpha", "beta:rw"});
  pid_t helper = prop.WaitHelperPid();
  ASSERT_GT(helper, 0);
  ASSERT_EQ(prop.WaitLine("mounted"), "mounted alpha") << prop.Log();
  ASSERT_EQ(prop.WaitLine("mounted"), "mounted beta") << prop.Log();
  std::vector<std::string> conns;
  for (const MountInfo& m : FerryMountsBelow(OwnMountInfo(), mnt_)) {
    conns.push_back("/sys/fs/fuse/connections/" + std::to_string(m.minor));
  }
  ASSERT_EQ(conns.size(), 2u);
  struct stat st {};
  if (fusectl) {
    for (const std::string& c : conns) EXPECT_EQ(::stat(c.c_str(), &st), 0) << c;
  }

  prop.Signal(SIGTERM);
  int status = prop.WaitExit();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << prop.Log();
  EXPECT_TRUE(ProcessGone(helper)) << "data plane " << helper << " survived";
  EXPECT_TRUE(FerryMountsBelow(OwnMountInfo(), mnt_).empty());
  EXPECT_EQ(::stat((mnt_ + "/alpha").c_str(), &st), -1);
  if (fusectl) {
    for (const std::string& c : conns) {
      EXPECT_TRUE(testing::WaitFor([&] { return ::stat(c.c_str(), &st) != 0; })) << c;
    }
    ::umount2("/sys/fs/fuse/connections", MNT_DETACH);
  }
}

TEST_F(PropagatorIntegrationTest, CrashedDataPlaneIsRestartedWithoutADeadMount) {
  MakeMntDir(/*shared=*/true);
  std::string alpha = mnt_ + "/alpha";
  Running prop(mnt_, {"alpha"});
  pid_t first = prop.WaitHelperPid();
  ASSERT_EQ(prop.WaitLine("mounted"), "mounted alpha") << prop.Log();
  prop.Send("exit 3");

  pid_t second = prop.WaitHelperPid();
  ASSERT_GT(second, 0) << prop.Log();
  EXPECT_NE(second, first);
  EXPECT_EQ(prop.WaitLine("adopt"), "adopt 0");  // the old mounts were detached, not kept
  ASSERT_EQ(prop.WaitLine("mounted"), "mounted alpha") << prop.Log();
  EXPECT_EQ(MountsAt(OwnMountInfo(), alpha).size(), 1u) << OwnMountInfo();
  EXPECT_EQ(ReadAll(alpha + "/hello"), "hello from alpha\n");
  EXPECT_THAT(prop.Log(), HasSubstr("died (exit code 3)"));
  EXPECT_THAT(prop.Log(), HasSubstr("detached 1 mount(s) of the dead data plane"));

  prop.Signal(SIGTERM);
  EXPECT_EQ(prop.WaitExit(), 0);
  EXPECT_TRUE(FerryMountsBelow(OwnMountInfo(), mnt_).empty());
}

TEST_F(PropagatorIntegrationTest, DataPlaneRunsWithoutCapabilitiesAndNoNewPrivs) {
  MakeMntDir(/*shared=*/true);
  Running prop(mnt_, {});
  pid_t helper = prop.WaitHelperPid();
  ASSERT_GT(helper, 0) << prop.Log();
  prop.Send("ping");
  ASSERT_EQ(prop.WaitLine("pong"), "pong");
  CapabilityState s = ParseCapabilityState(ReadAll("/proc/" + std::to_string(helper) + "/status"));
  ASSERT_TRUE(s.parsed);
  EXPECT_EQ(s.effective, 0u);
  EXPECT_EQ(s.permitted, 0u);
  EXPECT_EQ(s.inheritable, 0u);
  EXPECT_EQ(s.bounding, 0u);
  EXPECT_EQ(s.ambient, 0u);
  EXPECT_EQ(s.no_new_privs, 1);
  // Still uid 0: only the capabilities are gone.
  EXPECT_THAT(ReadAll("/proc/" + std::to_string(helper) + "/status"), HasSubstr("Uid:\t0\t0\t0\t0"));
  prop.Signal(SIGTERM);
  EXPECT_EQ(prop.WaitExit(), 0);
}

}  // namespace
}  // namespace ferry
