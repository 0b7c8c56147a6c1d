// ferry-sidecar run under the real ferry-propagator: AtomicWriter updates of a
// config dir make FUSE mounts appear, change and disappear; a bad spec keeps
// them and is reported; SIGTERM exits 0 and leaves no mount; ferryctl probe
// reads the real status.json. The whole test process runs in its own mount
// namespace, so every mount it makes dies with it.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/atomic_writer.h"

extern char** environ;

namespace ferry {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

// Concatenation by append: gcc 12 warns falsely (-Wrestrict, -Warray-bounds)
// on `"literal" + std::string` chains at -O2 (GCC PR 105329).
std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

std::string Bin(const std::string& name) { return Cat({FERRY_BINARY_DIR, "/bin/", name}); }

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool WaitUntil(const std::function<bool()>& pred, milliseconds timeout = milliseconds(20'000)) {
  auto deadline = Steady::now() + timeout;
  while (Steady::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(2));
  }
  return pred();
}

// Mount points of type fuse.* below `dir`, from /proc/self/mountinfo.
std::vector<std::string> FuseMountsUnder(const std::string& dir) {
  std::vector<std::string> out;
  std::istringstream in(Slurp("/proc/self/mountinfo"));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string id, parent, devno, root, mnt;
    f >> id >> parent >> devno >> root >> mnt;
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream rest(line.substr(dash + 3));
    std::string type;
    rest >> type;
    if (type.rfind("fuse", 0) == 0 && mnt.rfind(Cat({dir, "/"}), 0) == 0) out.push_back(mnt);
  }
  return out;
}

bool IsMounted(const std::string& path) {
  for (const auto& m : FuseMountsUnder(fs::path(path).parent_path().string())) {
    if (m == path) return true;
  }
  return false;
}

pid_t Spawn(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) return -1;
  return pid;
}

// Waits for `pid` to exit; returns its exit code, or -1 on timeout.
int WaitExit(pid_t pid, milliseconds timeout) {
  auto deadline = Steady::now() + timeout;
  while (Steady::now() < deadline) {
    int st = 0;
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    std::this_thread::sleep_for(milliseconds(5));
  }
  return -1;
}

class SidecarRunTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() != 0) {
      skip_ = "needs root";
      return;
    }
    if (access("/dev/fuse", R_OK | W_OK) != 0) {
      skip_ = "needs /dev/fuse";
      return;
    }
    for (const char* b : {"ferry-propagator", "ferry-sidecar", "ferryctl"}) {
      if (access(Bin(b).c_str(), X_OK) != 0) {
        skip_ = Cat({"build ", b, " first (", Bin(b), ")"});
        return;
      }
    }
    // A private mount namespace for the whole test process (no threads yet).
    if (unshare(CLONE_NEWNS) != 0 ||
        mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      skip_ = "cannot create a mount namespace";
      return;
    }
  }

  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    char tmpl[] = "/tmp/ferry-sidecar-it-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    shared_ = Cat({root_, "/shared"});
    mnt_ = Cat({shared_, "/mnt"});
    config_ = Cat({root_, "/config"});
    data_ = Cat({root_, "/data"});
    fs::create_directories(shared_);
    // The emptyDir: a tmpfs on a shared mount, as Bidirectional propagation needs.
    ASSERT_EQ(mount("tmpfs", shared_.c_str(), "tmpfs", 0, "size=16m"), 0);
    ASSERT_EQ(mount(nullptr, shared_.c_str(), nullptr, MS_SHARED, nullptr), 0);
    fs::create_directories(mnt_);
    fs::create_directories(config_);
    fs::create_directories(Cat({root_, "/cache"}));
    for (const char* d : {"a", "b", "c"}) {
      fs::create_directories(Cat({data_, "/", d, "/sub"}));
      std::ofstream(Cat({data_, "/", d, "/hello.txt"})) << "hello from " << d << "\n";
      std::ofstream(Cat({data_, "/", d, "/sub/x.bin"})) << std::string(100'000, d[0]);
    }
    writer_ = std::make_unique<testing::AtomicWriter>(config_);
  }

  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      if (WaitExit(pid_, milliseconds(15'000)) < 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
      }
    }
    if (root_.empty()) return;
    for (const auto& m : FuseMountsUnder(mnt_)) umount2(m.c_str(), MNT_DETACH);
    umount2(shared_.c_str(), MNT_DETACH);
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  std::string Spec(const std::vector<std::string>& names) {
    std::string s = "mounts:\n";
    for (const auto& n : names)
      s += Cat({"  - name: ", n, "\n    source: local://", data_, "/", n, "\n"});
    if (names.empty()) s = "mounts: []\n";
    return s;
  }

  void Start() {
    pid_ = Spawn({Bin("ferry-propagator"), Cat({"--mnt-dir=", mnt_}), "--grace=5s",
                  "--termination-log=", "--", Bin("ferry-sidecar"), "run",
                  Cat({"--config-dir=", config_}), Cat({"--mnt-dir=", mnt_}),
                  Cat({"--cache-dir=", root_, "/cache"}), "--status-addr=127.0.0.1:0",
                  "--debounce=20ms"});
    ASSERT_GT(pid_, 0);
  }

  nlohmann::json StatusJson() {
    std::string text = Slurp(Cat({mnt_, "/.ferry/status.json"}));
    auto j = nlohmann::json::parse(text, nullptr, false);
    return j.is_discarded() ? nlohmann::json::object() : j;
  }
  bool Ready() { return StatusJson().value("ready", false); }
  std::string Phase(const std::string& name) {
    auto j = StatusJson();
    if (!j.contains("datasets") || !j["datasets"].contains(name)) return "";
    return j["datasets"][name].value("phase", "");
  }
  bool Readable(const std::string& name) {
    return Slurp(Cat({mnt_, "/", name, "/hello.txt"})) == Cat({"hello from ", name, "\n"});
  }

  static std::string skip_;
  std::string root_, shared_, mnt_, config_, data_;
  std::unique_ptr<testing::AtomicWriter> writer_;
  pid_t pid_ = -1;
};

std::string SidecarRunTest::skip_;

