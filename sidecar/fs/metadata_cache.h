#pragma once
// MetadataCache: the filesystem's view of names and attributes, with TTLs.
//
// A directory's children come from ONE DataSource::List; every child's Entry
// is remembered from it, so `ls -lR` costs one LIST per directory and no Stat
// per file. Names missing from a fresh listing are negative without asking the
// source; names in unlisted directories either trigger a listing of the parent
// (list_on_lookup) or one Stat, whose misses are kept for negative_ttl.
// Concurrent misses on one directory share a single List. A TTL of zero
// disables that cache. No lock is held across source calls.
//
// Changes seen on refresh (a file's VersionKey differs from the one cached, a
// name appeared or vanished in a listing) are reported to the Observer, outside
// any lock, so the FUSE layer can invalidate kernel caches. Thread-safe.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"
#include "sidecar/source/data_source.h"

namespace ferry::sidecar {

struct MetadataOptions {
  std::chrono::nanoseconds attr_ttl = std::chrono::seconds(1);
  std::chrono::nanoseconds negative_ttl = std::chrono::seconds(1);
  std::chrono::nanoseconds dir_ttl = std::chrono::seconds(1);
  bool list_on_lookup = true;  // resolve names in unlisted dirs by listing the parent
};

// One directory's children, sorted by name; immutable once published.
struct Listing {
  std::vector<Entry> children;
  uint64_t hash = 0;  // over names, types and version keys: equal hash = same listing
  const Entry* Find(std::string_view name) const;
};

struct MetadataStats {
  uint64_t stats = 0;          // DataSource::Stat calls
  uint64_t lists = 0;          // DataSource::List calls
  uint64_t hits = 0;           // answered from the cache
  uint64_t negative_hits = 0;  // misses answered from the cache
};

class MetadataCache {
 public:
  class Observer {
   public:
    virtual ~Observer() = default;
    // A file's content identity changed (its cached bytes are stale).
    virtual void OnFileChanged(const std::string& path) = 0;
    // `name` appeared in or vanished from directory `dir`.
    virtual void OnNameChanged(const std::string& dir, const std::string& name) = 0;
  };

  enum class Purpose { kLookup, kAttr };

  // `observer` may be null; it must outlive the cache.
  MetadataCache(DataSource& source, Clock& clock, MetadataOptions options, Observer* observer);
  MetadataCache(const MetadataCache&) = delete;
  MetadataCache& operator=(const MetadataCache&) = delete;

  // Metadata of `path` ("" = root). kLookup may answer from (or fetch) the
  // parent's listing; kAttr refreshes with a Stat once attr_ttl has passed.
  // Errors are the source's (kNotFound for absent names, also from the
  // negative cache).
  StatusOr<Entry> Get(std::string_view path, Purpose purpose);

  // The children of directory `dir`, fresh within dir_ttl. kNotFound; a
  // non-directory gives a status carrying ENOTDIR; other errors the source's.
  StatusOr<std::shared_ptr<const Listing>> List(std::string_view dir);

  // Forgets what is known about `path` (e.g. a read found the object changed).
  void Invalidate(std::string_view path);

  MetadataStats Stats() const;

 private:
  struct CachedEntry {
    Entry entry;
    std::chrono::steady_clock::time_point fetched;
  };
  struct CachedListing {
    std::shared_ptr<const Listing> listing;
    std::chrono::steady_clock::time_point fetched;
  };
  struct Changes {
    std::vector<std::string> files;
    std::vector<std::pair<std::string, std::string>> names;
  };

  bool Fresh(std::chrono::steady_clock::time_point fetched, std::chrono::nanoseconds ttl)
      FERRY_REQUIRES(mu_);
  void StoreEntry(const std::string& path, const Entry& e, Changes& changes) FERRY_REQUIRES(mu_);
  // Answers from a fresh parent listing: nullopt when none is fresh.
  std::optional<StatusOr<Entry>> FromListing(const std::string& path) FERRY_REQUIRES(mu_);
  StatusOr<Entry> StatAndStore(const std::string& path);
  void Notify(const Changes& changes);
  void MaybeSweep() FERRY_REQUIRES(mu_);

  DataSource& source_;
  Clock& clock_;
  const MetadataOptions options_;
  Observer* const observer_;

  // Guards everything below. Leaf lock for this class; never held across
  // source calls or Observer callbacks.
  mutable Mutex mu_;
  CondVar list_done_;  // signalled when an in-flight List finishes
  std::unordered_map<std::string, CachedEntry> entries_ FERRY_GUARDED_BY(mu_);
  std::unordered_map<std::string, CachedListing> listings_ FERRY_GUARDED_BY(mu_);
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> negatives_
      FERRY_GUARDED_BY(mu_);
  std::unordered_set<std::string> listing_in_flight_ FERRY_GUARDED_BY(mu_);
  MetadataStats stats_ FERRY_GUARDED_BY(mu_);
  size_t sweep_at_ FERRY_GUARDED_BY(mu_) = 4096;  // sweep expired entries above this size
};

// "a/b" + "c" -> "a/b/c"; "" + "c" -> "c".
std::string JoinPath(std::string_view dir, std::string_view name);
// "a/b/c" -> ("a/b", "c"); "c" -> ("", "c").
std::pair<std::string_view, std::string_view> SplitPath(std::string_view path);

}  // namespace ferry::sidecar
