#include "sidecar/fs/metadata_cache.h"

#include <algorithm>
#include <cerrno>

namespace ferry::sidecar {
namespace {

void HashBytes(uint64_t& h, std::string_view s) {
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  h ^= 0xff;
  h *= 1099511628211ull;
}

uint64_t HashListing(const std::vector<Entry>& children) {
  uint64_t h = 1469598103934665603ull;
  for (const Entry& e : children) {
    HashBytes(h, e.name);
    HashBytes(h, std::to_string(static_cast<int>(e.type)) + ":" + std::to_string(e.mode));
    HashBytes(h, e.VersionKey());
    HashBytes(h, e.symlink_target);
  }
  return h;
}

}  // namespace

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out;
  out.reserve(dir.size() + 1 + name.size());
  out += dir;
  if (!dir.empty()) out += '/';
  out += name;
  return out;
}

std::pair<std::string_view, std::string_view> SplitPath(std::string_view path) {
  auto pos = path.rfind('/');
  if (pos == std::string_view::npos) return {std::string_view(), path};
  return {path.substr(0, pos), path.substr(pos + 1)};
}

const Entry* Listing::Find(std::string_view name) const {
  auto it = std::lower_bound(children.begin(), children.end(), name,
                             [](const Entry& e, std::string_view n) { return e.name < n; });
  if (it == children.end() || it->name != name) return nullptr;
  return &*it;
}

MetadataCache::MetadataCache(DataSource& source, Clock& clock, MetadataOptions options,
                             Observer* observer)
    : source_(source), clock_(clock), options_(options), observer_(observer) {}

bool MetadataCache::Fresh(std::chrono::steady_clock::time_point fetched,
                          std::chrono::nanoseconds ttl) {
  return ttl.count() > 0 && clock_.Now() - fetched < ttl;
}

void MetadataCache::StoreEntry(const std::string& path, const Entry& e, Changes& changes) {
  auto it = entries_.find(path);
  if (it != entries_.end()) {
    const Entry& old = it->second.entry;
    if (old.type != e.type || (e.type == EntryType::kFile && old.VersionKey() != e.VersionKey())) {
      changes.files.push_back(path);
    }
    it->second = CachedEntry{e, clock_.Now()};
  } else {
    entries_.emplace(path, CachedEntry{e, clock_.Now()});
  }
  negatives_.erase(path);
}

void MetadataCache::MaybeSweep() {
  if (entries_.size() + negatives_.size() < sweep_at_) return;
  auto now = clock_.Now();
  std::erase_if(entries_, [&](const auto& kv) { return now - kv.second.fetched >= options_.attr_ttl; });
  std::erase_if(negatives_, [&](const auto& kv) { return now >= kv.second; });
  std::erase_if(listings_, [&](const auto& kv) { return now - kv.second.fetched >= options_.dir_ttl; });
  sweep_at_ = std::max<size_t>(4096, 2 * (entries_.size() + negatives_.size()));
}

std::optional<StatusOr<Entry>> MetadataCache::FromListing(const std::string& path) {
  auto [dir, name] = SplitPath(path);
  auto l = listings_.find(std::string(dir));
  if (l == listings_.end() || !Fresh(l->second.fetched, options_.dir_ttl)) return std::nullopt;
  if (l->second.listing->Find(name) == nullptr) {
    stats_.negative_hits++;
    return StatusOr<Entry>(NotFound("no such file or directory: " + path));
  }
  auto it = entries_.find(path);
  if (it == entries_.end() || !Fresh(it->second.fetched, options_.attr_ttl)) return std::nullopt;
  stats_.hits++;
  return StatusOr<Entry>(it->second.entry);
}

StatusOr<Entry> MetadataCache::Get(std::string_view path_view, Purpose purpose) {
  std::string path(path_view);
  {
    MutexLock lock(mu_);
    auto it = entries_.find(path);
    if (it != entries_.end() && Fresh(it->second.fetched, options_.attr_ttl)) {
      stats_.hits++;
      return it->second.entry;
    }
    auto n = negatives_.find(path);
    if (n != negatives_.end()) {
      if (clock_.Now() < n->second) {
        stats_.negative_hits++;
        return NotFound("no such file or directory: " + path);
      }
      negatives_.erase(n);
    }
    if (!path.empty()) {
      if (auto r = FromListing(path)) return std::move(*r);
    }
  }
  if (purpose == Purpose::kLookup && options_.list_on_lookup && !path.empty()) {
    auto [dir, name] = SplitPath(path);
    auto listing = List(dir);
    if (listing.ok()) {
      const Entry* e = (*listing)->Find(name);
      if (e == nullptr) return NotFound("no such file or directory: " + path);
      return *e;
    }
    // The parent cannot be listed (e.g. a source without listings): Stat.
  }
  return StatAndStore(path);
}

