// The real `ferry-sidecar mount` binary over real s3rver and nginx, through a
// real FUSE mount: every file's bytes equal the origin's, a changed object is
// re-read, `ls -lR` costs one listing per directory (not a request per file),
// credentials and endpoint come from the AWS environment variables, and bad
// options fail with a message naming them. Needs root and /dev/fuse (skips
// otherwise).
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

#include "tests/integration/sidecar_source/backends.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/fuse_fixture.h"
#include "tests/support/server_fixtures.h"

namespace ferry::testing {
namespace {

namespace fs = std::filesystem;

std::string Bin() { return FERRY_BINARY_DIR "/bin/ferry-sidecar"; }  // literal: gcc 12 -Wstringop-overread

// The whole file, or nullopt when open or any read fails (read(2) directly:
// `ss << rdbuf()` turns an EIO halfway, e.g. the object changed under the
// reader, into a short "successful" read).
std::optional<std::string> ReadAll(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// A tree with small, empty, multi-block and prefetch-sized files in nested dirs.
std::map<std::string, std::string> Tree() {
  std::map<std::string, std::string> t;
  t["a.txt"] = "hello ferry\n";
  t["empty"] = "";
  t["d1/x.bin"] = Random((3 << 20) + 5, 1);
  t["d1/d2/y.bin"] = Random((5 << 19) + 77, 2);
  t["big.bin"] = Random((9 << 20) + 123, 3);
  for (int i = 0; i < 20; ++i) {
    t["d3/f" + std::to_string(i)] = Random(10'000 + 4'099 * static_cast<size_t>(i), 10 + i);
  }
  return t;
}
constexpr int kDirs = 4;  // root, d1, d1/d2, d3

class StandaloneMountTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0 || ::access("/dev/fuse", R_OK | W_OK) != 0) {
      GTEST_SKIP() << "needs root and /dev/fuse";
    }
    mnt_ = dir_.path() + "/mnt";
    fs::create_directories(mnt_);
  }
  void TearDown() override {
    if (child_ != nullptr) child_->Stop();
    if (!mnt_.empty() && IsMountPoint(mnt_)) ::umount2(mnt_.c_str(), MNT_DETACH);
  }

  // Starts `ferry-sidecar mount SOURCE mnt -f -o OPTIONS` and waits for the mount.
  void Mount(const std::string& source, const std::string& options,
             const std::vector<std::string>& env) {
    if (child_ != nullptr) {
      child_->Stop();
      ASSERT_TRUE(WaitUntil([&] { return !IsMountPoint(mnt_); }, std::chrono::seconds(10)));
    }
    std::vector<std::string> argv = {Bin(), "mount", source, mnt_, "-f"};
    if (!options.empty()) argv.insert(argv.end(), {"-o", options});
    StatusOr<std::unique_ptr<ChildProcess>> c = ChildProcess::Start(argv, Log(), env);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    child_ = *std::move(c);
    ASSERT_TRUE(WaitUntil([&] { return IsMountPoint(mnt_) || !child_->Running(); },
                        std::chrono::seconds(30)));
    ASSERT_TRUE(IsMountPoint(mnt_)) << ReadFileOrEmpty(Log());
  }
  std::string Log() const { return dir_.path() + "/sidecar.log"; }

  // Every file of `tree` reads back byte for byte; nothing else is there.
  void ExpectTree(const std::map<std::string, std::string>& tree) {
    std::map<std::string, uint64_t> seen;
    for (const auto& e : fs::recursive_directory_iterator(mnt_)) {
      if (e.is_regular_file()) seen[fs::relative(e.path(), mnt_).string()] = e.file_size();
    }
    std::map<std::string, uint64_t> want;
    for (const auto& [p, c] : tree) want[p] = c.size();
    EXPECT_EQ(seen, want);
    for (const auto& [p, c] : tree) {
      std::optional<std::string> got = ReadAll(mnt_ + "/" + p);
      ASSERT_TRUE(got.has_value()) << p;
      EXPECT_TRUE(*got == c) << p << ": " << got->size() << " bytes read, want " << c.size();
    }
  }

