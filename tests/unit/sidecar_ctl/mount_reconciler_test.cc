#include "sidecar/mount_reconciler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>

#include "tests/support/fake_clock.h"
#include "tests/support/fake_mount_provider.h"

namespace ferry::sidecar {
namespace {

using std::chrono::milliseconds;

// A server that "ends" when the test says so.
class FakeServer final : public DatasetServer {
 public:
  explicit FakeServer(std::atomic<int>& live) : live_(live) { ++live_; }
  ~FakeServer() override { --live_; }
  bool Finished() const override { return finished; }
  DatasetServerStats Stats() const override {
    DatasetServerStats st{42, 7, {}};
    MutexLock lock(mu);
    st.preload.configured = !preload.empty();
    st.preload.files_total = preload.size();
    return st;
  }
  void BeginDrain() override { drained = true; }
  void SetPreload(const std::vector<std::string>& globs) override {
    MutexLock lock(mu);
    preload = globs;
  }
  std::atomic<bool> finished{false};
  std::atomic<bool> drained{false};
  mutable Mutex mu;
  std::vector<std::string> preload FERRY_GUARDED_BY(mu);

 private:
  std::atomic<int>& live_;
};

class FakeFactory final : public DatasetServerFactory {
 public:
  StatusOr<std::unique_ptr<DatasetServer>> Start(const MountSpec& spec,
                                                 const MountFn& mount) override {
    ++starts;
    if (spec.scheme != "local") {
      return Unimplemented("source scheme " + spec.scheme + " not supported yet");
    }
    if (spec.options.count("bad-option") > 0) return InvalidArgument("option bad-option");
    {
      MutexLock lock(mu);
      if (unavailable.count(spec.name) > 0) return Unavailable("bucket not there yet");
    }
    FERRY_ASSIGN_OR_RETURN(UniqueFd fd, mount());
    if (spec.options.count("fail-serve") > 0) return Internal("serve failed");
    auto server = std::make_unique<FakeServer>(live);
    server->SetPreload(spec.cache.preload);
    MutexLock lock(mu);
    servers[spec.name] = server.get();
    return server;
  }
  FakeServer* Server(const std::string& name) {
    MutexLock lock(mu);
    return servers[name];
  }
  std::atomic<int> live{0};
  std::atomic<int> starts{0};
  Mutex mu;
  std::map<std::string, FakeServer*> servers FERRY_GUARDED_BY(mu);
  std::set<std::string> unavailable FERRY_GUARDED_BY(mu);
};

// gcc 12 warns falsely (-Wrestrict) on "literal" + std::to_string(i).
std::string Numbered(const char* prefix, int i) {
  std::string s(prefix);
  s += std::to_string(i);
  return s;
}

MountSpec Local(const std::string& name, const std::string& path = "/data") {
  MountSpec m;
  m.name = name;
  m.source = "local://" + path;
  m.scheme = "local";
  return m;
}

class MountReconcilerTest : public ::testing::Test {
 protected:
  MountReconcilerTest()
      : model_(clock_), reconciler_(provider_, factory_, model_, clock_, Options()) {
    model_.SetListener([this](const StatusSnapshot&) { ++notifications_; });
  }
  static ReconcilerOptions Options() {
    ReconcilerOptions o;
    o.unmount_grace = milliseconds(1000);
    return o;
  }
  DatasetPhase Phase(const std::string& name) { return model_.Snapshot().datasets.at(name).phase; }
  std::set<std::string> Mounted() {
    std::set<std::string> out;
    for (const auto& [n, ro] : provider_.Mounted()) out.insert(n);
    return out;
  }
  ConfigSnapshot Yaml(const std::string& text) {
    ConfigSnapshot s;
    s.present = true;
    s.text = text;
    return s;
  }