StatusOr<Entry> MetadataCache::StatAndStore(const std::string& path) {
  {
    MutexLock lock(mu_);
    stats_.stats++;
  }
  StatusOr<Entry> r = source_.Stat(path);
  Changes changes;
  {
    MutexLock lock(mu_);
    if (r.ok()) {
      StoreEntry(path, *r, changes);
    } else if (r.status().Is(StatusCode::kNotFound)) {
      if (entries_.erase(path) > 0) {
        auto [dir, name] = SplitPath(path);
        changes.names.emplace_back(std::string(dir), std::string(name));
      }
      if (options_.negative_ttl.count() > 0) {
        negatives_[path] = clock_.Now() + options_.negative_ttl;
      }
    }
    MaybeSweep();
  }
  Notify(changes);
  return r;
}

StatusOr<std::shared_ptr<const Listing>> MetadataCache::List(std::string_view dir_view) {
  std::string dir(dir_view);
  std::shared_ptr<const Listing> old;
  {
    MutexLock lock(mu_);
    for (;;) {
      auto it = listings_.find(dir);
      if (it != listings_.end() && Fresh(it->second.fetched, options_.dir_ttl)) {
        stats_.hits++;
        return it->second.listing;
      }
      if (!listing_in_flight_.count(dir)) break;
      list_done_.Wait(mu_);
    }
    listing_in_flight_.insert(dir);
    stats_.lists++;
  }
  StatusOr<std::vector<Entry>> r = source_.List(dir);
  Changes changes;
  std::shared_ptr<Listing> listing;
  Status error;
  {
    MutexLock lock(mu_);
    listing_in_flight_.erase(dir);
    list_done_.NotifyAll();
    auto it = listings_.find(dir);
    if (it != listings_.end()) old = it->second.listing;
    if (!r.ok()) {
      error = r.status();
      if (error.Is(StatusCode::kFailedPrecondition)) {
        error = Status(StatusCode::kFailedPrecondition, "not a directory: " + dir, ENOTDIR);
      }
      if (it != listings_.end()) listings_.erase(it);
    } else {
      listing = std::make_shared<Listing>();
      listing->children = std::move(*r);
      std::sort(listing->children.begin(), listing->children.end(),
                [](const Entry& a, const Entry& b) { return a.name < b.name; });
      listing->hash = HashListing(listing->children);
      for (const Entry& e : listing->children) StoreEntry(JoinPath(dir, e.name), e, changes);
      if (old != nullptr && old->hash != listing->hash) {
        for (const Entry& e : old->children) {
          if (listing->Find(e.name) == nullptr) changes.names.emplace_back(dir, e.name);
        }
        for (const Entry& e : listing->children) {
          if (old->Find(e.name) == nullptr) changes.names.emplace_back(dir, e.name);
        }
      }
      listings_[dir] = CachedListing{listing, clock_.Now()};
    }
    MaybeSweep();
  }
  Notify(changes);
  if (!error.ok()) return error;
  return std::shared_ptr<const Listing>(std::move(listing));
}

void MetadataCache::Invalidate(std::string_view path_view) {
  std::string path(path_view);
  MutexLock lock(mu_);
  entries_.erase(path);
  negatives_.erase(path);
  auto [dir, name] = SplitPath(path);
  listings_.erase(std::string(dir));
}

MetadataStats MetadataCache::Stats() const {
  MutexLock lock(mu_);
  return stats_;
}

void MetadataCache::Notify(const Changes& changes) {
  if (observer_ == nullptr) return;
  for (const std::string& p : changes.files) observer_->OnFileChanged(p);
  for (const auto& [dir, name] : changes.names) observer_->OnNameChanged(dir, name);
}

}  // namespace ferry::sidecar
