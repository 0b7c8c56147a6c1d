#include "sidecar/cache/disk_tier.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "common/logging.h"
#include "sidecar/cache/disk_block_format.h"

namespace ferry::sidecar {
namespace {

namespace fs = std::filesystem;
constexpr uint64_t kAllocUnit = 4096;

uint64_t Allocated(uint64_t file_bytes) {
  return (file_bytes + kAllocUnit - 1) / kAllocUnit * kAllocUnit;
}

// Room in each slot beyond the block size: the header and the key.
constexpr uint64_t kSlotHeadroom = 8192;
constexpr uint64_t kMaxBlockBytes = 256ull << 20;

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

Status PwriteAll(int fd, const std::byte* p, size_t n, uint64_t off, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(off));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return StatusFromErrno(errno, "write " + path);
    p += w;
    n -= static_cast<size_t>(w);
    off += static_cast<uint64_t>(w);
  }
  return Status();
}

// Where a block's data starts in its slot: after the header and key, at the
// next 4 KiB boundary, so O_DIRECT can write the slot from one aligned buffer.
uint64_t DataOffset(uint64_t key_len) { return Allocated(kBlockHeaderBytes + key_len); }

}  // namespace

DiskTier::DiskTier(DiskTierOptions options, Clock& clock)
    : options_(std::move(options)),
      root_(options_.dir + "/ferry-blocks-v2"),
      path_(root_ + "/blocks"),
      stride_(Allocated(options_.block_bytes) + kSlotHeadroom),
      clock_(clock) {}

StatusOr<std::unique_ptr<DiskTier>> DiskTier::Open(DiskTierOptions options, Clock& clock) {
  if (options.dir.empty()) return InvalidArgument("disk cache: empty directory; set cache_dir");
  if (!(options.low_watermark > 0 && options.low_watermark <= options.high_watermark &&
        options.high_watermark <= 1.0)) {
    return InvalidArgument("disk cache: watermarks must satisfy 0 < low <= high <= 1");
  }
  if (options.block_bytes == 0 || options.block_bytes > kMaxBlockBytes) {
    return InvalidArgument("disk cache: block size must be 1 byte to 256 MiB");
  }
  std::unique_ptr<DiskTier> tier(new DiskTier(std::move(options), clock));
  FERRY_RETURN_IF_ERROR(tier->OpenSlotFile());
  FERRY_RETURN_IF_ERROR(tier->Scan());
  return tier;
}

Status DiskTier::OpenSlotFile() {
  std::error_code ec;
  const std::string old = options_.dir + "/ferry-blocks-v1";  // a file per block (v1)
  if (fs::exists(old, ec)) {
    GetLogger("sidecar.cache")->info("removing the old disk cache layout {}", old);
    fs::remove_all(old, ec);
  }
  fs::create_directories(root_, ec);
  if (ec) return StatusFromErrno(ec.value(), "create disk cache directory " + root_);
  const std::string& blocks = path_;
  const std::string layout_path = root_ + "/layout";
  const std::string layout = "stride " + std::to_string(stride_) + "\n";
  std::string found;
  if (std::ifstream in(layout_path); in) found.assign(std::istreambuf_iterator<char>(in), {});
  bool fresh = found != layout;
  if (fresh) {
    if (!found.empty()) {
      GetLogger("sidecar.cache")->info("disk cache {}: block size changed, starting empty", root_);
    }
    ::unlink(blocks.c_str());
    const std::string tmp = layout_path + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << layout;
      if (!out.flush()) return StatusFromErrno(errno != 0 ? errno : EIO, "write " + tmp);
    }
    if (::rename(tmp.c_str(), layout_path.c_str()) != 0) {
      return StatusFromErrno(errno, "rename " + tmp);
    }
  }
  fd_ = UniqueFd(::open(blocks.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd_) return StatusFromErrno(errno, "open " + blocks);
  // Writes go around the page cache where the file system allows it; reads
  // stay buffered, so the kernel keeps the disk tier's hot blocks.
  direct_fd_ = UniqueFd(::open(blocks.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC));
  use_direct_ = static_cast<bool>(direct_fd_);
  return Status();
}

