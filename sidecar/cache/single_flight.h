#pragma once
// SingleFlight: at most one fetch per block key at a time. The first caller
// for a key becomes its leader and must Complete() it; later callers get the
// same Call and Wait() for the leader's result. A leader may claim several
// keys (a ranged GET covering many blocks) and complete each one.

#include <memory>
#include <unordered_map>

#include "common/mutex.h"
#include "common/status.h"
#include "sidecar/cache/block.h"

namespace ferry::sidecar {

class SingleFlight {
 public:
  class Call;

  struct Ticket {
    std::shared_ptr<Call> call;
    bool leader = false;
  };

  // Joins the fetch of `key`, or starts it (leader) if none is in flight.
  // Thread-safe.
  Ticket Join(const BlockKey& key) FERRY_EXCLUDES(mu_);

  // Starts a fetch of `key` only if none is in flight: the Call (this caller
  // leads it), or null. Thread-safe.
  std::shared_ptr<Call> TryClaim(const BlockKey& key) FERRY_EXCLUDES(mu_);

  // Leader only: publishes `result` to every waiter and forgets the key, so
  // the next Join starts a new fetch. Publish the block to the cache tiers
  // before calling this. Thread-safe.
  void Complete(const BlockKey& key, const std::shared_ptr<Call>& call,
                StatusOr<BlockData> result) FERRY_EXCLUDES(mu_);

  // Blocks until the call completes; its result. Thread-safe.
  static StatusOr<BlockData> Wait(const std::shared_ptr<Call>& call);

  size_t InFlightForTest() const FERRY_EXCLUDES(mu_);

  class Call {
   public:
    Call() = default;

   private:
    friend class SingleFlight;
    Mutex mu_;  // guards done_ and result_; leaf lock
    CondVar cv_;
    bool done_ FERRY_GUARDED_BY(mu_) = false;
    StatusOr<BlockData> result_ FERRY_GUARDED_BY(mu_) = Status(StatusCode::kInternal, "pending");
  };

 private:
  mutable Mutex mu_;  // guards calls_; taken before Call::mu_, never across I/O
  std::unordered_map<BlockKey, std::shared_ptr<Call>, BlockKeyHash> calls_ FERRY_GUARDED_BY(mu_);
};

}  // namespace ferry::sidecar
