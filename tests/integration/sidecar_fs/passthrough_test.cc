// FUSE passthrough on real mounts (Linux >= 6.9): local:// files opened
// through ferry are served by the kernel from the backing files. Both ways the
// data plane gets a mount: StartOnPath registers backing files with its own
// fd; StartOnFd (the propagator's way) registers them through another holder
// of the connection, here the test's dup of /dev/fuse as the propagator keeps.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "sidecar/fs/backing.h"
#include "sidecar/fs/filesystem.h"
#include "sidecar/fs/fuse_server.h"
#include "sidecar/source/local_source.h"
#include "tests/integration/sidecar_fs/mount_way.h"
#include "tests/support/fuse_fixture.h"
#include "tests/support/server_fixtures.h"

namespace ferry::sidecar {
namespace {

namespace stdfs = std::filesystem;
using testing::FuseMountGuard;
using testing::ScopedTempDir;
using testing::WaitUntil;


std::string Slurp(const std::string& path) { return testing::ReadFileOrEmpty(path); }
void Spit(const std::string& path, const std::string& data) {
  ASSERT_TRUE(testing::WriteFile(path, data).ok()) << path;
}
std::string Random(size_t n, uint32_t seed) { return testing::RandomBytes(n, seed); }

// Counts registrations on the way to the real ioctl; can be told to fail.
class CountingRegistrar final : public BackingRegistrar {
 public:
  explicit CountingRegistrar(int fuse_fd) : device_(NewDeviceBackingRegistrar(fuse_fd)) {}
  StatusOr<int32_t> Open(int file_fd) override {
    if (fail) return PermissionDenied("refused by the test");
    StatusOr<int32_t> id = device_->Open(file_fd);
    if (id.ok()) opens++;
    return id;
  }
  void Close(int32_t id) override {
    closes++;
    device_->Close(id);
  }
  std::atomic<bool> fail{false};
  std::atomic<int> opens{0};
  std::atomic<int> closes{0};

 private:
  std::unique_ptr<BackingRegistrar> device_;
};

class PassthroughTest : public ::testing::TestWithParam<MountWay> {
 protected:
  void SetUp() override {
    std::string why = testing::FuseUnavailableReason();
    if (!why.empty()) GTEST_SKIP() << why;
    src_ = work_.path() + "/src";
    mnt_ = work_.path() + "/mnt";
    stdfs::create_directories(src_ + "/d");
    stdfs::create_directories(mnt_);
    Spit(src_ + "/small", "hello passthrough\n");
    Spit(src_ + "/big", Random((8 << 20) + 123, 7));
    for (int i = 0; i < 40; ++i) Spit(src_ + "/d/f" + std::to_string(i), Random(4096 * i + 5, i));
  }

  void TearDown() override {
    server_.reset();
    kept_fd_.Reset();
    if (!mnt_.empty()) FuseMountGuard unmount(mnt_);
  }

  // Mounts src_ at mnt_ with passthrough asked for. Returns false (and the
  // test skips) when the kernel does not offer passthrough.
  bool Start(bool passthrough = true, bool fail_registration = false,
             std::chrono::nanoseconds ttl = std::chrono::hours(1)) {
    source_ = std::make_unique<LocalSource>(src_);
    FilesystemOptions o = FilesystemOptions::ForLocal();
    o.attr_ttl = o.entry_ttl = o.dir_ttl = o.negative_ttl = ttl;
    o.passthrough = passthrough;
    o.passthrough_min_bytes = 0;  // every file, even the 18-byte one
    auto fs = std::make_unique<Filesystem>(*source_, nullptr, o, clock_);
    fs_ = fs.get();
    auto with_kept = [&](int kept_fd, FuseServerOptions& options) {
      auto registrar = std::make_shared<CountingRegistrar>(kept_fd);
      registrar->fail = fail_registration;
      registrar_ = registrar.get();
      options.backing = registrar;
    };
    StatusOr<std::unique_ptr<FuseServer>> server = StartMountWay(
        GetParam(), mnt_, std::move(fs), FuseServerOptions{}, /*read_only=*/true, kept_fd_, with_kept);
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    if (!server.ok()) return false;
    server_ = std::move(*server);
    EXPECT_TRUE(server_->WaitInitialized(std::chrono::seconds(10)));
    return true;
  }

  // Skips only when the kernel's INIT did not offer passthrough; when it did,
  // the mount must have negotiated it.
  bool KernelLacksPassthrough() {
    if (!server_->KernelOffersPassthrough()) return true;
    EXPECT_TRUE(fs_->Stats().passthrough);
    return false;
  }