Status DiskTier::Scan() {
  struct Found {
    uint64_t written_ns;
    uint64_t hash;
    uint64_t bytes;
    Slot slot;
  };
  std::vector<Found> found;
  std::vector<uint32_t> damaged;
  const std::string& blocks = path_;
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) return StatusFromErrno(errno, "stat " + blocks);
  const auto file_size = static_cast<uint64_t>(st.st_size);
  uint64_t last_slot_end = 0;
  for (uint64_t off = 0; off < file_size;) {
    off_t data = ::lseek(fd_.get(), static_cast<off_t>(off), SEEK_DATA);
    if (data < 0) break;  // ENXIO: only holes from here (or SEEK_DATA unsupported: empty)
    const auto slot = static_cast<uint32_t>(static_cast<uint64_t>(data) / stride_);
    const uint64_t at = OffsetOf(slot);
    off = at + stride_;
    last_slot_end = off;
    std::vector<std::byte> hk(kBlockHeaderBytes);
    if (!PreadAll(fd_.get(), hk.data(), hk.size(), at, blocks).ok()) continue;
    if (std::all_of(hk.begin(), hk.end(), [](std::byte b) { return b == std::byte{0}; })) {
      continue;  // never written, or a write that never reached the disk
    }
    StatusOr<BlockFileLayout> l = ParseBlockHeader(hk);
    Status s = l.ok() ? Status() : l.status();
    if (s.ok() && DataOffset(l->key_len) + l->data_len > stride_) {
      s = FailedPrecondition("block does not fit its slot");
    }
    if (s.ok()) {
      hk.resize(kBlockHeaderBytes + l->key_len);
      s = PreadAll(fd_.get(), hk.data() + kBlockHeaderBytes, l->key_len, at + kBlockHeaderBytes,
                   blocks);
      if (s.ok()) s = CheckBlockHeader(hk, *l);
    }
    if (!s.ok()) {
      damaged.push_back(slot);
      continue;
    }
    found.push_back({l->written_ns, l->key_hash,
                     DataOffset(l->key_len) + Allocated(l->data_len),
                     Slot{slot, l->key_len, l->data_len}});
  }
  // Oldest first, so the newest end up most recent; a hash written twice (a
  // crash between the two writes) keeps its newest copy.
  std::sort(found.begin(), found.end(),
            [](const Found& a, const Found& b) { return a.written_ns < b.written_ns; });
  std::vector<uint32_t> stale;
  {
    MutexLock lock(mu_);
    stats_.corrupt += damaged.size();
    for (const Found& f : found) {
      if (auto it = where_.find(f.hash); it != where_.end()) stale.push_back(it->second.slot);
      index_.Insert(f.hash, f.bytes);
      where_[f.hash] = f.slot;
    }
    next_slot_ = static_cast<uint32_t>(last_slot_end / stride_);
    std::vector<bool> used(next_slot_, false);
    for (const auto& [hash, slot] : where_) used[slot.slot] = true;
    for (uint32_t i : damaged) used[i] = true;  // freed after the punch below
    for (uint32_t i : stale) used[i] = true;
    for (uint32_t i = next_slot_; i-- > 0;) {  // lowest slot at the back: reused first
      if (!used[i]) free_slots_.push_back(i);
    }
  }
  if (!damaged.empty()) {
    GetLogger("sidecar.cache")->warn("disk cache {}: dropped {} damaged blocks", root_, damaged.size());
  }
  damaged.insert(damaged.end(), stale.begin(), stale.end());
  PunchAndFree(damaged);
  auto high = HighBytes();
  bool over = false;
  {
    MutexLock lock(mu_);
    over = index_.bytes() > high;
  }
  if (over) {
    EvictTo(LowBytes());
  }
  return Status();
}

bool DiskTier::Contains(const BlockKey& key) const {
  MutexLock lock(mu_);
  return index_.Contains(key.Hash());
}

DiskTier::Location DiskTier::LocationForTest(const BlockKey& key) const {
  MutexLock lock(mu_);
  auto it = where_.find(key.Hash());
  if (it == where_.end()) return {path_, UINT64_MAX, 0};
  const Slot& s = it->second;
  return {path_, OffsetOf(s.slot), DataOffset(s.key_len) + s.data_len};
}

bool DiskTier::ForgetLocked(uint64_t hash, uint32_t slot) {
  auto it = where_.find(hash);
  if (it == where_.end() || it->second.slot != slot) return false;
  where_.erase(it);
  index_.Erase(hash);
  return true;
}

