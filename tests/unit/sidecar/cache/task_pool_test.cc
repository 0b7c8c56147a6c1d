#include "sidecar/cache/task_pool.h"

#include <gtest/gtest.h>

#include <atomic>

namespace ferry::sidecar {
namespace {

TEST(TaskPoolTest, RunsEverySubmittedTask) {
  std::atomic<int> ran{0};
  TaskPool pool(3, 1000);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(pool.Submit([&] { ran++; }));
  pool.WaitIdle();
  EXPECT_EQ(ran.load(), 100);
  EXPECT_EQ(pool.Pending(), 0u);
}

TEST(TaskPoolTest, RefusesPastTheQueueBound) {
  Mutex mu;
  CondVar cv;
  bool open = false;
  TaskPool pool(1, 2);
  auto blocker = [&] {
    MutexLock lock(mu);
    while (!open) cv.Wait(mu);
  };
  ASSERT_TRUE(pool.Submit(blocker));
  // The worker may or may not have taken the first task yet: at most 3 fit.
  int accepted = 0;
  for (int i = 0; i < 5; ++i) accepted += pool.Submit([] {}) ? 1 : 0;
  EXPECT_GE(accepted, 1);
  EXPECT_LE(accepted, 2);
  {
    MutexLock lock(mu);
    open = true;
  }
  cv.NotifyAll();
  pool.WaitIdle();
}

TEST(TaskPoolTest, ZeroThreadsRefusesWork) {
  TaskPool pool(0, 10);
  EXPECT_FALSE(pool.Submit([] {}));
}

}  // namespace
}  // namespace ferry::sidecar