  // `ls -lR` of a fresh mount costs at most a few requests per directory.
  void ExpectListingCost(const FaultProxy& proxy) {
    uint64_t before = proxy.requests();
    StatusOr<int> rc = RunCommand({"ls", "-lR", mnt_});
    ASSERT_TRUE(rc.ok() && *rc == 0);
    uint64_t used = proxy.requests() - before;
    EXPECT_LE(used, 2u * kDirs + 2) << "ls -lR issued " << used << " requests for " << kDirs
                                    << " directories and " << Tree().size() << " files";
  }

  // After the origin changed `path` to `now`, reads give `was` or `now`, never
  // a mix, and `now` within the TTL.
  void ExpectReread(const std::string& path, const std::string& was, const std::string& now) {
    bool fresh = WaitUntil(
        [&] {
          std::optional<std::string> got = ReadAll(mnt_ + "/" + path);
          auto diag = [&](const std::string& g) {
            std::string out;
            for (const std::string* ref : {&was, &now}) {
              size_t i = 0;
              while (i < g.size() && i < ref->size() && g[i] == (*ref)[i]) ++i;
              size_t zeros = 0;
              for (size_t k = i; k < g.size() && g[k] == 0; ++k) ++zeros;
              out += " first diff " + std::to_string(i) + " of " + std::to_string(ref->size()) + " zeros after " + std::to_string(zeros) + ";";
            }
            return out;
          };
          EXPECT_TRUE(!got.has_value() || *got == was || *got == now)
              << path << ": mixed or wrong bytes (" << (got ? got->size() : 0) << ")" << (got ? diag(*got) : "");
          return got.has_value() && *got == now;
        },
        std::chrono::seconds(15));
    EXPECT_TRUE(fresh) << path << " still not re-read";
  }

  TempDir dir_{"ferry-standalone"};
  std::string mnt_;
  std::unique_ptr<ChildProcess> child_;
};

constexpr char kShortTtls[] = "attr_ttl=1s,entry_ttl=1s,dir_ttl=1s,negative_ttl=1s";

TEST_F(StandaloneMountTest, S3ChecksumsListingCostAndChangedObjects) {
  StatusOr<std::unique_ptr<S3rverServer>> server = S3rverServer::Start({"ferry"});
  if (!server.ok()) GTEST_SKIP() << server.status().ToString();
  auto tree = Tree();
  for (const auto& [p, c] : tree) {
    ASSERT_TRUE(S3Write((*server)->endpoint(), "ferry", "data/" + p, &c).ok()) << p;
  }
  StatusOr<std::unique_ptr<FaultProxy>> proxy = FaultProxy::Start((*server)->port());
  ASSERT_TRUE(proxy.ok());
  // Endpoint, region and credentials from the standard AWS variables.
  std::vector<std::string> env = {
      "AWS_ACCESS_KEY_ID=" + std::string(S3rverServer::kAccessKey),
      "AWS_SECRET_ACCESS_KEY=" + std::string(S3rverServer::kSecretKey),
      "AWS_ENDPOINT_URL=http://127.0.0.1:" + std::to_string((*proxy)->port()),
      "AWS_REGION=us-east-1"};
  std::string opts = std::string(kShortTtls) + ",cache_memory=64Mi,prefetch_workers=2";
  ASSERT_NO_FATAL_FAILURE(Mount("s3://ferry/data/", opts, env));
  ExpectListingCost(**proxy);
  ExpectTree(tree);
  // Warm: a second pass reads the same bytes (kernel page cache / block cache).
  ExpectTree(tree);

  std::string new_x = Random((2 << 20) + 999, 42);
  std::string new_a = "HELLO FERRY\n";  // same size
  ASSERT_TRUE(S3Write((*server)->endpoint(), "ferry", "data/d1/x.bin", &new_x).ok());
  ASSERT_TRUE(S3Write((*server)->endpoint(), "ferry", "data/a.txt", &new_a).ok());
  ExpectReread("d1/x.bin", tree["d1/x.bin"], new_x);
  ExpectReread("a.txt", tree["a.txt"], new_a);
}