  ScopedTempDir work_{"ferry-pt-it"};
  std::string src_, mnt_;
  RealClock clock_;
  std::unique_ptr<LocalSource> source_;
  Filesystem* fs_ = nullptr;
  CountingRegistrar* registrar_ = nullptr;  // kFd only
  std::unique_ptr<FuseServer> server_;
  UniqueFd kept_fd_;
};

#define START_OR_SKIP(...)                                                                 \
  do {                                                                                     \
    ASSERT_TRUE(Start(__VA_ARGS__));                                                       \
    if (KernelLacksPassthrough()) GTEST_SKIP() << "the kernel offers no FUSE passthrough"; \
  } while (0)

TEST_P(PassthroughTest, ReadsComeFromTheBackingFilesNotFromFerry) {
  START_OR_SKIP();
  EXPECT_EQ(Slurp(mnt_ + "/small"), "hello passthrough\n");
  EXPECT_EQ(Slurp(mnt_ + "/big"), Slurp(src_ + "/big"));
  for (int i = 0; i < 40; ++i) {
    std::string f = "/d/f" + std::to_string(i);
    ASSERT_EQ(Slurp(mnt_ + f), Slurp(src_ + f)) << f;
  }
  FilesystemStats st = fs_->Stats();
  EXPECT_EQ(st.passthrough_opens, 42u);
  EXPECT_EQ(st.read_bytes, 0u);  // not one READ reached ferry
  EXPECT_TRUE(st.passthrough);
  if (registrar_ != nullptr) {
    EXPECT_EQ(registrar_->opens.load(), 42);
    // Reading everything again reuses the idle registrations.
    EXPECT_EQ(Slurp(mnt_ + "/big"), Slurp(src_ + "/big"));
    EXPECT_EQ(Slurp(mnt_ + "/d/f7"), Slurp(src_ + "/d/f7"));
    EXPECT_EQ(registrar_->opens.load(), 42);
    EXPECT_EQ(registrar_->closes.load(), 0);
  }
}

TEST_P(PassthroughTest, ConcurrentOpensOfOneFileShareItsBackingFile) {
  // The kernel refuses a second backing file, or a cached open, on an inode
  // that is open with passthrough (EIO to the app): 8 threads hammer the same
  // files with overlapping open/read/close.
  START_OR_SKIP();
  const std::string want_big = Slurp(src_ + "/big");
  const std::string want_small = Slurp(src_ + "/small");
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 30; ++i) {
        bool big = (i + t) % 5 == 0;
        std::string got = Slurp(mnt_ + (big ? "/big" : "/small"));
        if (got != (big ? want_big : want_small)) bad++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(fs_->Stats().read_bytes, 0u);
  if (registrar_ != nullptr) {
    EXPECT_EQ(registrar_->opens.load(), 2);  // one per file, not per open
  }
}

TEST_P(PassthroughTest, MmapReadsTheBackingFile) {
  START_OR_SKIP();
  UniqueFd fd(::open((mnt_ + "/big").c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  struct stat st;
  ASSERT_EQ(::fstat(fd.get(), &st), 0);
  void* p = ::mmap(nullptr, st.st_size, PROT_READ, MAP_SHARED, fd.get(), 0);
  ASSERT_NE(p, MAP_FAILED) << std::strerror(errno);
  std::string want = Slurp(src_ + "/big");
  ASSERT_EQ(static_cast<size_t>(st.st_size), want.size());
  EXPECT_EQ(std::memcmp(p, want.data(), want.size()), 0);
  ::munmap(p, st.st_size);
}

TEST_P(PassthroughTest, ReplacedFileIsReadFreshAfterReopen) {
  START_OR_SKIP(true, false, std::chrono::nanoseconds(0));  // every open sees the source
  EXPECT_EQ(Slurp(mnt_ + "/small"), "hello passthrough\n");
  Spit(src_ + "/small.tmp", "HELLO PASSTHROUGH\n");
  stdfs::rename(src_ + "/small.tmp", src_ + "/small");
  // The kernel sends RELEASE after close() returns; while a handle is open
  // the inode keeps its backing file (the kernel's rule).
  ASSERT_TRUE(WaitUntil([&] { return fs_->Stats().open_handles == 0; }));
  // The idle registration is of the old file: the next open sees the new
  // version and registers the new file instead.
  EXPECT_EQ(Slurp(mnt_ + "/small"), "HELLO PASSTHROUGH\n");
  if (registrar_ != nullptr) {
    EXPECT_EQ(registrar_->opens.load(), 2);
    EXPECT_EQ(registrar_->closes.load(), 1);
  }
}

TEST_P(PassthroughTest, OptionOffKeepsEveryReadInFerry) {
  ASSERT_TRUE(Start(/*passthrough=*/false));
  EXPECT_EQ(Slurp(mnt_ + "/big"), Slurp(src_ + "/big"));
  FilesystemStats st = fs_->Stats();
  EXPECT_FALSE(st.passthrough);
  EXPECT_EQ(st.passthrough_opens, 0u);
  EXPECT_GE(st.read_bytes, uint64_t{8} << 20);
}

TEST_P(PassthroughTest, RefusedRegistrationFallsBackToFerryReads) {
  if (GetParam() == MountWay::kPath) GTEST_SKIP() << "the registrar is injected in StartOnFd only";
  START_OR_SKIP(/*passthrough=*/true, /*fail_registration=*/true);
  EXPECT_EQ(Slurp(mnt_ + "/big"), Slurp(src_ + "/big"));
  EXPECT_EQ(Slurp(mnt_ + "/small"), "hello passthrough\n");
  FilesystemStats st = fs_->Stats();
  EXPECT_FALSE(st.passthrough);  // turned off after the first refusal
  EXPECT_EQ(st.passthrough_opens, 0u);
  EXPECT_GE(st.read_bytes, uint64_t{8} << 20);
  EXPECT_EQ(registrar_->opens.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Modes, PassthroughTest, ::testing::Values(MountWay::kPath, MountWay::kFd),
                         MountWayName);

}  // namespace
}  // namespace ferry::sidecar
