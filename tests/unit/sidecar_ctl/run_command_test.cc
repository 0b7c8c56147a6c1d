#include "sidecar/run_command.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/inotify_file_watcher.h"
#include "tests/support/atomic_writer.h"
#include "tests/support/fake_mount_provider.h"

namespace ferry::sidecar {
namespace {

using std::chrono::milliseconds;
namespace fs = std::filesystem;

TEST(RunFlagsTest, DefaultsMatchThePodContract) {
  auto o = ParseRunFlags({});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->config_dir, "/etc/ferry");
  EXPECT_EQ(o->mnt_dir, "/run/ferry/mnt");
  EXPECT_EQ(o->cache_dir, "/var/cache/ferry");
  EXPECT_EQ(o->status_addr, "127.0.0.1:9781");
}

TEST(RunFlagsTest, ParsesEveryFlag) {
  auto o = ParseRunFlags({"--config-dir=/c", "--mnt-dir=/m", "--cache-dir=/k", "--status-addr=off",
                          "--debounce=20ms", "--rescan=2m", "--unmount-grace=5s",
                          "--fuse-threads=2", "--parallel-mounts=8", "--spec-file=x.yaml"});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->config_dir, "/c");
  EXPECT_EQ(o->status_addr, "");
  EXPECT_EQ(o->debounce, milliseconds(20));
  EXPECT_EQ(o->rescan, milliseconds(120'000));
  EXPECT_EQ(o->unmount_grace, milliseconds(5'000));
  EXPECT_EQ(o->fuse_threads, 2);
  EXPECT_EQ(o->parallel_mounts, 8);
  EXPECT_EQ(o->spec_file, "x.yaml");
}

TEST(RunFlagsTest, RejectsBadInput) {
  EXPECT_TRUE(ParseRunFlags({"--nope=1"}).status().Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(ParseRunFlags({"positional"}).status().Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(ParseRunFlags({"--mnt-dir=relative"}).status().Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(ParseRunFlags({"--debounce=fast"}).status().Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(ParseRunFlags({"--fuse-threads=0"}).status().Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(ParseRunFlags({"--spec-file=a/b"}).status().Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(ParseRunFlags({"--help"}).status().Is(StatusCode::kCancelled));
}

TEST(RunFlagsTest, Durations) {
  EXPECT_EQ(*ParseDurationFlag("250"), milliseconds(250));
  EXPECT_EQ(*ParseDurationFlag("3s"), milliseconds(3000));
  EXPECT_EQ(*ParseDurationFlag("1h"), milliseconds(3'600'000));
  EXPECT_FALSE(ParseDurationFlag("1d").ok());
  EXPECT_FALSE(ParseDurationFlag("").ok());
}

class NullServer final : public DatasetServer {
 public:
  bool Finished() const override { return false; }
  DatasetServerStats Stats() const override { return {}; }
};

class NullFactory final : public DatasetServerFactory {
 public:
  StatusOr<std::unique_ptr<DatasetServer>> Start(const MountSpec&, const MountFn& mount) override {
    FERRY_ASSIGN_OR_RETURN(UniqueFd fd, mount());
    return std::unique_ptr<DatasetServer>(std::make_unique<NullServer>());
  }
};

// The wiring of `run` with everything real except the mounts: inotify, the
// AtomicWriter, status.json on disk, the HTTP port.
TEST(RunCommandTest, SpecSwapsReachStatusJson) {
  char tmpl[] = "/tmp/ferry-run-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string root = tmpl;
  fs::create_directories(root + "/config");
  fs::create_directories(root + "/mnt");
  RunOptions o;
  o.config_dir = root + "/config";
  o.mnt_dir = root + "/mnt";
  o.cache_dir = root + "/cache";
  o.status_addr = "127.0.0.1:0";
  o.debounce = milliseconds(10);
  testing::FakeMountProvider provider;
  NullFactory factory;
  auto watcher = InotifyFileWatcher::Create();
  ASSERT_TRUE(watcher.ok());
  RealClock clock;
  RunCommand run(o, provider, factory, **watcher, clock);
  std::thread t([&] { EXPECT_EQ(run.Run(), 0); });

  auto status = [&]() {
    std::ifstream in(root + "/mnt/.ferry/status.json");
    std::stringstream ss;
    ss << in.rdbuf();
    auto j = nlohmann::json::parse(ss.str(), nullptr, false);
    return j.is_discarded() ? nlohmann::json::object() : j;
  };
  auto wait_for = [&](const std::function<bool(const nlohmann::json&)>& pred) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred(status())) return true;
      std::this_thread::sleep_for(milliseconds(2));
    }
    return false;
  };
  EXPECT_TRUE(wait_for([](const nlohmann::json& j) { return j.value("ready", false); }));
  testing::AtomicWriter writer(o.config_dir);
  ASSERT_TRUE(
      writer.WriteOne("datasets.yaml", "mounts:\n  - name: a\n    source: local:///x\n").ok());
  EXPECT_TRUE(wait_for([](const nlohmann::json& j) {
    return j.contains("datasets") && j["datasets"].contains("a") &&
           j["datasets"]["a"].value("phase", "") == "Mounted";
  }));
  EXPECT_EQ(provider.Mounted().count("a"), 1u);
  ASSERT_TRUE(writer.WriteOne("datasets.yaml", "mounts: [{name: a, source: 'nope://'}]\n").ok());
  EXPECT_TRUE(wait_for([](const nlohmann::json& j) { return !j.value("specError", "").empty(); }));
  EXPECT_GT(run.status_port(), 0);
  run.Stop();
  t.join();
  fs::remove_all(root);
}

TEST(RunCommandTest, StopBeforeRunReturnsAtOnce) {
  char tmpl[] = "/tmp/ferry-run-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  RunOptions o;
  o.config_dir = std::string(tmpl) + "/config";
  o.mnt_dir = tmpl;
  o.status_addr = "";
  testing::FakeMountProvider provider;
  NullFactory factory;
  auto watcher = InotifyFileWatcher::Create();
  ASSERT_TRUE(watcher.ok());
  RealClock clock;
  RunCommand run(o, provider, factory, **watcher, clock);
  run.Stop();
  EXPECT_EQ(run.Run(), 0);
  fs::remove_all(tmpl);
}

}  // namespace
}  // namespace ferry::sidecar