  testing::FakeClock clock_;
  testing::FakeMountProvider provider_;
  FakeFactory factory_;
  StatusModel model_;
  MountReconciler reconciler_;
  int notifications_ = 0;
};

TEST_F(MountReconcilerTest, AddsDatasetsAndBecomesReady) {
  EXPECT_FALSE(model_.Snapshot().ready);
  reconciler_.Apply(DatasetSpec{{Local("a"), Local("b")}});
  EXPECT_EQ(Mounted(), (std::set<std::string>{"a", "b"}));
  auto snap = model_.Snapshot();
  EXPECT_TRUE(snap.ready);
  EXPECT_EQ(snap.generation, 1u);
  EXPECT_EQ(Phase("a"), DatasetPhase::kMounted);
  EXPECT_EQ(snap.datasets.at("a").source, "local:///data");
}

TEST_F(MountReconcilerTest, EmptyOrMissingSpecIsReadyAtOnce) {
  ConfigSnapshot missing;
  reconciler_.OnConfig(missing);
  EXPECT_TRUE(model_.Snapshot().ready);
  EXPECT_TRUE(model_.Snapshot().datasets.empty());
}

TEST_F(MountReconcilerTest, RemovesDatasetAfterItDrains) {
  reconciler_.Apply(DatasetSpec{{Local("a"), Local("b")}});
  FakeServer* a = factory_.Server("a");
  reconciler_.Apply(DatasetSpec{{Local("b")}});
  EXPECT_EQ(Mounted(), (std::set<std::string>{"b"}));
  EXPECT_EQ(Phase("a"), DatasetPhase::kUnmounting);
  EXPECT_EQ(factory_.live, 2);  // still serving open files
  a->finished = true;           // the kernel dropped the connection
  reconciler_.Tick();
  EXPECT_EQ(factory_.live, 1);
  EXPECT_EQ(model_.Snapshot().datasets.count("a"), 0u);
}

TEST_F(MountReconcilerTest, StopsADrainingServerAfterTheGrace) {
  reconciler_.Apply(DatasetSpec{{Local("a")}});
  reconciler_.Apply(DatasetSpec{});
  reconciler_.Tick();
  EXPECT_EQ(factory_.live, 1);
  clock_.Advance(milliseconds(1000));
  reconciler_.Tick();
  EXPECT_EQ(factory_.live, 0);
  EXPECT_TRUE(model_.Snapshot().datasets.empty());
}

TEST_F(MountReconcilerTest, ChangedHashRemounts) {
  reconciler_.Apply(DatasetSpec{{Local("a", "/x")}});
  provider_.ClearLog();
  reconciler_.Apply(DatasetSpec{{Local("a", "/y")}});
  EXPECT_EQ(provider_.Log(), (std::vector<std::string>{"unmount:a", "mount:a:ro"}));
  EXPECT_EQ(Phase("a"), DatasetPhase::kMounted);
  EXPECT_EQ(model_.Snapshot().datasets.at("a").source, "local:///y");
}

TEST_F(MountReconcilerTest, PreloadOnlyChangeDoesNotRemount) {
  reconciler_.Apply(DatasetSpec{{Local("a")}});
  provider_.ClearLog();
  MountSpec changed = Local("a");
  changed.cache.preload = {"train/**"};
  reconciler_.Apply(DatasetSpec{{changed}});
  EXPECT_TRUE(provider_.Log().empty());
}

TEST_F(MountReconcilerTest, ReadOnlyFlagReachesTheMounter) {
  MountSpec rw = Local("a");
  rw.read_only = false;
  reconciler_.Apply(DatasetSpec{{rw}});
  EXPECT_EQ(provider_.Log(), (std::vector<std::string>{"mount:a:rw"}));
}

TEST_F(MountReconcilerTest, BadSpecKeepsLastGoodOne) {
  reconciler_.OnConfig(Yaml("mounts:\n  - name: a\n    source: local:///data\n"));
  ASSERT_EQ(Phase("a"), DatasetPhase::kMounted);
  reconciler_.OnConfig(Yaml("mounts:\n  - name: a\n    source: ftp://nope\n"));
  auto snap = model_.Snapshot();
  EXPECT_NE(snap.spec_error, "");
  EXPECT_EQ(snap.spec_errors_total, 1u);
  EXPECT_EQ(snap.generation, 1u);
  EXPECT_EQ(Mounted(), (std::set<std::string>{"a"}));
  EXPECT_EQ(Phase("a"), DatasetPhase::kMounted);
  // A good spec clears the error.
  reconciler_.OnConfig(Yaml("mounts: []\n"));
  EXPECT_EQ(model_.Snapshot().spec_error, "");
  EXPECT_TRUE(Mounted().empty());
}

TEST_F(MountReconcilerTest, BadInitialSpecIsNotReady) {
  reconciler_.OnConfig(Yaml("mounts: [{name: BAD, source: local:///x}]\n"));
  EXPECT_FALSE(model_.Snapshot().ready);
  EXPECT_NE(model_.Snapshot().spec_error, "");
  reconciler_.OnConfig(Yaml("mounts: []\n"));
  EXPECT_TRUE(model_.Snapshot().ready);
}

TEST_F(MountReconcilerTest, ReadErrorKeepsLastGoodSpec) {
  reconciler_.Apply(DatasetSpec{{Local("a")}});
  ConfigSnapshot s;
  s.error = PermissionDenied("open /etc/ferry/datasets.yaml: Permission denied");
  reconciler_.OnConfig(s);
  EXPECT_NE(model_.Snapshot().spec_error.find("Permission denied"), std::string::npos);
  EXPECT_EQ(Mounted(), (std::set<std::string>{"a"}));
}

TEST_F(MountReconcilerTest, OneBadEntryBreaksNothingElse) {
  provider_.FailMount("b", PermissionDenied("mount refused"));
  MountSpec s3 = Local("c");
  s3.scheme = "s3";
  s3.source = "s3://bucket/";
  MountSpec fails = Local("d");
  fails.options["fail-serve"] = "1";
  reconciler_.Apply(DatasetSpec{{Local("a"), Local("b"), s3, fails}});
  EXPECT_EQ(Phase("a"), DatasetPhase::kMounted);
  EXPECT_EQ(Phase("b"), DatasetPhase::kFailed);
  EXPECT_NE(model_.Snapshot().datasets.at("b").error.find("mount refused"), std::string::npos);
  EXPECT_EQ(Phase("c"), DatasetPhase::kFailed);
  EXPECT_EQ(model_.Snapshot().datasets.at("c").error, "source scheme s3 not supported yet");
  EXPECT_EQ(Phase("d"), DatasetPhase::kFailed);
  EXPECT_EQ(Mounted(), (std::set<std::string>{"a"}));  // d was unmounted again
  EXPECT_TRUE(model_.Snapshot().ready);
  EXPECT_EQ(model_.Snapshot().mount_failures_total, 3u);
}

TEST_F(MountReconcilerTest, FailedDatasetIsRetriedWhenItsSpecChanges) {
  provider_.FailMount("a", Unavailable("propagator busy"));
  reconciler_.Apply(DatasetSpec{{Local("a", "/x")}});
  ASSERT_EQ(Phase("a"), DatasetPhase::kFailed);
  provider_.FailMount("a", Status::Ok());
  reconciler_.Apply(DatasetSpec{{Local("a", "/y")}});
  EXPECT_EQ(Phase("a"), DatasetPhase::kMounted);
}

TEST_F(MountReconcilerTest, RemovingAFailedDatasetForgetsIt) {
  provider_.FailMount("a", Unavailable("x"));
  reconciler_.Apply(DatasetSpec{{Local("a")}});
  reconciler_.Apply(DatasetSpec{});
  EXPECT_TRUE(model_.Snapshot().datasets.empty());
  EXPECT_EQ(provider_.CountActions("unmount:"), 0);
}

TEST_F(MountReconcilerTest, HundredDatasets) {
  DatasetSpec spec;
  for (int i = 0; i < 100; ++i) spec.mounts.push_back(Local(Numbered("d", i)));
  reconciler_.Apply(spec);
  EXPECT_EQ(Mounted().size(), 100u);
  EXPECT_EQ(factory_.live, 100);
  auto snap = model_.Snapshot();
  for (const auto& [n, d] : snap.datasets) EXPECT_EQ(d.phase, DatasetPhase::kMounted) << n;
  reconciler_.Apply(DatasetSpec{});
  EXPECT_TRUE(Mounted().empty());
}

TEST_F(MountReconcilerTest, FiftyEditBurstConverges) {
  // Each edit toggles a few datasets; only the final state matters.
  DatasetSpec last;
  for (int edit = 0; edit < 50; ++edit) {
    DatasetSpec spec;
    for (int i = 0; i < 10; ++i) {
      if ((edit + i) % 3 != 0)
        spec.mounts.push_back(Local(Numbered("d", i), Numbered("/v", edit % 4)));
    }
    reconciler_.Apply(spec);
    last = spec;
  }
  std::set<std::string> want;
  for (const auto& m : last.mounts) want.insert(m.name);
  EXPECT_EQ(Mounted(), want);
  std::vector<std::string> serving = reconciler_.ServingForTest();
  EXPECT_EQ(std::set<std::string>(serving.begin(), serving.end()), want);
  EXPECT_EQ(model_.Snapshot().generation, 50u);
}

TEST_F(MountReconcilerTest, UnexpectedEndIsReportedAsFailed) {
  reconciler_.Apply(DatasetSpec{{Local("a")}});
  factory_.Server("a")->finished = true;
  reconciler_.Tick();
  EXPECT_EQ(Phase("a"), DatasetPhase::kFailed);
  EXPECT_EQ(factory_.live, 0);
}

TEST_F(MountReconcilerTest, TickRefreshesByteCounters) {
  reconciler_.Apply(DatasetSpec{{Local("a")}});
  reconciler_.Tick();
  EXPECT_EQ(model_.Snapshot().datasets.at("a").bytes_read, 42u);
  EXPECT_EQ(model_.Snapshot().datasets.at("a").bytes_cached, 7u);
}

TEST_F(MountReconcilerTest, DropsKeptMounts) {
  provider_.SetKept({"old"});
  reconciler_.DropKeptMounts();
  EXPECT_TRUE(Mounted().empty());
  EXPECT_EQ(provider_.CountActions("unmount:old"), 1);
}

TEST_F(MountReconcilerTest, StopAllEndsEveryServer) {
  reconciler_.Apply(DatasetSpec{{Local("a"), Local("b")}});
  reconciler_.Apply(DatasetSpec{{Local("b")}});
  reconciler_.StopAll();
  EXPECT_EQ(factory_.live, 0);
}

TEST_F(MountReconcilerTest, ApplyNotifiesInFewBatches) {
  DatasetSpec spec;
  for (int i = 0; i < 20; ++i) spec.mounts.push_back(Local(Numbered("d", i)));
  reconciler_.Apply(spec);
  // One for the plan, one per dataset result, one for the end: not one per field.
  EXPECT_LE(notifications_, 22);
}

TEST_F(MountReconcilerTest, RetriesFailedMountsWithBackoffUntilTheyWork) {
  {
    MutexLock lock(factory_.mu);
    factory_.unavailable.insert("late");
  }
  clock_.SetWall(std::chrono::system_clock::time_point(std::chrono::seconds(1'000'000)));
  reconciler_.Apply(DatasetSpec{{Local("late")}});
  auto st = model_.Snapshot().datasets.at("late");
  EXPECT_EQ(st.phase, DatasetPhase::kFailed);
  EXPECT_EQ(st.failures, 1u);
  EXPECT_EQ(st.next_retry, std::chrono::system_clock::time_point(std::chrono::seconds(1'000'002)));
  EXPECT_EQ(factory_.starts, 1);

  clock_.Advance(milliseconds(1'900));
  reconciler_.Tick();
  EXPECT_EQ(factory_.starts, 1) << "not due yet";
  clock_.Advance(milliseconds(200));
  reconciler_.Tick();
  EXPECT_EQ(factory_.starts, 2);
  EXPECT_EQ(model_.Snapshot().datasets.at("late").failures, 2u);
  clock_.Advance(milliseconds(3'900));
  reconciler_.Tick();
  EXPECT_EQ(factory_.starts, 2) << "the second wait is 4 s";

  {
    MutexLock lock(factory_.mu);
    factory_.unavailable.clear();
  }
  clock_.Advance(milliseconds(200));
  reconciler_.Tick();
  EXPECT_EQ(factory_.starts, 3);
  st = model_.Snapshot().datasets.at("late");
  EXPECT_EQ(st.phase, DatasetPhase::kMounted);
  EXPECT_EQ(st.failures, 0u);
  EXPECT_EQ(Mounted(), (std::set<std::string>{"late"}));
}

TEST_F(MountReconcilerTest, BadSpecEntriesAreNotRetried) {
  MountSpec m = Local("bad");
  m.options["bad-option"] = "1";
  reconciler_.Apply(DatasetSpec{{m}});
  EXPECT_EQ(Phase("bad"), DatasetPhase::kFailed);
  clock_.Advance(std::chrono::hours(1));
  reconciler_.Tick();
  EXPECT_EQ(factory_.starts, 1);
  EXPECT_EQ(model_.Snapshot().datasets.at("bad").next_retry, std::chrono::system_clock::time_point{});
}

TEST_F(MountReconcilerTest, UnexpectedEndIsRemountedAfterBackoff) {
  reconciler_.Apply(DatasetSpec{{Local("a")}});
  factory_.Server("a")->finished = true;
  reconciler_.Tick();
  EXPECT_EQ(Phase("a"), DatasetPhase::kFailed);
  clock_.Advance(milliseconds(2'100));
  reconciler_.Tick();
  EXPECT_EQ(Phase("a"), DatasetPhase::kMounted);
  EXPECT_EQ(factory_.starts, 2);
}

TEST_F(MountReconcilerTest, RemovalDrainsAndPreloadChangesNeedNoRemount) {
  MountSpec m = Local("a");
  m.cache.preload = {"x/**"};
  reconciler_.Apply(DatasetSpec{{m}});
  reconciler_.Tick();
  EXPECT_TRUE(model_.Snapshot().datasets.at("a").preload.configured);
  m.cache.preload = {"y/*", "z"};
  reconciler_.Apply(DatasetSpec{{m}});
  EXPECT_EQ(factory_.starts, 1) << "cache.preload alone does not remount";
  FakeServer* server = factory_.Server("a");
  {
    MutexLock lock(server->mu);
    EXPECT_EQ(server->preload, (std::vector<std::string>{"y/*", "z"}));
  }
  reconciler_.Tick();
  EXPECT_EQ(model_.Snapshot().datasets.at("a").preload.files_total, 2u);
  reconciler_.Apply(DatasetSpec{});
  EXPECT_TRUE(server->drained) << "told before its mount is detached";
}

}  // namespace
}  // namespace ferry::sidecar
