#include "sidecar/fs/inode_table.h"

#include <cstring>

namespace ferry::sidecar {
namespace {

constexpr char kMagic[4] = {'F', 'R', 'Y', 'I'};
constexpr uint32_t kImageVersion = 1;
constexpr size_t kRecordHeaderBytes = 8 + 8 + 8 + 1 + 4;

void PutLe(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Reads little-endian integers from an image; every Take fails past the end.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  bool Take(int bytes, uint64_t* v) {
    if (s_.size() - pos_ < static_cast<size_t>(bytes)) return false;
    *v = 0;
    for (int i = 0; i < bytes; ++i) {
      *v |= static_cast<uint64_t>(static_cast<unsigned char>(s_[pos_ + i])) << (8 * i);
    }
    pos_ += bytes;
    return true;
  }
  bool TakeString(size_t n, std::string* out) {
    if (s_.size() - pos_ < n) return false;
    out->assign(s_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  size_t Remaining() const { return s_.size() - pos_; }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

InodeTable::InodeTable() {
  InodeRecord root;
  root.ino = kRootIno;
  root.generation = 0;
  root.nlookup = 1;
  root.type = EntryType::kDirectory;
  MutexLock lock(mu_);
  by_ino_[kRootIno] = root;
  by_path_[""] = kRootIno;
}

uint64_t InodeTable::HashPath(std::string_view path, uint64_t salt) {
  // FNV-1a 64 then a splitmix64 finaliser: fixed across builds and processes.
  uint64_t h = 1469598103934665603ull ^ (salt * 0x9e3779b97f4a7c15ull);
  for (char c : path) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  // Keep clear of 0 and the root; stay below 2^63 so signed consumers cope.
  h &= ~(1ull << 63);
  return h <= kRootIno ? h + 2 : h;
}

uint64_t InodeTable::FreeInoFor(std::string_view path) const {
  for (uint64_t salt = 0;; ++salt) {
    uint64_t ino = HashPath(path, salt);
    if (!by_ino_.count(ino)) return ino;
  }
}

InodeRecord InodeTable::Acquire(std::string_view path, EntryType type) {
  MutexLock lock(mu_);
  if (path.empty()) return by_ino_.at(kRootIno);
  auto it = by_path_.find(path);
  if (it != by_path_.end()) {
    InodeRecord& rec = by_ino_.at(it->second);
    if (rec.type == type) {
      rec.nlookup++;
      return rec;
    }
    by_path_.erase(it);  // detached: reachable by ino only, until forgotten
  }
  InodeRecord rec;
  rec.ino = FreeInoFor(path);
  rec.generation = next_generation_++;
  rec.nlookup = 1;
  rec.type = type;
  rec.path = std::string(path);
  by_path_[rec.path] = rec.ino;
  by_ino_[rec.ino] = rec;
  return rec;
}

void InodeTable::NoteKernelAttr(uint64_t ino, uint64_t size,
                                std::chrono::steady_clock::time_point at) {
  MutexLock lock(mu_);
  auto it = by_ino_.find(ino);
  if (it == by_ino_.end()) return;
  it->second.kernel_size = size;
  it->second.kernel_attr_at = at;
}

std::optional<InodeRecord> InodeTable::Get(uint64_t ino) const {
  MutexLock lock(mu_);
  auto it = by_ino_.find(ino);
  if (it == by_ino_.end()) return std::nullopt;
  return it->second;
}

std::optional<uint64_t> InodeTable::Find(std::string_view path) const {
  MutexLock lock(mu_);
  auto it = by_path_.find(path);
  if (it == by_path_.end()) return std::nullopt;
  return it->second;
}

uint64_t InodeTable::PeekIno(std::string_view path) const {
  MutexLock lock(mu_);
  auto it = by_path_.find(path);
  if (it != by_path_.end()) return it->second;
  return FreeInoFor(path);
}

bool InodeTable::Forget(uint64_t ino, uint64_t n) {
  if (ino == kRootIno) return false;
  MutexLock lock(mu_);
  auto it = by_ino_.find(ino);
  if (it == by_ino_.end()) return false;
  InodeRecord& rec = it->second;
  rec.nlookup = n >= rec.nlookup ? 0 : rec.nlookup - n;
  if (rec.nlookup > 0) return false;
  auto p = by_path_.find(rec.path);
  if (p != by_path_.end() && p->second == ino) by_path_.erase(p);
  by_ino_.erase(it);
  return true;
}

size_t InodeTable::Size() const {
  MutexLock lock(mu_);
  return by_ino_.size();
}

std::string InodeTable::Serialize() const {
  MutexLock lock(mu_);
  std::string out(kMagic, sizeof(kMagic));
  PutLe(out, kImageVersion, 4);
  PutLe(out, next_generation_, 8);
  PutLe(out, by_ino_.size(), 8);
  for (const auto& [ino, rec] : by_ino_) {
    PutLe(out, rec.ino, 8);
    PutLe(out, rec.generation, 8);
    PutLe(out, rec.nlookup, 8);
    PutLe(out, static_cast<uint8_t>(rec.type), 1);
    PutLe(out, rec.path.size(), 4);
    out += rec.path;
  }
  return out;
}

Status InodeTable::Restore(std::string_view image) {
  if (image.size() < 4 || std::memcmp(image.data(), kMagic, 4) != 0) {
    return InvalidArgument("inode table image: bad magic (not made by InodeTable::Serialize)");
  }
  Reader r(image.substr(4));
  uint64_t version = 0, next_gen = 0, count = 0;
  if (!r.Take(4, &version) || version != kImageVersion) {
    return InvalidArgument("inode table image: unsupported version");
  }
  if (!r.Take(8, &next_gen) || !r.Take(8, &count) || count > r.Remaining() / kRecordHeaderBytes) {
    return InvalidArgument("inode table image: truncated header");
  }
  std::unordered_map<uint64_t, InodeRecord> by_ino;
  std::unordered_map<std::string, uint64_t, PathHash, std::equal_to<>> by_path;
  for (uint64_t i = 0; i < count; ++i) {
    InodeRecord rec;
    uint64_t type = 0, len = 0;
    if (!r.Take(8, &rec.ino) || !r.Take(8, &rec.generation) || !r.Take(8, &rec.nlookup) ||
        !r.Take(1, &type) || !r.Take(4, &len) || !r.TakeString(len, &rec.path)) {
      return InvalidArgument("inode table image: truncated record " + std::to_string(i));
    }
    if (type > static_cast<uint64_t>(EntryType::kSymlink) || rec.ino == 0 ||
        (rec.ino == kRootIno) != rec.path.empty() || by_ino.count(rec.ino)) {
      return InvalidArgument("inode table image: invalid record " + std::to_string(i));
    }
    rec.type = static_cast<EntryType>(type);
    // A detached record (same path, older) must not shadow the live one.
    auto p = by_path.find(rec.path);
    if (p == by_path.end() || by_ino[p->second].generation < rec.generation) {
      by_path[rec.path] = rec.ino;
    }
    by_ino[rec.ino] = std::move(rec);
  }
  if (r.Remaining() != 0) return InvalidArgument("inode table image: trailing bytes");
  if (!by_ino.count(kRootIno)) return InvalidArgument("inode table image: no root record");
  MutexLock lock(mu_);
  by_ino_ = std::move(by_ino);
  by_path_ = std::move(by_path);
  next_generation_ = next_gen;
  return Status();
}

}  // namespace ferry::sidecar