void DiskTier::ReleaseLocked(const std::vector<uint32_t>& slots, std::vector<uint32_t>& punch_now) {
  for (uint32_t slot : slots) {
    if (pins_.count(slot) != 0) {
      release_on_unpin_.push_back(slot);
    } else {
      punch_now.push_back(slot);
    }
  }
}

void DiskTier::PunchAndFree(const std::vector<uint32_t>& slots) {
  if (slots.empty()) return;
  for (uint32_t slot : slots) {
    // Gives the space back; a file system without hole punching (rare: ext4,
    // xfs, btrfs and tmpfs have it) keeps the bytes until the slot is reused.
    (void)::fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                      static_cast<off_t>(OffsetOf(slot)), static_cast<off_t>(stride_));
  }
  MutexLock lock(mu_);
  free_slots_.insert(free_slots_.end(), slots.begin(), slots.end());
}

StatusOr<BlockData> DiskTier::Get(const BlockKey& key) {
  const uint64_t hash = key.Hash();
  Slot s;
  {
    MutexLock lock(mu_);
    auto it = where_.find(hash);
    if (it == where_.end() || !index_.Touch(hash, options_.quota_bytes)) {
      stats_.misses++;
      return NotFound("disk tier: no such block");
    }
    s = it->second;
    pins_[s.slot]++;
  }
  if (read_hook_for_test_) read_hook_for_test_();
  // Header, key and data in one read: the index knows their lengths.
  std::vector<std::byte> hk(kBlockHeaderBytes + s.key_len);
  std::vector<std::byte> pad(DataOffset(s.key_len) - hk.size());
  auto data = std::make_shared<BlockBytes>(s.data_len);
  iovec iov[3] = {{hk.data(), hk.size()}, {pad.data(), pad.size()}, {data->data(), data->size()}};
  const size_t want = hk.size() + pad.size() + data->size();
  Status status;
  ssize_t n;
  do {
    n = ::preadv(fd_.get(), iov, 3, static_cast<off_t>(OffsetOf(s.slot)));
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    status = StatusFromErrno(errno, "read " + path_);
  } else if (static_cast<size_t>(n) != want) {
    status = FailedPrecondition("block file: truncated slot");
  } else {
    StatusOr<BlockFileLayout> l = ParseBlockHeader(hk);
    status = l.ok() ? CheckBlockKey(hk, *l, key) : l.status();
    if (status.ok()) status = CheckBlockData(*data, *l);
  }
  const bool corrupt = status.Is(StatusCode::kFailedPrecondition);
  std::vector<uint32_t> punch;
  {
    MutexLock lock(mu_);
    if (--pins_[s.slot] == 0) {
      pins_.erase(s.slot);
      auto it = std::find(release_on_unpin_.begin(), release_on_unpin_.end(), s.slot);
      if (it != release_on_unpin_.end()) {
        release_on_unpin_.erase(it);
        punch.push_back(s.slot);
      }
    }
    if (status.ok()) {
      stats_.hits++;
    } else {
      stats_.misses++;
      // Damaged (torn, overwritten half way, bit rot): drop it, unless it was
      // already dropped or replaced while this read ran.
      if (corrupt && ForgetLocked(hash, s.slot)) {
        stats_.corrupt++;
        ReleaseLocked({s.slot}, punch);
      }
    }
  }
  PunchAndFree(punch);
  if (corrupt) {
    GetLogger("sidecar.cache")->warn("dropping damaged cache block in slot {} of {}: {}", s.slot,
                                     path_, status.message());
    return NotFound("disk tier: damaged block dropped");
  }
  if (!status.ok()) return status;  // kNotFound: a valid block of a colliding key
  return BlockData(std::move(data));
}

