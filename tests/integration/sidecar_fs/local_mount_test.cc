// Real FUSE mounts of a LocalSource, served by FuseServer both ways the data
// plane gets them: StartOnPath (mounts itself) and StartOnFd (the test opens
// /dev/fuse and mounts it, as the propagator does, keeping a dup).

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "common/clock.h"
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


std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

using testing::RandomBytes;

class LocalMountTest : public ::testing::TestWithParam<MountWay> {
 protected:
  void SetUp() override {
    std::string why = testing::FuseUnavailableReason();
    if (!why.empty()) GTEST_SKIP() << why;
    src_ = work_.path() + "/src";
    mnt_ = work_.path() + "/mnt";
    stdfs::create_directories(src_ + "/a/b/c");
    stdfs::create_directories(mnt_);
    WriteFile(src_ + "/empty", "");
    WriteFile(src_ + "/small.txt", "hello ferry\n");
    WriteFile(src_ + "/a/page", RandomBytes(4095, 1));
    WriteFile(src_ + "/a/b/mib", RandomBytes((1 << 20) + 17, 2));
    WriteFile(src_ + "/a/b/c/big", RandomBytes(5 << 20, 3));
    ::chmod((src_ + "/small.txt").c_str(), 0640);
    stdfs::create_symlink("a/b/mib", src_ + "/link");
    stdfs::create_symlink("/etc/../nowhere", src_ + "/a/abs");
    stdfs::create_directories(src_ + "/many");
    for (int i = 0; i < 100; ++i) {
      WriteFile(src_ + "/many/f" + std::to_string(i), RandomBytes(1000 + 97 * i, 100 + i));
    }
  }

  void TearDown() override {
    server_.reset();
    kept_fd_.Reset();  // the last fd: the connection ends, nothing can block on the mount
    if (!mnt_.empty()) {
      FuseMountGuard unmount(mnt_);
    }
  }

