#pragma once
// Mutex annotated for clang's -Wthread-safety (STYLE R6). Document at each
// declaration what it guards and where it comes in the lock order.

#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define FERRY_TSA_(x) __attribute__((x))
#else
#define FERRY_TSA_(x)
#endif

#define FERRY_CAPABILITY(x) FERRY_TSA_(capability(x))
#define FERRY_SCOPED_CAPABILITY FERRY_TSA_(scoped_lockable)
#define FERRY_GUARDED_BY(x) FERRY_TSA_(guarded_by(x))
#define FERRY_PT_GUARDED_BY(x) FERRY_TSA_(pt_guarded_by(x))
#define FERRY_REQUIRES(...) FERRY_TSA_(requires_capability(__VA_ARGS__))
#define FERRY_EXCLUDES(...) FERRY_TSA_(locks_excluded(__VA_ARGS__))
#define FERRY_ACQUIRE(...) FERRY_TSA_(acquire_capability(__VA_ARGS__))
#define FERRY_RELEASE(...) FERRY_TSA_(release_capability(__VA_ARGS__))
#define FERRY_NO_THREAD_SAFETY_ANALYSIS FERRY_TSA_(no_thread_safety_analysis)

namespace ferry {

class FERRY_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;
  void Lock() FERRY_ACQUIRE() { mu_.lock(); }
  void Unlock() FERRY_RELEASE() { mu_.unlock(); }
  // For std::condition_variable_any and std::unique_lock.
  void lock() FERRY_ACQUIRE() { mu_.lock(); }
  void unlock() FERRY_RELEASE() { mu_.unlock(); }
  std::mutex& native() { return mu_; }

 private:
  std::mutex mu_;
};

class FERRY_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) FERRY_ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() FERRY_RELEASE() { mu_.Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

// Condition variable for ferry::Mutex: Wait() must be called with `mu` held.
class CondVar {
 public:
  void Wait(Mutex& mu) FERRY_REQUIRES(mu) {
    std::unique_lock<std::mutex> lk(mu.native(), std::adopt_lock);
    cv_.wait(lk);
    lk.release();
  }
  // Returns false on timeout.
  template <typename Rep, typename Period>
  bool WaitFor(Mutex& mu, std::chrono::duration<Rep, Period> d) FERRY_REQUIRES(mu) {
    std::unique_lock<std::mutex> lk(mu.native(), std::adopt_lock);
    bool ok = cv_.wait_for(lk, d) == std::cv_status::no_timeout;
    lk.release();
    return ok;
  }
  void NotifyOne() { cv_.notify_one(); }
  void NotifyAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace ferry