Status DiskTier::WriteSlot(uint32_t slot, const BlockKey& key, const BlockData& data) {
  const std::string& path = path_;
  {
    MutexLock lock(mu_);
    if (write_error_for_test_ != 0) return StatusFromErrno(write_error_for_test_, "write " + path);
  }
  const auto now_ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count());
  const std::string head = EncodeBlockHeader(key, *data, now_ns);
  const uint64_t at = DataOffset(key.object.size());
  const uint64_t total = at + Allocated(data->size());
  // The slot is built in one aligned, reused buffer and written with
  // O_DIRECT: no page-cache copy of data that the memory tier already holds,
  // and no fresh page-cache pages per block (on a VM that hands freed memory
  // back to its host, first-touching fresh pages is what a write costs).
  AlignedBuffer b;
  {
    MutexLock lock(buffers_mu_);
    if (!buffers_.empty()) {
      b = std::move(buffers_.back());
      buffers_.pop_back();
    }
  }
  if (b.bytes < total) {
    void* p = nullptr;
    if (::posix_memalign(&p, kAllocUnit, stride_) != 0) return ResourceExhausted("disk tier: no memory");
    b.data.reset(static_cast<std::byte*>(p));
    b.bytes = stride_;
  }
  std::byte* buf = b.data.get();
  std::memcpy(buf, head.data(), head.size());
  std::memset(buf + head.size(), 0, at - head.size());
  std::memcpy(buf + at, data->data(), data->size());
  std::memset(buf + at + data->size(), 0, total - at - data->size());
  Status s = use_direct_ ? PwriteAll(direct_fd_.get(), buf, total, OffsetOf(slot), path) : Status();
  if (!use_direct_ || s.sys_errno() == EINVAL) {
    // No O_DIRECT here (an old tmpfs, an odd file system): buffered, from now on.
    use_direct_ = false;
    s = PwriteAll(fd_.get(), buf, total, OffsetOf(slot), path);
  }
  {
    MutexLock lock(buffers_mu_);
    buffers_.push_back(std::move(b));
  }
  FERRY_RETURN_IF_ERROR(s);
  if (options_.fsync && ::fdatasync(fd_.get()) != 0) return StatusFromErrno(errno, "fdatasync " + path);
  return Status();
}

Status DiskTier::Put(const BlockKey& key, BlockData data) {
  if (!data) return InvalidArgument("disk tier: null block");
  const uint64_t hash = key.Hash();
  const uint64_t bytes = DataOffset(key.object.size()) + Allocated(data->size());
  if (bytes > stride_) {
    return InvalidArgument("disk tier: a block of " + std::to_string(data->size()) +
                           " bytes with a key of " + std::to_string(key.object.size()) +
                           " bytes does not fit a slot of " + std::to_string(stride_));
  }
  uint32_t slot = 0;
  {
    MutexLock lock(mu_);
    if (bytes > options_.quota_bytes || clock_.Now() < full_until_) {
      stats_.put_failures++;
      return ResourceExhausted("disk tier: no room for block");
    }
    if (where_.count(hash) != 0) return Status();  // already stored; blocks never change
    if (!free_slots_.empty()) {
      slot = free_slots_.back();
      free_slots_.pop_back();
    } else if (next_slot_ < UINT32_MAX) {
      slot = next_slot_++;
    } else {
      stats_.put_failures++;
      return ResourceExhausted("disk tier: out of slots");
    }
  }
  Status s = WriteSlot(slot, key, data);
  auto low = LowBytes();
  if (!s.ok()) {
    PunchAndFree({slot});  // a half-written slot must not be indexed after a restart
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
  bool raced = false;
  {
    MutexLock lock(mu_);
    if (where_.count(hash) != 0) {
      raced = true;  // a concurrent Put of the same block won
    } else {
      index_.Insert(hash, bytes);
      where_[hash] = Slot{slot, static_cast<uint32_t>(key.object.size()),
                          static_cast<uint32_t>(data->size())};
      over = index_.bytes() > HighBytes();
    }
  }
  if (raced) PunchAndFree({slot});
  if (over) EvictTo(low);
  return Status();
}

void DiskTier::EvictTo(uint64_t target_bytes) {
  std::vector<uint32_t> punch;
  {
    MutexLock lock(mu_);
    std::vector<std::pair<uint64_t, uint64_t>> victims = index_.EvictTo(target_bytes);
    stats_.evictions += victims.size();
    std::vector<uint32_t> slots;
    for (const auto& [hash, bytes] : victims) {
      (void)bytes;
      auto it = where_.find(hash);
      if (it == where_.end()) continue;
      slots.push_back(it->second.slot);
      where_.erase(it);
    }
    ReleaseLocked(slots, punch);
  }
  PunchAndFree(punch);
}

void DiskTier::Erase(const BlockKey& key) {
  const uint64_t hash = key.Hash();
  std::vector<uint32_t> punch;
  {
    MutexLock lock(mu_);
    auto it = where_.find(hash);
    if (it == where_.end()) return;
    uint32_t slot = it->second.slot;
    ForgetLocked(hash, slot);
    ReleaseLocked({slot}, punch);
  }
  PunchAndFree(punch);
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