  // Mounts src_ at mnt_; with kFd the test keeps a dup of /dev/fuse like the propagator.
  void Start(FilesystemOptions fs_options = FilesystemOptions::ForLocal(),
             FuseServerOptions options = {}, bool read_only = true) {
    source_ = std::make_unique<LocalSource>(src_);
    auto fs = std::make_unique<Filesystem>(*source_, nullptr, fs_options, clock_);
    fs_ = fs.get();
    options.on_exit = [this](const Status& s) {
      exit_status_ = s.ToString();
      exits_++;
    };
    StatusOr<std::unique_ptr<FuseServer>> server =
        StartMountWay(GetParam(), mnt_, std::move(fs), std::move(options), read_only, kept_fd_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    ASSERT_TRUE(server_->WaitInitialized(std::chrono::seconds(10)));
  }

  std::vector<std::string> SourceFiles() {
    std::vector<std::string> out;
    for (auto& e : stdfs::recursive_directory_iterator(src_)) {
      if (e.is_regular_file() && !e.is_symlink()) {
        out.push_back(stdfs::relative(e.path(), src_).string());
      }
    }
    return out;
  }

  ScopedTempDir work_{"ferry-fs-it"};
  std::string src_, mnt_;
  RealClock clock_;
  std::unique_ptr<LocalSource> source_;
  Filesystem* fs_ = nullptr;
  std::unique_ptr<FuseServer> server_;
  UniqueFd kept_fd_;
  std::atomic<int> exits_{0};
  std::string exit_status_;
};

TEST_P(LocalMountTest, EveryFileReadsBackIdentically) {
  Start();
  std::vector<std::string> files = SourceFiles();
  ASSERT_EQ(files.size(), 105u);
  for (const std::string& f : files) {
    EXPECT_EQ(ReadFile(mnt_ + "/" + f), ReadFile(src_ + "/" + f)) << f;
  }
  EXPECT_EQ(server_->NegotiatedMaxWrite(), 1u << 20);
}

TEST_P(LocalMountTest, SplicedRepliesReadBackIdentically) {
  FuseServerOptions o;
  o.conn.splice_write = true;  // replies spliced from the LocalSource fds
  Start(FilesystemOptions::ForLocal(), o);
  for (const std::string& f : SourceFiles()) {
    EXPECT_EQ(ReadFile(mnt_ + "/" + f), ReadFile(src_ + "/" + f)) << f;
  }
}

TEST_P(LocalMountTest, DirectIoReadsBackIdentically) {
  FilesystemOptions o = FilesystemOptions::ForLocal();
  o.local_direct_io = true;  // O_DIRECT where /tmp allows it, else buffered
  Start(o);
  for (const std::string& f : SourceFiles()) {
    EXPECT_EQ(ReadFile(mnt_ + "/" + f), ReadFile(src_ + "/" + f)) << f;
  }
}

TEST_P(LocalMountTest, StatFieldsMatchTheSource) {
  Start();
  for (const char* rel : {"small.txt", "a/b/mib", "a", "a/b/c", "link", "empty"}) {
    struct stat s, m;
    ASSERT_EQ(::lstat((src_ + "/" + rel).c_str(), &s), 0);
    ASSERT_EQ(::lstat((mnt_ + "/" + rel).c_str(), &m), 0) << rel << ": " << std::strerror(errno);
    EXPECT_EQ(s.st_mode & S_IFMT, m.st_mode & S_IFMT) << rel;
    EXPECT_EQ(s.st_mode & 07777, m.st_mode & 07777) << rel;
    if (!S_ISDIR(s.st_mode)) {
      EXPECT_EQ(s.st_size, m.st_size) << rel;
    }
    EXPECT_EQ(s.st_mtim.tv_sec, m.st_mtim.tv_sec) << rel;
    EXPECT_EQ(s.st_mtim.tv_nsec, m.st_mtim.tv_nsec) << rel;
    EXPECT_NE(m.st_ino, 0u);
  }
}

TEST_P(LocalMountTest, ReaddirAndReadlinkMatch) {
  Start();
  for (const char* dir : {"", "a", "a/b", "many"}) {
    std::set<std::string> want, got;
    for (auto& e : stdfs::directory_iterator(src_ + "/" + dir)) want.insert(e.path().filename());
    for (auto& e : stdfs::directory_iterator(mnt_ + "/" + dir)) got.insert(e.path().filename());
    EXPECT_EQ(want, got) << dir;
  }
  EXPECT_EQ(stdfs::read_symlink(mnt_ + "/link"), "a/b/mib");
  EXPECT_EQ(stdfs::read_symlink(mnt_ + "/a/abs"), "/etc/../nowhere");
  EXPECT_EQ(ReadFile(mnt_ + "/link"), ReadFile(src_ + "/a/b/mib"));  // the kernel follows it
  struct stat st;
  EXPECT_EQ(::stat((mnt_ + "/missing").c_str(), &st), -1);
  EXPECT_EQ(errno, ENOENT);
}

TEST_P(LocalMountTest, WritesAreErofsFromTheServer) {
  // Not MS_RDONLY: every refusal below comes from ferry, not from the VFS.
  Start(FilesystemOptions::ForLocal(), {}, /*read_only=*/false);
  auto expect_erofs = [](int rc, const char* what) {
    EXPECT_EQ(rc, -1) << what;
    EXPECT_EQ(errno, EROFS) << what;
  };
  expect_erofs(::open((mnt_ + "/small.txt").c_str(), O_WRONLY), "open O_WRONLY");
  expect_erofs(::open((mnt_ + "/small.txt").c_str(), O_RDWR), "open O_RDWR");
  expect_erofs(::open((mnt_ + "/new").c_str(), O_WRONLY | O_CREAT, 0644), "create");
  expect_erofs(::unlink((mnt_ + "/small.txt").c_str()), "unlink");
  expect_erofs(::mkdir((mnt_ + "/d").c_str(), 0755), "mkdir");
  expect_erofs(::rmdir((mnt_ + "/a/b/c").c_str()), "rmdir");
  expect_erofs(::rename((mnt_ + "/small.txt").c_str(), (mnt_ + "/x").c_str()), "rename");
  expect_erofs(::truncate((mnt_ + "/small.txt").c_str(), 0), "truncate");
  expect_erofs(::chmod((mnt_ + "/small.txt").c_str(), 0777), "chmod");
  expect_erofs(::symlink("x", (mnt_ + "/sl").c_str()), "symlink");
  EXPECT_EQ(ReadFile(src_ + "/small.txt"), "hello ferry\n");
}

TEST_P(LocalMountTest, HundredFilesEightThreads) {
  // TTLs far longer than the test: with the default 1 s, a slow machine (ASan,
  // a loaded CI host) sees listings and attributes expire mid-test and the
  // refreshes count as Stat calls. The property checked is how names resolve,
  // not how long a listing stays fresh (tests/unit/sidecar/fs covers expiry).
  FilesystemOptions o = FilesystemOptions::ForLocal();
  o.attr_ttl = o.entry_ttl = o.dir_ttl = o.negative_ttl = std::chrono::hours(1);
  Start(o);
  std::map<std::string, std::string> want;
  for (int i = 0; i < 100; ++i) {
    std::string name = "many/f" + std::to_string(i);
    want[name] = ReadFile(src_ + "/" + name);
  }
  std::atomic<int> mismatches{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 8; ++t) {
    readers.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        std::string name = "many/f" + std::to_string((i + t * 13) % 100);
        if (ReadFile(mnt_ + "/" + name) != want[name]) mismatches++;
      }
    });
  }
  for (auto& r : readers) r.join();
  EXPECT_EQ(mismatches.load(), 0);
  // One listing for the directory, not a stat per file.
  EXPECT_LE(fs_->Stats().metadata.stats, 2u);
}

