#include "propagator/supervisor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "common/control_protocol.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_mounter.h"
#include "tests/support/fake_sys.h"

namespace ferry::propagator {
namespace {

using ::testing::Contains;
using ::testing::Not;
using std::chrono::milliseconds;

constexpr int kExit1 = 1 << 8;  // waitpid status of exit(1)
constexpr int kKilled = SIGKILL;

class SupervisorTest : public ::testing::Test {
 protected:
  SupervisorTest() : mounter_(&sys_) {
    sys_.AddDir("/run/ferry/mnt");
    sys_.AddFile("/dev/fuse");
    mounter_.AddRootAndTmpfs("/run/ferry/mnt", true);
    manager_ = std::make_unique<MountManager>(sys_, mounter_, MountManagerOptions{});
  }

  std::unique_ptr<Supervisor> Make(bool keep_mounts = false) {
    SupervisorOptions o;
    o.command = {"ferry-sidecar", "run"};
    o.grace = milliseconds(20'000);
    o.keep_mounts_on_crash = keep_mounts;
    return std::make_unique<Supervisor>(sys_, clock_, *manager_, o);
  }

  testing::FakeSys sys_;
  testing::FakeMounter mounter_;
  testing::FakeClock clock_;
  std::unique_ptr<MountManager> manager_;
};

TEST_F(SupervisorTest, StartsTheDataPlaneConfinedWithTheControlFd) {
  auto s = Make();
  s->Start();
  ASSERT_EQ(sys_.Spawns().size(), 1u);
  SpawnOptions o = sys_.Spawns()[0];
  EXPECT_EQ(o.argv, (std::vector<std::string>{"ferry-sidecar", "run"}));
  EXPECT_TRUE(o.drop_privileges);
  EXPECT_TRUE(o.parent_death_kill);
  EXPECT_TRUE(o.new_process_group);
  ASSERT_EQ(o.inherit_fds.size(), 1u);
  EXPECT_EQ(o.env_add, std::vector<std::string>{std::string(kControlFdEnv) + "=" +
                                                std::to_string(o.inherit_fds[0])});
  EXPECT_GE(s->control_fd(), 0);
  EXPECT_EQ(s->child_pid(), 1000);
  EXPECT_FALSE(s->TimeUntilNextAction().has_value());
}

TEST_F(SupervisorTest, CrashDetachesMountsThenRestartsWithBackoff) {
  auto s = Make();
  s->Start();
  ASSERT_TRUE(manager_->Mount({"a", true, "x"}).ok());
  clock_.Advance(milliseconds(10));
  sys_.ExitChild(1000, kKilled);
  s->ReapChildren();
  EXPECT_EQ(s->child_pid(), 0);
  EXPECT_EQ(s->control_fd(), -1);
  // Mounts gone before any restart.
  EXPECT_EQ(manager_->size(), 0u);
  EXPECT_TRUE(mounter_.MountsAt("/run/ferry/mnt/a").empty());
  EXPECT_THAT(sys_.Log(), Contains("kill:-1000:9"));  // leftovers of its group
  ASSERT_EQ(s->TimeUntilNextAction(), milliseconds(100));
  s->OnTick();
  EXPECT_EQ(sys_.Spawns().size(), 1u);  // not yet
  clock_.Advance(milliseconds(100));
  s->OnTick();
  EXPECT_EQ(sys_.Spawns().size(), 2u);
  EXPECT_EQ(s->child_pid(), 1001);
  // Second quick death: 200 ms.
  sys_.ExitChild(1001, kExit1);
  s->ReapChildren();
  EXPECT_EQ(s->TimeUntilNextAction(), milliseconds(200));
}

TEST_F(SupervisorTest, BackoffResetsAfterAMinuteOfUptime) {
  auto s = Make();
  s->Start();
  for (pid_t pid = 1000; pid < 1003; ++pid) {
    sys_.ExitChild(pid, kExit1);
    s->ReapChildren();
    clock_.Advance(*s->TimeUntilNextAction());
    s->OnTick();
  }
  EXPECT_EQ(s->child_pid(), 1003);
  clock_.Advance(std::chrono::seconds(61));
  sys_.ExitChild(1003, kExit1);
  s->ReapChildren();
  EXPECT_EQ(s->TimeUntilNextAction(), milliseconds(100));
}

TEST_F(SupervisorTest, KeepMountsOnCrashHandsThemToTheNextInstance) {
  auto s = Make(/*keep_mounts=*/true);
  s->Start();
  ASSERT_TRUE(manager_->Mount({"a", true, "x"}).ok());
  sys_.ExitChild(1000, kKilled);
  s->ReapChildren();
  EXPECT_EQ(manager_->size(), 1u);
  EXPECT_EQ(mounter_.MountsAt("/run/ferry/mnt/a").size(), 1u);
}

TEST_F(SupervisorTest, FailedSpawnIsRetriedWithBackoff) {
  sys_.SetError("spawn", "", ENOENT);
  auto s = Make();
  s->Start();
  EXPECT_EQ(s->child_pid(), 0);
  EXPECT_EQ(s->TimeUntilNextAction(), milliseconds(100));
  sys_.SetError("spawn", "", 0);
  clock_.Advance(milliseconds(100));
  s->OnTick();
  EXPECT_EQ(s->child_pid(), 1000);
}

TEST_F(SupervisorTest, ShutdownSendsSigtermThenSigkillAfterGrace) {
  auto s = Make();
  s->Start();
  s->BeginShutdown();
  EXPECT_THAT(sys_.Log(), Contains("kill:-1000:15"));
  EXPECT_FALSE(s->Done());
  EXPECT_EQ(s->TimeUntilNextAction(), milliseconds(20'000));
  clock_.Advance(milliseconds(19'999));
  s->OnTick();
  EXPECT_THAT(sys_.Log(), Not(Contains("kill:-1000:9")));
  clock_.Advance(milliseconds(1));
  s->OnTick();
  EXPECT_THAT(sys_.Log(), Contains("kill:-1000:9"));
  sys_.ExitChild(1000, kKilled);
  s->ReapChildren();
  EXPECT_TRUE(s->Done());
  EXPECT_EQ(sys_.Spawns().size(), 1u);  // never restarted while shutting down
}

TEST_F(SupervisorTest, ShutdownDoesNotDetachMountsItself) {
  // The propagator detaches after the data plane is gone; the supervisor
  // must not do it on the expected exit.
  auto s = Make();
  s->Start();
  ASSERT_TRUE(manager_->Mount({"a", true, "x"}).ok());
  s->BeginShutdown();
  sys_.ExitChild(1000, 0);
  s->ReapChildren();
  EXPECT_TRUE(s->Done());
  EXPECT_EQ(manager_->size(), 1u);
}

TEST_F(SupervisorTest, ShutdownDuringBackoffIsDoneAtOnce) {
  auto s = Make();
  s->Start();
  sys_.ExitChild(1000, kExit1);
  s->ReapChildren();
  s->BeginShutdown();
  EXPECT_TRUE(s->Done());
  EXPECT_FALSE(s->TimeUntilNextAction().has_value());
}

TEST_F(SupervisorTest, GivesUpOnAChildThatIgnoresSigkill) {
  auto s = Make();
  s->Start();
  s->BeginShutdown();
  clock_.Advance(milliseconds(20'000));
  s->OnTick();
  clock_.Advance(milliseconds(5'000));
  s->OnTick();
  EXPECT_TRUE(s->Done());
}

TEST_F(SupervisorTest, ReapsOrphansWithoutTouchingTheDataPlane) {
  auto s = Make();
  s->Start();
  sys_.ExitChild(4321, 0);  // a re-parented grandchild
  s->ReapChildren();
  EXPECT_EQ(s->child_pid(), 1000);
  EXPECT_FALSE(s->TimeUntilNextAction().has_value());
}

TEST(DescribeWaitStatusTest, ExitAndSignal) {
  EXPECT_EQ(DescribeWaitStatus(3 << 8), "exit code 3");
  EXPECT_THAT(DescribeWaitStatus(SIGKILL), ::testing::StartsWith("signal 9"));
}

}  // namespace
}  // namespace ferry::propagator
