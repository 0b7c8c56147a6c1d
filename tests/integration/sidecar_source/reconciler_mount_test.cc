// The reconciler with the production DatasetServerFactory on real FUSE mounts
// (made here the way the propagator makes them: open /dev/fuse, mount(2) with
// fd=N): an exec:// dataset served by a real libfuse3 binary, restarted on a
// fresh mount after a crash, its output in ferry's log, and not remounted once
// removed; cache.preload of an s3rver dataset with progress in the status
// model, after which reads need no GET. Needs root and /dev/fuse.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <csignal>
#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include "common/logging.h"
#include "sidecar/mount_reconciler.h"
#include "tests/integration/sidecar_source/backends.h"
#include "tests/support/fuse_fixture.h"
#include "tests/support/server_fixtures.h"

namespace ferry::testing {
namespace {

namespace fs = std::filesystem;

// Mounts <root>/<name> itself; counts mounts; detaches by path.
class SelfMountProvider final : public sidecar::MountProvider {
 public:
  explicit SelfMountProvider(std::string root) : root_(std::move(root)) {}
  ~SelfMountProvider() override {
    MutexLock lock(mu_);
    for (const std::string& n : mounted_) ::umount2((root_ + "/" + n).c_str(), MNT_DETACH);
  }
  StatusOr<UniqueFd> Mount(const FuseMountRequest& r) override {
    std::string dir = root_ + "/" + r.name;
    fs::create_directories(dir);
    UniqueFd fd(::open("/dev/fuse", O_RDWR | O_CLOEXEC));
    if (!fd) return Unavailable("cannot open /dev/fuse");
    std::string data = "fd=" + std::to_string(fd.get()) +
                       ",rootmode=40000,user_id=0,group_id=0,allow_other";
    if (::mount(r.fsname.c_str(), dir.c_str(), "fuse.ferry", MS_NOSUID | MS_NODEV | MS_RDONLY,
                data.c_str()) != 0) {
      return Unavailable("mount " + dir + ": " + std::string(strerror(errno)));
    }
    MutexLock lock(mu_);
    mounted_.insert(r.name);
    ++mounts_;
    return fd;
  }
  Status Unmount(std::string_view name) override {
    MutexLock lock(mu_);
    ::umount2((root_ + "/" + std::string(name)).c_str(), MNT_DETACH);
    mounted_.erase(std::string(name));
    return Status::Ok();
  }
  StatusOr<std::vector<KeptMount>> Adopt() override { return std::vector<KeptMount>{}; }
  int mounts() {
    MutexLock lock(mu_);
    return mounts_;
  }

 private:
  const std::string root_;
  Mutex mu_;
  std::set<std::string> mounted_ FERRY_GUARDED_BY(mu_);
  int mounts_ FERRY_GUARDED_BY(mu_) = 0;
};

class ReconcilerMountTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0 || ::access("/dev/fuse", R_OK | W_OK) != 0) {
      GTEST_SKIP() << "needs root and /dev/fuse";
    }
    root_ = dir_.path() + "/datasets";
    fs::create_directories(root_);
    provider_ = std::make_unique<SelfMountProvider>(root_);
    sidecar::FuseDatasetOptions o;
    o.cache_dir = dir_.path() + "/cache";
    o.config_dir = dir_.path() + "/config";
    o.exec_initial_backoff = std::chrono::milliseconds(50);
    factory_ = sidecar::NewFuseDatasetServerFactory(o, clock_);
    model_ = std::make_unique<sidecar::StatusModel>(clock_);
    reconciler_ = std::make_unique<sidecar::MountReconciler>(*provider_, *factory_, *model_, clock_,
                                                             sidecar::ReconcilerOptions{});
  }
  void TearDown() override {
    reconciler_.reset();
    provider_.reset();
  }
  sidecar::DatasetStatus Dataset(const std::string& name) {
    reconciler_->Tick();
    auto snap = model_->Snapshot();
    auto it = snap.datasets.find(name);
    return it == snap.datasets.end() ? sidecar::DatasetStatus{} : it->second;
  }

  RealClock clock_;
  TempDir dir_{"ferry-reconcile"};
  std::string root_;
  std::unique_ptr<SelfMountProvider> provider_;
  std::unique_ptr<sidecar::DatasetServerFactory> factory_;
  std::unique_ptr<sidecar::StatusModel> model_;
  std::unique_ptr<sidecar::MountReconciler> reconciler_;
};

// A child of this process running `exe` (the exec:// binary), or 0.
pid_t ChildOf(const std::string& exe) {
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string pid = e.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code ec;
    if (fs::read_symlink(e.path() / "exe", ec) != fs::path(exe)) continue;
    std::string stat = ReadFileOrEmpty(e.path().string() + "/stat");
    size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == ::getpid() && state != "Z") return static_cast<pid_t>(std::stoi(pid));
  }
  return 0;
}

