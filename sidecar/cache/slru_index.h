#pragma once
// SlruIndex: segmented-LRU bookkeeping (keys and sizes, no payloads) shared by
// the memory and disk tiers. New keys enter the probationary segment; a key
// accessed again after its first access moves to the protected segment
// (capped at `protected_fraction` of capacity; overflow is demoted back to
// probation). Victims come from the probation LRU end first, so a one-pass
// scan only churns probation and the re-used working set survives it.
// Not thread-safe: the owning tier locks around it.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ferry::sidecar {

template <typename Key, typename Hash = std::hash<Key>>
class SlruIndex {
 public:
  explicit SlruIndex(double protected_fraction = 0.8) : protected_fraction_(protected_fraction) {}

  uint64_t bytes() const { return bytes_; }
  size_t size() const { return map_.size(); }
  bool Contains(const Key& k) const { return map_.count(k) != 0; }

  // Adds (or resizes) `k` in probation, not yet referenced.
  void Insert(const Key& k, uint64_t size_bytes) {
    Erase(k);
    probation_.push_front(Node{k, size_bytes, false});
    map_.emplace(k, Where{false, probation_.begin()});
    bytes_ += size_bytes;
  }

  // An access: the first marks the key referenced, the next promotes it.
  // Returns false if absent.
  bool Touch(const Key& k, uint64_t capacity_bytes) {
    auto it = map_.find(k);
    if (it == map_.end()) return false;
    Where& w = it->second;
    if (w.is_protected) {
      protected_.splice(protected_.begin(), protected_, w.it);
      return true;
    }
    if (!w.it->referenced) {
      w.it->referenced = true;
      probation_.splice(probation_.begin(), probation_, w.it);
      return true;
    }
    protected_.splice(protected_.begin(), probation_, w.it);
    w.is_protected = true;
    protected_bytes_ += w.it->size;
    auto cap = static_cast<uint64_t>(static_cast<double>(capacity_bytes) * protected_fraction_);
    while (protected_bytes_ > cap && protected_.size() > 1) {
      auto last = std::prev(protected_.end());
      protected_bytes_ -= last->size;
      map_[last->key] = Where{false, last};  // splice keeps `last` valid
      probation_.splice(probation_.begin(), protected_, last);
    }
    return true;
  }

  // Removes `k`; returns its size, or 0 if absent.
  uint64_t Erase(const Key& k) {
    auto it = map_.find(k);
    if (it == map_.end()) return 0;
    Where w = it->second;
    uint64_t sz = w.it->size;
    if (w.is_protected) {
      protected_bytes_ -= sz;
      protected_.erase(w.it);
    } else {
      probation_.erase(w.it);
    }
    map_.erase(it);
    bytes_ -= sz;
    return sz;
  }

  // Removes victims until bytes() <= target; returns them with their sizes.
  std::vector<std::pair<Key, uint64_t>> EvictTo(uint64_t target_bytes) {
    std::vector<std::pair<Key, uint64_t>> out;
    while (bytes_ > target_bytes && !map_.empty()) {
      std::list<Node>& from = probation_.empty() ? protected_ : probation_;
      Key k = from.back().key;
      uint64_t sz = Erase(k);
      out.emplace_back(std::move(k), sz);
    }
    return out;
  }

 private:
  struct Node {
    Key key;
    uint64_t size;
    bool referenced;
  };
  struct Where {
    bool is_protected;
    typename std::list<Node>::iterator it;
  };
  double protected_fraction_;
  std::list<Node> probation_;  // front = most recent
  std::list<Node> protected_;
  std::unordered_map<Key, Where, Hash> map_;
  uint64_t bytes_ = 0;
  uint64_t protected_bytes_ = 0;
};

}  // namespace ferry::sidecar
