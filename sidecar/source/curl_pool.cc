#include "sidecar/source/curl_pool.h"

namespace ferry::sidecar {

CurlPool::CurlPool(HttpClientOptions options, size_t max_handles)
    : options_(std::move(options)), max_handles_(max_handles == 0 ? 1 : max_handles) {}

CurlPool::Lease::~Lease() {
  if (easy_) pool_->Return(std::move(easy_));
}

CurlPool::Lease CurlPool::Acquire() {
  {
    MutexLock lock(mu_);
    while (idle_.empty() && created_ >= max_handles_) returned_.Wait(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<CurlEasy> easy = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(easy));
    }
    ++created_;
  }
  return Lease(this, std::make_unique<CurlEasy>(options_));
}

void CurlPool::Return(std::unique_ptr<CurlEasy> easy) {
  MutexLock lock(mu_);
  idle_.push_back(std::move(easy));
  returned_.NotifyOne();
}

}  // namespace ferry::sidecar
