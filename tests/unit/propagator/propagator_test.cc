// Propagator::Prepare over fakes: sweep, checks, termination message.
// Run() (signals, poll, real children) is covered by tests/integration/propagator.

#include "propagator/propagator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/fake_clock.h"
#include "tests/support/fake_mounter.h"
#include "tests/support/fake_sys.h"

namespace ferry::propagator {
namespace {

using ::testing::HasSubstr;

class PropagatorTest : public ::testing::Test {
 protected:
  PropagatorTest() : mounter_(&sys_) {
    sys_.AddDir("/run/ferry/mnt");
    sys_.AddFile("/dev/fuse");
    sys_.AddFile("/dev/termination-log");
    options_.command = {"dp"};
  }
  Status Prepare() {
    propagator_ = std::make_unique<Propagator>(sys_, mounter_, clock_, options_);
    return propagator_->Prepare();
  }

  testing::FakeSys sys_;
  testing::FakeMounter mounter_;
  testing::FakeClock clock_;
  PropagatorOptions options_;
  std::unique_ptr<Propagator> propagator_;
};

TEST_F(PropagatorTest, PreparesOnASharedMntDirAfterSweeping) {
  mounter_.AddRootAndTmpfs("/run/ferry/mnt", true);
  sys_.AddDir("/run/ferry/mnt/old");
  ASSERT_TRUE(mounter_.Mount("ferry:old", "/run/ferry/mnt/old", "fuse.ferry", 0, "").ok());
  Status s = Prepare();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(mounter_.MountsAt("/run/ferry/mnt/old").empty());
  EXPECT_EQ(sys_.FileContent("/dev/termination-log"), "");
  EXPECT_EQ(propagator_->PropagationState(), "ok");
}

TEST_F(PropagatorTest, PrivateMntDirFailsAndWritesTheFixToTheTerminationLog) {
  mounter_.AddRootAndTmpfs("/run/ferry/mnt", false);
  Status s = Prepare();
  EXPECT_TRUE(s.Is(StatusCode::kFailedPrecondition));
  EXPECT_THAT(sys_.FileContent("/dev/termination-log"),
              HasSubstr("mountPropagation: Bidirectional"));
}

TEST_F(PropagatorTest, MissingFuseDeviceFailsNamingPrivileged) {
  mounter_.AddRootAndTmpfs("/run/ferry/mnt", true);
  sys_.SetError("open", "/dev/fuse", EPERM);
  Status s = Prepare();
  EXPECT_TRUE(s.Is(StatusCode::kFailedPrecondition));
  EXPECT_THAT(sys_.FileContent("/dev/termination-log"), HasSubstr("privileged: true"));
}

TEST_F(PropagatorTest, MissingMntDirIsNotFound) {
  options_.mnt_dir = "/nowhere";
  EXPECT_TRUE(Prepare().Is(StatusCode::kNotFound));
}

TEST_F(PropagatorTest, RunBeforePrepareIsRefused) {
  Propagator p(sys_, mounter_, clock_, options_);
  EXPECT_TRUE(p.Run().Is(StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace ferry::propagator