TEST_P(LocalMountTest, ReReadIsServedFromThePageCache) {
  // TTLs far longer than the test: the first 5 MiB read can take over a second
  // under ASan on a loaded host, and once the default 1 s TTLs expire the
  // re-read goes to FUSE again (seen under ASan: 10.6 MB read for 5 MiB twice).
  FilesystemOptions o = FilesystemOptions::ForLocal();
  o.attr_ttl = o.entry_ttl = o.dir_ttl = o.negative_ttl = std::chrono::hours(1);
  Start(o);
  std::string want = ReadFile(src_ + "/a/b/c/big");
  EXPECT_EQ(ReadFile(mnt_ + "/a/b/c/big"), want);
  uint64_t after_first = fs_->Stats().read_bytes;
  EXPECT_GE(after_first, want.size());
  EXPECT_EQ(ReadFile(mnt_ + "/a/b/c/big"), want);
  EXPECT_EQ(fs_->Stats().read_bytes, after_first);  // keep_cache: no FUSE reads
  EXPECT_GE(fs_->Stats().keep_cache_opens, 1u);
}

TEST_P(LocalMountTest, ChangedFileIsNotServedStale) {
  FilesystemOptions o;
  o.attr_ttl = o.entry_ttl = o.dir_ttl = o.negative_ttl = std::chrono::nanoseconds(0);
  Start(o);
  EXPECT_EQ(ReadFile(mnt_ + "/small.txt"), "hello ferry\n");
  WriteFile(src_ + "/small.txt.tmp", "HELLO FERRY\n");  // same size, new inode
  stdfs::rename(src_ + "/small.txt.tmp", src_ + "/small.txt");
  EXPECT_EQ(ReadFile(mnt_ + "/small.txt"), "HELLO FERRY\n");
}

TEST_P(LocalMountTest, ServerEndsByItselfAfterLazyUnmountAndLastClose) {
  Start();
  int fd = ::open((mnt_ + "/small.txt").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::umount2(mnt_.c_str(), MNT_DETACH), 0);
  char buf[5];
  EXPECT_EQ(::pread(fd, buf, 5, 0), 5);  // still served while open
  EXPECT_TRUE(server_->Running());
  ::close(fd);
  // on_exit runs on the last worker just after Running() turns false.
  EXPECT_TRUE(WaitUntil([&] { return !server_->Running() && exits_.load() > 0; }));
  EXPECT_EQ(exits_.load(), 1);
  EXPECT_EQ(exit_status_, "OK");
}

TEST_P(LocalMountTest, StopWithIdleThreadsIsQuickAndLeaksNothing) {
  int fds_before = testing::CountOpenFds();
  int threads_before = testing::CountThreads();
  Start();
  // Make several workers exist: parallel readers.
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] { ReadFile(mnt_ + "/a/b/c/big"); });
  }
  for (auto& r : readers) r.join();
  EXPECT_GE(server_->ThreadCountForTest(), 1u);
  auto stopped = std::async(std::launch::async, [&] { server_->Stop(); });
  ASSERT_EQ(stopped.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_FALSE(server_->Running());
  EXPECT_EQ(exits_.load(), 1);
  server_.reset();
  if (GetParam() == MountWay::kPath) {
    EXPECT_FALSE(testing::IsMountPoint(mnt_));
  }
  kept_fd_.Reset();
  { FuseMountGuard unmount(mnt_); }
  source_.reset();
  EXPECT_EQ(testing::CountOpenFds(), fds_before);
  EXPECT_TRUE(WaitUntil([&] { return testing::CountThreads() == threads_before; }));
}

TEST_P(LocalMountTest, ManyThreadsSpawnOnlyUnderLoad) {
  FuseServerOptions o;
  o.max_threads = 3;
  Start(FilesystemOptions::ForLocal(), o);
  std::vector<std::thread> readers;
  for (int t = 0; t < 8; ++t) {
    readers.emplace_back([&] { ReadFile(mnt_ + "/a/b/mib"); });
  }
  for (auto& r : readers) r.join();
  EXPECT_LE(server_->ThreadCountForTest(), 3u);
}

INSTANTIATE_TEST_SUITE_P(Modes, LocalMountTest, ::testing::Values(MountWay::kPath, MountWay::kFd),
                         MountWayName);

}  // namespace
}  // namespace ferry::sidecar