TEST_F(ReconcilerMountTest, ExecDatasetIsServedSupervisedAndLoggedThenRemoved) {
  std::ostringstream logs;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(logs);
  GetLogger("exec")->sinks().push_back(sink);
  MountSpec m;
  m.name = "vendor";
  m.scheme = "exec";
  m.source = std::string("exec://") + HELLO_FUSE3;
  m.options = {{"args", "-o ro {mountpoint}"}};
  reconciler_->Apply(DatasetSpec{{m}});
  EXPECT_EQ(Dataset("vendor").phase, sidecar::DatasetPhase::kMounted) << Dataset("vendor").error;
  std::string hello = root_ + "/vendor/hello";
  EXPECT_TRUE(WaitUntil([&] { return ReadFileOrEmpty(hello) == "hello from exec\n"; },
                      std::chrono::seconds(20)));
  EXPECT_EQ(provider_->mounts(), 1);

  // A crash: restarted on a fresh mount, still Mounted.
  pid_t first = ChildOf(HELLO_FUSE3);
  ASSERT_GT(first, 0);
  ::kill(first, SIGKILL);
  EXPECT_TRUE(WaitUntil([&] { return provider_->mounts() == 2 && ChildOf(HELLO_FUSE3) > 0; },
                      std::chrono::seconds(20)));
  EXPECT_TRUE(WaitUntil([&] { return ReadFileOrEmpty(hello) == "hello from exec\n"; },
                      std::chrono::seconds(20)));
  EXPECT_EQ(Dataset("vendor").phase, sidecar::DatasetPhase::kMounted);

  // Removed: the child ends with the mount and nothing remounts it.
  reconciler_->Apply(DatasetSpec{});
  EXPECT_TRUE(WaitUntil(
      [&] {
        reconciler_->Tick();
        return model_->Snapshot().datasets.count("vendor") == 0;
      },
      std::chrono::seconds(20)));
  EXPECT_EQ(ChildOf(HELLO_FUSE3), 0);
  EXPECT_EQ(provider_->mounts(), 2);
  GetLogger("exec")->sinks().pop_back();
  EXPECT_NE(logs.str().find("hello_fuse3: hello_fuse3 starting"), std::string::npos) << logs.str();
}

TEST_F(ReconcilerMountTest, MissingExecBinaryFailsTheDatasetOnly) {
  MountSpec bad;
  bad.name = "bad";
  bad.scheme = "exec";
  bad.source = "exec://no-such-fuse-binary";
  reconciler_->Apply(DatasetSpec{{bad}});
  sidecar::DatasetStatus st = Dataset("bad");
  EXPECT_EQ(st.phase, sidecar::DatasetPhase::kFailed);
  EXPECT_NE(st.error.find("no-such-fuse-binary"), std::string::npos) << st.error;
  EXPECT_EQ(provider_->mounts(), 0) << "refused before mounting";
}

TEST_F(ReconcilerMountTest, PreloadWarmsTheCacheWithProgressInStatus) {
  StatusOr<std::unique_ptr<S3rverBackend>> backend = S3rverBackend::Create();
  if (!backend.ok()) GTEST_SKIP() << backend.status().ToString();
  uint64_t total = 0;
  for (int i = 0; i < 6; ++i) {
    std::string body(100'000 + 300'000 * static_cast<size_t>(i), static_cast<char>('a' + i));
    total += body.size();
    ASSERT_TRUE((*backend)->Put("train/f" + std::to_string(i), body).ok());
  }
  std::string other(50'000, 'z');
  ASSERT_TRUE((*backend)->Put("test/skip", other).ok());
  MountSpec m;
  m.name = "warm";
  m.scheme = "s3";
  m.source = "s3://ferry/data/";
  m.options = {{"endpoint", (*backend)->server().endpoint()}, {"cache_memory", "64Mi"}};
  m.cache.preload = {"train/**"};
  // Credentials from the projected-Secret layout the backend wrote.
  fs::create_directories(dir_.path() + "/config");
  WriteSecret(dir_.path() + "/config", "test", S3rverServer::kAccessKey, S3rverServer::kSecretKey);
  m.credentials = "test";
  reconciler_->Apply(DatasetSpec{{m}});
  ASSERT_EQ(Dataset("warm").phase, sidecar::DatasetPhase::kMounted) << Dataset("warm").error;
  ASSERT_TRUE(WaitUntil([&] { return Dataset("warm").preload.done; }, std::chrono::seconds(60)));
  sidecar::DatasetStatus st = Dataset("warm");
  EXPECT_TRUE(st.preload.configured);
  EXPECT_EQ(st.preload.files_total, 6u);
  EXPECT_EQ(st.preload.files_done, 6u);
  EXPECT_EQ(st.preload.files_failed, 0u);
  EXPECT_EQ(st.preload.bytes_total, total);
  EXPECT_EQ(st.preload.bytes_done, total);
  EXPECT_EQ(st.preload.error, "");
  uint64_t fetched = st.bytes_read;
  EXPECT_GE(fetched, total);

  // Reading the preloaded files needs no GET.
  for (int i = 0; i < 6; ++i) {
    std::string got = ReadFileOrEmpty(root_ + "/warm/train/f" + std::to_string(i));
    EXPECT_EQ(got.size(), 100'000 + 300'000 * static_cast<size_t>(i));
  }
  EXPECT_EQ(Dataset("warm").bytes_read, fetched);

  // A preload-only change restarts preloading without a remount.
  int mounts = provider_->mounts();
  MountSpec m2 = m;
  m2.cache.preload = {"test/*"};
  reconciler_->Apply(DatasetSpec{{m2}});
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto p = Dataset("warm").preload;
        return p.done && p.files_total == 1;
      },
      std::chrono::seconds(60)));
  EXPECT_EQ(Dataset("warm").preload.bytes_done, other.size());
  EXPECT_EQ(provider_->mounts(), mounts);
}

}  // namespace
}  // namespace ferry::testing
