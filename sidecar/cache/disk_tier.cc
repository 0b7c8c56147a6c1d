#include "sidecar/cache/disk_tier.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "common/logging.h"
#include "common/unique_fd.h"
#include "sidecar/cache/disk_block_format.h"

namespace ferry::sidecar {
namespace {

namespace fs = std::filesystem;
constexpr uint64_t kAllocUnit = 4096;

uint64_t Allocated(uint64_t file_bytes) {
  return (file_bytes + kAllocUnit - 1) / kAllocUnit * kAllocUnit;
}

std::string Hex16(uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016" PRIx64, h);
  return buf;
}

Status PreadAll(int fd, std::byte* p, size_t n, uint64_t off, const std::string& path) {
  while (n > 0) {
    ssize_t r = ::pread(fd, p, n, static_cast<off_t>(off));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return StatusFromErrno(errno, "read " + path);
    if (r == 0) return FailedPrecondition("block file truncated: " + path);
    p += r;
    n -= static_cast<size_t>(r);
    off += static_cast<uint64_t>(r);
  }
  return Status();
}

Status WritevAll(int fd, std::vector<iovec> iov, const std::string& path) {
  size_t i = 0;
  while (i < iov.size()) {
    ssize_t w = ::writev(fd, iov.data() + i, static_cast<int>(iov.size() - i));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return StatusFromErrno(errno, "write " + path);
    auto left = static_cast<size_t>(w);
    while (i < iov.size() && left >= iov[i].iov_len) left -= iov[i++].iov_len;
    if (i < iov.size()) {
      iov[i].iov_base = static_cast<char*>(iov[i].iov_base) + left;
      iov[i].iov_len -= left;
    }
  }
  return Status();
}

}  // namespace

DiskTier::DiskTier(DiskTierOptions options, Clock& clock)
    : options_(std::move(options)), root_(options_.dir + "/ferry-blocks-v1"), clock_(clock) {}

StatusOr<std::unique_ptr<DiskTier>> DiskTier::Open(DiskTierOptions options, Clock& clock) {
  if (options.dir.empty()) return InvalidArgument("disk cache: empty directory; set cache_dir");
  if (!(options.low_watermark > 0 && options.low_watermark <= options.high_watermark &&
        options.high_watermark <= 1.0)) {
    return InvalidArgument("disk cache: watermarks must satisfy 0 < low <= high <= 1");
  }
  std::unique_ptr<DiskTier> tier(new DiskTier(std::move(options), clock));
  FERRY_RETURN_IF_ERROR(tier->Scan());
  return tier;
}

Status DiskTier::Scan() {
  std::error_code ec;
  fs::create_directories(root_, ec);
  if (ec) return StatusFromErrno(ec.value(), "create disk cache directory " + root_);
  struct Found {
    int64_t mtime;
    uint64_t hash;
    uint64_t bytes;
  };
  std::vector<Found> found;
  for (int b = 0; b < 256; ++b) {
    char sub[3];
    std::snprintf(sub, sizeof(sub), "%02x", b);
    std::string dir = root_ + "/" + sub;
    fs::create_directories(dir, ec);
    if (ec) return StatusFromErrno(ec.value(), "create disk cache directory " + dir);
    fs::directory_iterator it(dir, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      std::string path = it->path().string();
      if (name.size() != 16 || name.find_first_not_of("0123456789abcdef") != std::string::npos) {
        ::unlink(path.c_str());  // temp file of an interrupted write, or junk
        continue;
      }
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      found.push_back({st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec,
                       std::stoull(name, nullptr, 16), Allocated(static_cast<uint64_t>(st.st_size))});
    }
    if (ec) return StatusFromErrno(ec.value(), "list disk cache directory " + dir);
  }
  std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) { return a.mtime < b.mtime; });
  {
    MutexLock lock(mu_);
    for (const Found& f : found) index_.Insert(f.hash, f.bytes);
  }
  auto high = static_cast<uint64_t>(static_cast<double>(options_.quota_bytes) * options_.high_watermark);
  bool over = false;
  {
    MutexLock lock(mu_);
    over = index_.bytes() > high;
  }
  if (over) {
    EvictTo(static_cast<uint64_t>(static_cast<double>(options_.quota_bytes) * options_.low_watermark));
  }
  return Status();
}

std::string DiskTier::PathFor(uint64_t hash) const {
  std::string hex = Hex16(hash);
  return root_ + "/" + hex.substr(0, 2) + "/" + hex;
}

bool DiskTier::Contains(const BlockKey& key) const {
  MutexLock lock(mu_);
  return index_.Contains(key.Hash());
}

void DiskTier::DropCorrupt(uint64_t hash, const std::string& path) {
  ::unlink(path.c_str());
  MutexLock lock(mu_);
  index_.Erase(hash);
  stats_.corrupt++;
  stats_.misses++;
}