TEST_F(StandaloneMountTest, S3WrongKeyIsPermissionDenied) {
  StatusOr<std::unique_ptr<S3rverServer>> server = S3rverServer::Start({"ferry"});
  if (!server.ok()) GTEST_SKIP() << server.status().ToString();
  std::string body = "x";
  ASSERT_TRUE(S3Write((*server)->endpoint(), "ferry", "data/a", &body).ok());
  ASSERT_NO_FATAL_FAILURE(Mount("s3://ferry/data/", "endpoint=" + (*server)->endpoint(),
                                {"AWS_ACCESS_KEY_ID=WRONG", "AWS_SECRET_ACCESS_KEY=WRONG"}));
  std::error_code ec;
  fs::directory_iterator it(mnt_, ec);
  EXPECT_EQ(ec.value(), EACCES) << ec.message();
}

TEST_F(StandaloneMountTest, HttpChecksumsListingCostAndChangedFiles) {
  StatusOr<std::unique_ptr<NginxServer>> server = NginxServer::Start({});
  if (!server.ok()) GTEST_SKIP() << server.status().ToString();
  auto tree = Tree();
  int version = 0;
  auto put = [&](const std::string& p, const std::string& c) {
    // Replaced atomically, as a publisher would: a reader never sees a half-written origin file.
    std::string file = (*server)->root() + "/data/" + p;
    std::string tmp = file + ".tmp-upload";
    ASSERT_TRUE(WriteFile(tmp, c).ok());
    // A new version gets a new mtime minute: HTML listings have minute precision.
    timespec times[2] = {{0, UTIME_OMIT}, {static_cast<time_t>(1'700'000'000 + ++version * 120), 0}};
    ::utimensat(AT_FDCWD, tmp.c_str(), times, 0);
    ASSERT_EQ(::rename(tmp.c_str(), file.c_str()), 0);
  };
  for (const auto& [p, c] : tree) put(p, c);
  StatusOr<std::unique_ptr<FaultProxy>> proxy = FaultProxy::Start((*server)->port());
  ASSERT_TRUE(proxy.ok());
  std::string url = "http://127.0.0.1:" + std::to_string((*proxy)->port()) + "/data/";
  ASSERT_NO_FATAL_FAILURE(Mount(url, std::string(kShortTtls) + ",cache_memory=64Mi", {}));
  ExpectListingCost(**proxy);
  ExpectTree(tree);

  std::string new_x = Random((1 << 20) + 1, 43);
  std::string new_a = "HELLO FERRY\n";
  put("d1/x.bin", new_x);
  put("a.txt", new_a);
  ExpectReread("d1/x.bin", tree["d1/x.bin"], new_x);
  ExpectReread("a.txt", tree["a.txt"], new_a);
}

TEST_F(StandaloneMountTest, BadOptionsNameTheOptionAndTheFix) {
  struct Case {
    std::string source, options, must_name;
  };
  std::vector<Case> cases = {
      {"s3://b/", "cache_memroy=64Mi", "cache_memroy"},
      {"s3://b/", "style=sideways", "style"},
      {"s3://b/", "cache_memory=lots", "cache_memory"},
      {"s3://b/", "attr_ttl=soon", "attr_ttl"},
      {"http://127.0.0.1:1/", "region=x", "region"},
      {"s3://b/", "rw", "read-only"},
      {"ftp://b/", "", "s3://"},
  };
  for (const Case& c : cases) {
    std::string log = dir_.path() + "/bad.log";
    std::vector<std::string> argv = {Bin(), "mount", c.source, mnt_};
    if (!c.options.empty()) argv.insert(argv.end(), {"-o", c.options});
    StatusOr<int> rc = RunCommand(argv, log);  // detaching mode: the parent reports the child's code
    ASSERT_TRUE(rc.ok());
    EXPECT_EQ(*rc, 2) << c.options << ": " << ReadFileOrEmpty(log);
    EXPECT_NE(ReadFileOrEmpty(log).find(c.must_name), std::string::npos)
        << c.options << ": " << ReadFileOrEmpty(log);
    EXPECT_FALSE(IsMountPoint(mnt_));
  }
}

}  // namespace
}  // namespace ferry::testing