TEST_F(SidecarRunTest, InitialSpecMountsAndProbePasses) {
  ASSERT_TRUE(writer_->WriteOne("datasets.yaml", Spec({"a", "b"})).ok());
  auto t0 = Steady::now();
  Start();
  ASSERT_TRUE(WaitUntil([&] { return Ready(); })) << Slurp(Cat({mnt_, "/.ferry/status.json"}));
  auto ready_ms = std::chrono::duration_cast<milliseconds>(Steady::now() - t0).count();
  std::printf("start to ready with 2 local datasets: %lld ms\n", static_cast<long long>(ready_ms));
  EXPECT_EQ(Phase("a"), "Mounted");
  EXPECT_EQ(Phase("b"), "Mounted");
  EXPECT_TRUE(Readable("a"));
  EXPECT_TRUE(Readable("b"));
  EXPECT_EQ(Slurp(Cat({mnt_, "/b/sub/x.bin"})), std::string(100'000, 'b'));
  EXPECT_TRUE(IsMounted(Cat({mnt_, "/a"})));
  pid_t probe = Spawn({Bin("ferryctl"), "probe", Cat({"--mnt-dir=", mnt_})});
  EXPECT_EQ(WaitExit(probe, milliseconds(10'000)), 0);
}

TEST_F(SidecarRunTest, EmptyConfigDirIsReadyThenFirstAppearanceMounts) {
  Start();
  ASSERT_TRUE(WaitUntil([&] { return Ready(); }));
  EXPECT_TRUE(FuseMountsUnder(mnt_).empty());
  auto t0 = Steady::now();
  ASSERT_TRUE(writer_->WriteOne("datasets.yaml", Spec({"c"})).ok());
  ASSERT_TRUE(WaitUntil([&] { return Readable("c"); }));
  auto ms = std::chrono::duration_cast<milliseconds>(Steady::now() - t0).count();
  std::printf("first appearance to readable: %lld ms\n", static_cast<long long>(ms));
}

TEST_F(SidecarRunTest, LiveAddRemoveAndChange) {
  ASSERT_TRUE(writer_->WriteOne("datasets.yaml", Spec({"a"})).ok());
  Start();
  ASSERT_TRUE(WaitUntil([&] { return Ready() && Readable("a"); }));
  auto t0 = Steady::now();
  ASSERT_TRUE(writer_->WriteOne("datasets.yaml", Spec({"b"})).ok());
  ASSERT_TRUE(WaitUntil([&] { return Readable("b"); }));
  auto ms = std::chrono::duration_cast<milliseconds>(Steady::now() - t0).count();
  std::printf("edit to new dataset readable: %lld ms\n", static_cast<long long>(ms));
  EXPECT_TRUE(WaitUntil([&] { return !IsMounted(Cat({mnt_, "/a"})); }));
  EXPECT_TRUE(WaitUntil([&] { return Phase("a").empty(); })) << StatusJson().dump();
  // Same name, other source: remounted onto the new source.
  std::string changed = Cat({"mounts:\n  - name: b\n    source: local://", data_, "/c\n"});
  ASSERT_TRUE(writer_->WriteOne("datasets.yaml", changed).ok());
  EXPECT_TRUE(WaitUntil([&] { return Slurp(Cat({mnt_, "/b/hello.txt"})) == "hello from c\n"; }));
  EXPECT_EQ(FuseMountsUnder(mnt_).size(), 1u);
}

TEST_F(SidecarRunTest, BadSpecKeepsMountsAndReportsError) {
  ASSERT_TRUE(writer_->WriteOne("datasets.yaml", Spec({"a"})).ok());
  Start();
  ASSERT_TRUE(WaitUntil([&] { return Ready() && Readable("a"); }));
  ASSERT_TRUE(
      writer_->WriteOne("datasets.yaml", "mounts:\n  - name: a\n    source: ftp://x\n").ok());
  ASSERT_TRUE(WaitUntil([&] { return !StatusJson().value("specError", "").empty(); }));
  EXPECT_NE(StatusJson().value("specError", "").find("ftp"), std::string::npos);
  EXPECT_TRUE(Readable("a"));
  EXPECT_EQ(Phase("a"), "Mounted");
  // A missing local path fails that dataset only.
  // status.json is rewritten at each step of applying a spec (the dataset's
  // phase, then the cleared specError), so wait for one snapshot that shows the
  // whole outcome rather than checking fields of successive snapshots.
  std::string mixed = Cat({Spec({"a"}), "  - name: nope\n    source: local:///does/not/exist\n"});
  ASSERT_TRUE(writer_->WriteOne("datasets.yaml", mixed).ok());
  nlohmann::json applied;
  auto phase_in = [&](const std::string& name) -> std::string {
    if (!applied.contains("datasets") || !applied["datasets"].contains(name)) return "";
    return applied["datasets"][name].value("phase", "");
  };
  EXPECT_TRUE(WaitUntil([&] {
    applied = StatusJson();
    return phase_in("nope") == "Failed" && applied.value("specError", "x").empty();
  })) << "want nope Failed and specError cleared: " << applied.dump();
  EXPECT_EQ(phase_in("a"), "Mounted") << applied.dump();
  EXPECT_TRUE(Readable("a"));
  EXPECT_FALSE(IsMounted(Cat({mnt_, "/nope"})));
}

TEST_F(SidecarRunTest, SigtermExitsZeroAndLeavesNoMount) {
  ASSERT_TRUE(writer_->WriteOne("datasets.yaml", Spec({"a", "b"})).ok());
  Start();
  ASSERT_TRUE(WaitUntil([&] { return Ready() && Readable("a") && Readable("b"); }));
  ASSERT_EQ(kill(pid_, SIGTERM), 0);
  EXPECT_EQ(WaitExit(pid_, milliseconds(15'000)), 0);
  pid_ = -1;
  EXPECT_TRUE(FuseMountsUnder(mnt_).empty());
}

}  // namespace
}  // namespace ferry
