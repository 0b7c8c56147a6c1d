#pragma once
// FakeDataSource: an in-memory DataSource with an action log and error hooks,
// for unit tests of the filesystem and the cache. Thread-safe.

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "sidecar/source/data_source.h"

namespace ferry::testing {

class FakeDataSource final : public sidecar::DataSource {
 public:
  // Adds or replaces a file (parents are created); its etag changes with content.
  void PutFile(const std::string& path, std::string content, int64_t mtime_ns = 1);
  void PutDir(const std::string& path);
  void PutSymlink(const std::string& path, std::string target);
  void Remove(const std::string& path);
  // Every call on `path` (Stat, List, Read) fails with `s` until cleared (OK clears).
  void FailPath(const std::string& path, Status s);

  // "stat:PATH", "list:PATH", "read:PATH:OFFSET:LEN", in call order.
  std::vector<std::string> Log() const;
  void ClearLog();
  uint64_t CountOps(const std::string& prefix) const;  // e.g. CountOps("read:")

  std::string Describe() const override { return "fake://"; }
  StatusOr<sidecar::Entry> Stat(std::string_view path) override;
  StatusOr<std::vector<sidecar::Entry>> List(std::string_view dir) override;
  StatusOr<size_t> Read(std::string_view path, const sidecar::Entry& version, uint64_t offset,
                        std::span<std::byte> out) override;
  sidecar::SourceStats Stats() const override;

 private:
  struct Node {
    sidecar::Entry entry;
    std::string content;
  };
  Status CheckFail(const std::string& path) const FERRY_REQUIRES(mu_);
  void EnsureParents(const std::string& path) FERRY_REQUIRES(mu_);
  void Record(std::string op) FERRY_REQUIRES(mu_);

  mutable Mutex mu_;  // guards everything below; leaf lock
  std::map<std::string, Node> nodes_ FERRY_GUARDED_BY(mu_);  // key: path, "" = root
  std::map<std::string, Status> failures_ FERRY_GUARDED_BY(mu_);
  std::vector<std::string> log_ FERRY_GUARDED_BY(mu_);
  sidecar::SourceStats stats_ FERRY_GUARDED_BY(mu_);
  uint64_t next_etag_ FERRY_GUARDED_BY(mu_) = 1;
};

}  // namespace ferry::testing