StatusOr<BlockData> DiskTier::Get(const BlockKey& key) {
  uint64_t hash = key.Hash();
  {
    MutexLock lock(mu_);
    if (!index_.Touch(hash, options_.quota_bytes)) {
      stats_.misses++;
      return NotFound("disk tier: no such block");
    }
  }
  std::string path = PathFor(hash);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    int err = errno;
    MutexLock lock(mu_);
    index_.Erase(hash);
    stats_.misses++;
    if (err == ENOENT) return NotFound("disk tier: block file gone");
    return StatusFromErrno(err, "open " + path);
  }
  std::vector<std::byte> head(kBlockHeaderBytes);
  Status s = PreadAll(fd.get(), head.data(), head.size(), 0, path);
  StatusOr<BlockFileLayout> layout = s.ok() ? ParseBlockHeader(head) : StatusOr<BlockFileLayout>(s);
  if (layout.ok()) {
    head.resize(kBlockHeaderBytes + layout->key_len);
    s = PreadAll(fd.get(), head.data() + kBlockHeaderBytes, layout->key_len, kBlockHeaderBytes, path);
    if (s.ok()) s = CheckBlockKey(head, *layout, key);
  } else {
    s = layout.status();
  }
  if (s.Is(StatusCode::kNotFound)) {  // a valid block of a colliding key: leave it
    MutexLock lock(mu_);
    stats_.misses++;
    return s;
  }
  auto data = std::make_shared<std::vector<std::byte>>();
  if (s.ok()) {
    data->resize(layout->data_len);
    s = PreadAll(fd.get(), data->data(), data->size(), head.size(), path);
    struct stat st {};
    if (s.ok() && (::fstat(fd.get(), &st) != 0 ||
                   static_cast<uint64_t>(st.st_size) != head.size() + data->size())) {
      s = FailedPrecondition("block file: unexpected size");
    }
    if (s.ok()) s = CheckBlockData(*data, *layout);
  }
  if (!s.ok()) {
    if (s.Is(StatusCode::kFailedPrecondition)) {
      GetLogger("sidecar.cache")->warn("dropping damaged cache block {}: {}", path, s.message());
      DropCorrupt(hash, path);
      return NotFound("disk tier: damaged block dropped");
    }
    MutexLock lock(mu_);
    stats_.misses++;
    return s;
  }
  MutexLock lock(mu_);
  stats_.hits++;
  return BlockData(std::move(data));
}

Status DiskTier::WriteFile(const BlockKey& key, const BlockData& data, uint64_t hash) {
  std::string path = PathFor(hash);
  std::string tmp;
  int injected = 0;
  {
    MutexLock lock(mu_);
    injected = write_error_for_test_;
    tmp = path.substr(0, path.size() - 16) + "." + Hex16(hash) + ".tmp." + std::to_string(temp_counter_++);
  }
  if (injected != 0) return StatusFromErrno(injected, "write " + tmp);
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) return StatusFromErrno(errno, "create " + tmp);
  std::string head = EncodeBlockHeader(key, *data);
  std::vector<iovec> iov = {{head.data(), head.size()},
                            {const_cast<std::byte*>(data->data()), data->size()}};
  Status s = WritevAll(fd.get(), std::move(iov), tmp);
  if (s.ok() && options_.fsync && ::fdatasync(fd.get()) != 0) s = StatusFromErrno(errno, "fdatasync " + tmp);
  if (s.ok() && ::close(fd.Release()) != 0) s = StatusFromErrno(errno, "close " + tmp);
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) s = StatusFromErrno(errno, "rename " + tmp);
  if (!s.ok()) ::unlink(tmp.c_str());
  return s;
}

Status DiskTier::Put(const BlockKey& key, BlockData data) {
  if (!data) return InvalidArgument("disk tier: null block");
  uint64_t hash = key.Hash();
  uint64_t bytes = Allocated(kBlockHeaderBytes + key.object.size() + data->size());
  {
    MutexLock lock(mu_);
    if (bytes > options_.quota_bytes || clock_.Now() < full_until_) {
      stats_.put_failures++;
      return ResourceExhausted("disk tier: no room for block");
    }
  }
  Status s = WriteFile(key, data, hash);
  auto low = static_cast<uint64_t>(static_cast<double>(options_.quota_bytes) * options_.low_watermark);
  if (!s.ok()) {
    bool full = s.sys_errno() == ENOSPC || s.sys_errno() == EDQUOT;
    {
      MutexLock lock(mu_);
      stats_.put_failures++;
      if (full) full_until_ = clock_.Now() + options_.full_backoff;
    }
    if (!full) return Internal(std::string(s.message()));
    GetLogger("sidecar.cache")->warn("disk cache full, serving from memory: {}", s.message());
    EvictTo(low);
    return ResourceExhausted("disk tier: disk full: " + std::string(s.message()));
  }
  bool over = false;
  {
    MutexLock lock(mu_);
    index_.Insert(hash, bytes);
    over = index_.bytes() >
           static_cast<uint64_t>(static_cast<double>(options_.quota_bytes) * options_.high_watermark);
  }
  if (over) EvictTo(low);
  return Status();
}

void DiskTier::EvictTo(uint64_t target_bytes) {
  std::vector<std::pair<uint64_t, uint64_t>> victims;
  {
    MutexLock lock(mu_);
    victims = index_.EvictTo(target_bytes);
    stats_.evictions += victims.size();
  }
  for (const auto& [hash, bytes] : victims) {
    (void)bytes;
    ::unlink(PathFor(hash).c_str());
  }
}

void DiskTier::Erase(const BlockKey& key) {
  uint64_t hash = key.Hash();
  {
    MutexLock lock(mu_);
    if (index_.Erase(hash) == 0) return;
  }
  ::unlink(PathFor(hash).c_str());
}

TierStats DiskTier::Stats() const {
  MutexLock lock(mu_);
  TierStats s = stats_;
  s.bytes = index_.bytes();
  s.blocks = index_.size();
  s.quota_bytes = options_.quota_bytes;
  return s;
}

void DiskTier::SetWriteErrorForTest(int err) {
  MutexLock lock(mu_);
  write_error_for_test_ = err;
}

}  // namespace ferry::sidecar
