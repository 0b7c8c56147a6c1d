#include "sidecar/status_model.h"

#include <gtest/gtest.h>

#include "tests/support/fake_clock.h"

namespace ferry::sidecar {
namespace {

TEST(StatusModelTest, MutationsNotifyAndBumpVersion) {
  testing::FakeClock clock;
  StatusModel model(clock);
  std::vector<uint64_t> versions;
  model.SetListener([&](const StatusSnapshot& s) { versions.push_back(s.version); });
  model.SetDataset("a", DatasetPhase::kPending, "local:///a", true, "");
  model.SetDataset("a", DatasetPhase::kPending, "local:///a", true, "");  // no change
  model.SetDataset("a", DatasetPhase::kMounted, "local:///a", true, "");
  EXPECT_EQ(versions, (std::vector<uint64_t>{1, 2}));
}

TEST(StatusModelTest, BatchNotifiesOnce) {
  testing::FakeClock clock;
  StatusModel model(clock);
  int calls = 0;
  model.SetListener([&](const StatusSnapshot&) { ++calls; });
  {
    StatusModel::Batch outer(model);
    {
      StatusModel::Batch inner(model);
      model.SetDataset("a", DatasetPhase::kPending, "s", true, "");
    }
    model.SetDataset("b", DatasetPhase::kPending, "s", true, "");
    model.SpecApplied();
    EXPECT_EQ(calls, 0);
  }
  EXPECT_EQ(calls, 1);
}

TEST(StatusModelTest, SpecErrorAndApplied) {
  testing::FakeClock clock;
  StatusModel model(clock);
  model.SetSpecError("bad");
  EXPECT_EQ(model.Snapshot().spec_error, "bad");
  EXPECT_EQ(model.Snapshot().spec_errors_total, 1u);
  model.SpecApplied();
  EXPECT_EQ(model.Snapshot().spec_error, "");
  EXPECT_EQ(model.Snapshot().generation, 1u);
}

TEST(StatusModelTest, LastChangeFollowsPhaseNotBytes) {
  testing::FakeClock clock;
  StatusModel model(clock);
  model.SetDataset("a", DatasetPhase::kMounted, "s", true, "");
  auto t0 = model.Snapshot().datasets.at("a").last_change;
  clock.Advance(std::chrono::seconds(5));
  model.SetDatasetBytes("a", 10, 20);
  EXPECT_EQ(model.Snapshot().datasets.at("a").last_change, t0);
  EXPECT_EQ(model.Snapshot().datasets.at("a").bytes_read, 10u);
  model.SetDataset("a", DatasetPhase::kUnmounting, "s", true, "");
  EXPECT_EQ(model.Snapshot().datasets.at("a").last_change, t0 + std::chrono::seconds(5));
}

TEST(StatusModelTest, ReadyIsSticky) {
  testing::FakeClock clock;
  StatusModel model(clock);
  int calls = 0;
  model.SetListener([&](const StatusSnapshot&) { ++calls; });
  model.SetReady();
  model.SetReady();
  EXPECT_TRUE(model.Snapshot().ready);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace ferry::sidecar
