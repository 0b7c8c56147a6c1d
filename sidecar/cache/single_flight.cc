#include "sidecar/cache/single_flight.h"

namespace ferry::sidecar {

SingleFlight::Ticket SingleFlight::Join(const BlockKey& key) {
  MutexLock lock(mu_);
  auto [it, inserted] = calls_.try_emplace(key);
  if (inserted) it->second = std::make_shared<Call>();
  return Ticket{it->second, inserted};
}

std::shared_ptr<SingleFlight::Call> SingleFlight::TryClaim(const BlockKey& key) {
  MutexLock lock(mu_);
  auto [it, inserted] = calls_.try_emplace(key);
  if (!inserted) return nullptr;
  it->second = std::make_shared<Call>();
  return it->second;
}

void SingleFlight::Complete(const BlockKey& key, const std::shared_ptr<Call>& call,
                            StatusOr<BlockData> result) {
  {
    MutexLock lock(mu_);
    auto it = calls_.find(key);
    if (it != calls_.end() && it->second == call) calls_.erase(it);
  }
  {
    MutexLock lock(call->mu_);
    call->result_ = std::move(result);
    call->done_ = true;
  }
  call->cv_.NotifyAll();
}

StatusOr<BlockData> SingleFlight::Wait(const std::shared_ptr<Call>& call) {
  MutexLock lock(call->mu_);
  while (!call->done_) call->cv_.Wait(call->mu_);
  return call->result_;
}

size_t SingleFlight::InFlightForTest() const {
  MutexLock lock(mu_);
  return calls_.size();
}

}  // namespace ferry::sidecar
