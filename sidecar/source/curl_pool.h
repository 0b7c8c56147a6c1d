#pragma once
// CurlPool: up to N reusable CurlEasy handles, so each keeps its keep-alive
// connection (and TLS session) across requests; N bounds the connections a
// source opens to its server. Does not call libcurl itself. Thread-safe.

#include <cstddef>
#include <memory>
#include <vector>

#include "common/mutex.h"
#include "sidecar/source/curl_easy.h"

namespace ferry::sidecar {

class CurlPool {
 public:
  CurlPool(HttpClientOptions options, size_t max_handles);
  CurlPool(const CurlPool&) = delete;
  CurlPool& operator=(const CurlPool&) = delete;

  // Exclusive use of one handle until destroyed.
  class Lease {
   public:
    Lease(CurlPool* pool, std::unique_ptr<CurlEasy> easy) : pool_(pool), easy_(std::move(easy)) {}
    Lease(Lease&& o) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();
    CurlEasy& operator*() { return *easy_; }
    CurlEasy* operator->() { return easy_.get(); }

   private:
    CurlPool* pool_;
    std::unique_ptr<CurlEasy> easy_;
  };

  // Blocks while all `max_handles` handles are leased. Thread-safe.
  Lease Acquire();

 private:
  void Return(std::unique_ptr<CurlEasy> easy);

  const HttpClientOptions options_;
  const size_t max_handles_;
  Mutex mu_;  // guards idle_ and created_; leaf lock
  CondVar returned_;
  std::vector<std::unique_ptr<CurlEasy>> idle_ FERRY_GUARDED_BY(mu_);
  size_t created_ FERRY_GUARDED_BY(mu_) = 0;
};

}  // namespace ferry::sidecar
