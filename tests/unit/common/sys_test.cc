#include "common/sys.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "common/caps.h"
#include "common/unique_fd.h"

namespace ferry {
namespace {

class LinuxSysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-sys-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)std::system(("rm -rf " + dir_).c_str()); }

  // Waits for `pid` through WaitAnyNoHang (polling, bounded).
  int Reap(pid_t pid) {
    for (int i = 0; i < 5000; ++i) {
      SysResult<WaitResult> w = sys_.WaitAnyNoHang();
      if (w.ok() && w.value.pid == pid) return w.value.status;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ADD_FAILURE() << "child " << pid << " never exited";
    return -1;
  }

  LinuxSys sys_;
  std::string dir_;
};

TEST_F(LinuxSysTest, DirectoriesAndFiles) {
  std::string d = dir_ + "/sub";
  EXPECT_TRUE(sys_.Mkdir(d, 0755).ok());
  EXPECT_EQ(sys_.Mkdir(d, 0755).err, EEXIST);
  SysResult<struct stat> st = sys_.Lstat(d);
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(S_ISDIR(st.value.st_mode));
  EXPECT_EQ(sys_.Stat(dir_ + "/missing").err, ENOENT);

  // WriteFile never creates.
  EXPECT_EQ(sys_.WriteFile(d + "/f", "x").err, ENOENT);
  UniqueFd created(::open((d + "/f").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  ASSERT_TRUE(created.valid());
  EXPECT_TRUE(sys_.WriteFile(d + "/f", "hello").ok());
  EXPECT_TRUE(sys_.WriteFile(d + "/f", "hi").ok());  // truncates
  EXPECT_EQ(sys_.ReadFile(d + "/f").value, "hi");

  SysResult<std::vector<std::string>> ls = sys_.ListDir(d);
  ASSERT_TRUE(ls.ok());
  EXPECT_EQ(ls.value, std::vector<std::string>{"f"});
  EXPECT_EQ(sys_.Rmdir(d).err, ENOTEMPTY);
  ASSERT_EQ(::unlink((d + "/f").c_str()), 0);
  EXPECT_TRUE(sys_.Rmdir(d).ok());
  EXPECT_EQ(sys_.ListDir(d).err, ENOENT);
  EXPECT_EQ(sys_.RealPath(dir_ + "/./").value, dir_);
}

TEST_F(LinuxSysTest, OpenAndDupAreCloexec) {
  SysResult<int> fd = sys_.Open("/dev/null", O_RDWR | O_CLOEXEC);
  ASSERT_TRUE(fd.ok());
  UniqueFd a(fd.value);
  SysResult<int> d = sys_.Dup(a.get());
  ASSERT_TRUE(d.ok());
  UniqueFd b(d.value);
  EXPECT_NE(a.get(), b.get());
  EXPECT_EQ(::fcntl(b.get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  EXPECT_EQ(sys_.Open(dir_ + "/nope", O_RDONLY).err, ENOENT);
}

TEST_F(LinuxSysTest, SpawnReportsExecFailure) {
  SpawnOptions o;
  o.argv = {"/nonexistent/ferry-no-such-binary"};
  EXPECT_EQ(sys_.Spawn(o).err, ENOENT);
  o.argv.clear();
  EXPECT_EQ(sys_.Spawn(o).err, EINVAL);
}

TEST_F(LinuxSysTest, SpawnPassesEnvAndInheritedFd) {
  SysResult<std::pair<int, int>> pair = sys_.SeqPacketPair();
  ASSERT_TRUE(pair.ok());
  UniqueFd ours(pair.value.first), theirs(pair.value.second);
  SpawnOptions o;
  std::string fd = std::to_string(theirs.get());
  // The child answers through the inherited fd, proving it stayed open.
  o.argv = {"/bin/sh", "-c", "printf \"$FERRY_TEST_VALUE\" >&" + fd};
  o.env_add = {"FERRY_TEST_VALUE=hello"};
  o.inherit_fds = {theirs.get()};
  o.new_process_group = true;
  o.parent_death_kill = true;
  SysResult<pid_t> pid = sys_.Spawn(o);
  ASSERT_TRUE(pid.ok()) << pid.err;
  theirs.Reset();
  char buf[16] = {};
  ssize_t n = ::recv(ours.get(), buf, sizeof(buf), 0);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), "hello");
  int status = Reap(pid.value);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST_F(LinuxSysTest, SpawnWithoutInheritDoesNotLeakCloexecFds) {
  SysResult<std::pair<int, int>> pair = sys_.SeqPacketPair();
  ASSERT_TRUE(pair.ok());
  UniqueFd ours(pair.value.first), theirs(pair.value.second);
  SpawnOptions o;
  o.argv = {"/bin/sh", "-c", "test -e /proc/self/fd/" + std::to_string(theirs.get())};
  SysResult<pid_t> pid = sys_.Spawn(o);
  ASSERT_TRUE(pid.ok());
  int status = Reap(pid.value);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;
}

TEST_F(LinuxSysTest, DroppedPrivilegesShowInTheChildsStatus) {
  if (::geteuid() != 0) GTEST_SKIP() << "dropping the bounding set needs CAP_SETPCAP";
  std::string out = dir_ + "/status";
  SpawnOptions o;
  o.argv = {"/bin/sh", "-c", "cat /proc/self/status > " + out};
  o.drop_privileges = true;
  SysResult<pid_t> pid = sys_.Spawn(o);
  ASSERT_TRUE(pid.ok()) << pid.err;
  Reap(pid.value);
  CapabilityState s = ParseCapabilityState(sys_.ReadFile(out).value);
  ASSERT_TRUE(s.parsed);
  EXPECT_EQ(s.effective, 0u);
  EXPECT_EQ(s.permitted, 0u);
  EXPECT_EQ(s.inheritable, 0u);
  EXPECT_EQ(s.bounding, 0u);
  EXPECT_EQ(s.ambient, 0u);
  EXPECT_EQ(s.no_new_privs, 1);
}

TEST_F(LinuxSysTest, WaitAnyWithoutChildrenIsEchild) {
  // Reap anything earlier tests left, then expect ECHILD.
  for (int i = 0; i < 100 && sys_.WaitAnyNoHang().ok(); ++i) {
  }
  EXPECT_EQ(sys_.WaitAnyNoHang().err, ECHILD);
}

TEST_F(LinuxSysTest, PollSeesReadableSocket) {
  SysResult<std::pair<int, int>> pair = sys_.SeqPacketPair();
  ASSERT_TRUE(pair.ok());
  UniqueFd a(pair.value.first), b(pair.value.second);
  std::vector<pollfd> fds = {{a.get(), POLLIN, 0}};
  EXPECT_EQ(sys_.Poll(fds, std::chrono::milliseconds(0)).value, 0);
  ASSERT_EQ(::send(b.get(), "x", 1, 0), 1);
  EXPECT_EQ(sys_.Poll(fds, std::chrono::milliseconds(1000)).value, 1);
  EXPECT_TRUE(fds[0].revents & POLLIN);
}

TEST_F(LinuxSysTest, SignalFdDeliversBlockedSignal) {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGUSR2);
  SysResult<int> sfd = sys_.SignalFd(mask);
  ASSERT_TRUE(sfd.ok());
  UniqueFd fd(sfd.value);
  EXPECT_EQ(sys_.ReadSignal(fd.get()).err, EAGAIN);
  ASSERT_EQ(::kill(::getpid(), SIGUSR2), 0);
  EXPECT_EQ(sys_.ReadSignal(fd.get()).value, SIGUSR2);
  sigprocmask(SIG_UNBLOCK, &mask, nullptr);
}

}  // namespace
}  // namespace ferry
