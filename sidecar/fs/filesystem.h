#pragma once
// Filesystem: the FUSE-free core of a ferry mount. It turns FUSE-shaped calls
// (nodeids, file handles, offsets) into DataSource / BlockCache calls and
// decides what the kernel may cache:
//  - names and attributes come from MetadataCache (one List per directory,
//    TTLs, negative entries); replies carry the matching kernel timeouts;
//  - open() keeps the kernel page cache (keep_cache) when the file's
//    VersionKey equals the one seen at the previous open of that nodeid;
//    version changes are pushed to the InvalidationSink, which must queue them
//    (never invalidate from inside a request handler);
//  - reads use the fd from DataSource::OpenLocal when the source gives one,
//    else the BlockCache if there is one, else DataSource::Read;
//  - every dataset is served read-only: writes, creates, unlinks and setattr
//    are EROFS.
// Errors are Status values; fs/fuse_errno.cc turns them into errno. Unknown
// nodeids or handles carry ESTALE / EBADF. Thread-safe: every method may be
// called from many FUSE worker threads at once.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"
#include "common/unique_fd.h"
#include "sidecar/cache/block_cache.h"
#include "sidecar/fs/backing.h"
#include "sidecar/fs/inode_table.h"
#include "sidecar/fs/metadata_cache.h"
#include "sidecar/source/data_source.h"

namespace ferry::sidecar {

struct FilesystemOptions {
  std::chrono::nanoseconds attr_ttl = std::chrono::seconds(1);
  std::chrono::nanoseconds entry_ttl = std::chrono::seconds(1);
  std::chrono::nanoseconds negative_ttl = std::chrono::seconds(1);
  std::chrono::nanoseconds dir_ttl = std::chrono::seconds(1);
  bool list_on_lookup = true;  // see MetadataOptions
  bool cache_dir = true;       // FOPEN_CACHE_DIR on opendir
  // Read OpenLocal fds with O_DIRECT where the file system allows it: no
  // second copy of the data in the backing page cache (the FUSE page cache
  // keeps it). Buffers handed to Read must then be 4 KiB aligned.
  bool local_direct_io = false;
  // Serve files of sources that give local fds (local://) by FUSE
  // passthrough where the kernel and the mount allow it: reads go straight
  // to the backing file and its page cache, not through ferry. Decided at
  // INIT (EnablePassthrough); off or unavailable, reads go through ferry.
  bool passthrough = false;
  // Files smaller than this are read through ferry (and the FUSE page cache)
  // even with passthrough on. 0 by default: measured, small files gain from
  // passthrough too (bench/results/local_fs.md).
  uint64_t passthrough_min_bytes = 0;
  uint32_t uid = 0;            // owner reported for every file
  uint32_t gid = 0;
  // Permission bits reported for every regular file / directory (0: the
  // source's bits, or 0444 / 0555 when it has none), as goofys' and
  // mountpoint-s3's --file-mode/--dir-mode: lets a non-root app read a
  // local:// tree of 0600 files, or hides group/other bits.
  uint32_t file_mode = 0;
  uint32_t dir_mode = 0;

  // Defaults: 1 s TTLs for local paths (they change under us), 60 s for
  // remote object stores.
  static FilesystemOptions ForLocal();
  static FilesystemOptions ForRemote();
};

// stat(2) fields, FUSE-free. `mode` includes the S_IF* type bits.
struct Attr {
  uint64_t ino = 0;
  uint32_t mode = 0;
  uint32_t nlink = 1;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;
  uint64_t blocks = 0;  // 512-byte units
  uint32_t blksize = 0;
  int64_t mtime_ns = 0;  // also atime and ctime
};

struct EntryReply {
  uint64_t ino = 0;  // holds one kernel lookup reference
  uint64_t generation = 0;
  Attr attr;
  std::chrono::nanoseconds attr_timeout{0};
  std::chrono::nanoseconds entry_timeout{0};
};

struct AttrReply {
  Attr attr;
  std::chrono::nanoseconds timeout{0};
};

struct OpenReply {
  uint64_t fh = 0;
  bool keep_cache = false;  // FOPEN_KEEP_CACHE
  bool cache_dir = false;   // FOPEN_CACHE_DIR (opendir only)
  int32_t backing_id = 0;   // > 0: FOPEN_PASSTHROUGH with this backing file
  bool direct_io = false;   // FOPEN_DIRECT_IO: bypass the kernel page cache
};

struct DirEntry {
  std::string name;
  uint64_t next_offset = 0;
  // ReadDirPlus: entry.ino != 0 holds one lookup reference ("." and ".." have
  // entry.ino == 0 and only attr.ino / attr.mode set). ReadDir: attr.ino and
  // attr.mode only.
  EntryReply entry;
};

struct StatFsReply {
  uint64_t block_size = 0;
  uint64_t blocks = 0;
  uint64_t blocks_free = 0;
  uint64_t files = 0;
  uint64_t files_free = 0;
  uint32_t name_max = 255;
};

struct FilesystemStats {
  MetadataStats metadata;
  uint64_t opens = 0;
  uint64_t keep_cache_opens = 0;
  uint64_t read_bytes = 0;
  uint64_t passthrough_opens = 0;  // opens served by the kernel from a backing file
  uint64_t direct_opens = 0;       // opens of a file whose size the kernel had wrong
  uint64_t open_handles = 0;       // file handles not yet released
  bool passthrough = false;        // passthrough is on for this mount
};

// Receives kernel-cache invalidations. Implementations must return quickly
// and do the notify later, on another thread.
class InvalidationSink {
 public:
  virtual ~InvalidationSink() = default;
  virtual void InvalidateInode(uint64_t ino) = 0;
  virtual void InvalidateEntry(uint64_t parent, std::string name) = 0;
};

class Filesystem final : private MetadataCache::Observer {
 public:
  // `cache` may be null (reads go to the source directly).
  Filesystem(DataSource& source, BlockCache* cache, FilesystemOptions options, Clock& clock);
  ~Filesystem() override;
  Filesystem(const Filesystem&) = delete;
  Filesystem& operator=(const Filesystem&) = delete;

  // Set before serving; null stops notifications. Must outlive its use.
  void SetInvalidationSink(InvalidationSink* sink) { sink_.store(sink); }
  // From INIT, when the connection negotiated passthrough and
  // options().passthrough asks for it: opens of files with a local fd then
  // carry a backing id. All opens of one inode share one registration (the
  // kernel refuses two backing files, or a mix of passthrough and cached
  // opens, on one inode). It stays after the last handle is released, for
  // the next open of the same file version, until the kernel forgets the
  // inode or kMaxIdleBackings newer idle ones push it out. The first failed registration turns passthrough off for the
  // mount (logged once). `registrar` must outlive the serving.
  void EnablePassthrough(BackingRegistrar* registrar) {
    registrar_.store(registrar);
    passthrough_on_.store(registrar != nullptr);
  }

  const FilesystemOptions& options() const { return options_; }
  const DataSource& source() const { return source_; }

  // kNotFound for absent names (the caller may cache it for negative_ttl);
  // ESTALE unknown parent; ENOTDIR; ENAMETOOLONG.
  StatusOr<EntryReply> Lookup(uint64_t parent, std::string_view name);
  void Forget(uint64_t ino, uint64_t nlookup);
  // With `fh` (the kernel asks on behalf of an open file: fstat, or a read
  // near the end of the file), a remote file reports the version that handle
  // opened, not uncached: a reader half way through a file that changed would
  // otherwise see the new size (a shrunk file cut the old bytes short, a
  // grown one read past them) while its reads still come from the old version.
  StatusOr<AttrReply> GetAttr(uint64_t ino, std::optional<uint64_t> fh = std::nullopt);
  StatusOr<std::string> ReadLink(uint64_t ino);  // EINVAL: not a symlink

  StatusOr<OpenReply> OpenDir(uint64_t ino);  // ENOTDIR
  // Calls `add` for entries from `offset` on ("." and ".." first) until it
  // returns false or the listing ends; an entry `add` refuses holds no
  // reference. EBADF: unknown handle.
  Status ReadDir(uint64_t fh, uint64_t offset, const std::function<bool(const DirEntry&)>& add);
  Status ReadDirPlus(uint64_t fh, uint64_t offset,
                     const std::function<bool(const DirEntry&)>& add);
  void ReleaseDir(uint64_t fh);

  // `flags` as open(2); any write access or O_TRUNC is EROFS. EISDIR.
  StatusOr<OpenReply> Open(uint64_t ino, int flags);
  // Bytes [offset, offset + out.size()), short only at end of file. EBADF.
  StatusOr<size_t> Read(uint64_t fh, uint64_t offset, std::span<std::byte> out);
  // Read without a copy: the bytes as slices of cached blocks (appended to
  // `out`), for handles read through a BlockCache that supports it.
  // kUnimplemented otherwise (use Read). Same errors as Read.
  StatusOr<size_t> ReadSlices(uint64_t fh, uint64_t offset, size_t size,
                              std::vector<BlockCache::Slice>& out);
  void Release(uint64_t fh);
  // The fd behind an open handle whose source gave one (OpenLocal), for
  // splicing replies straight from it; -1 otherwise. Valid until Release(fh).
  int LocalFd(uint64_t fh) const;

  StatFsReply StatFs() const;
  // The answer to every modifying operation (`op` names it in the message).
  Status RejectWrite(std::string_view op) const;

  // The inode table, for hand-over to a restarted data plane.
  std::string SerializeInodes() const { return inodes_.Serialize(); }
  Status RestoreInodes(std::string_view image) { return inodes_.Restore(image); }
  size_t InodeCountForTest() const { return inodes_.Size(); }

  FilesystemStats Stats() const;

 private:
  struct FileHandle {
    std::string path;
    Entry version;
    UniqueFd fd;  // from OpenLocal, or invalid
    uint64_t ino = 0;
  };
  // One inode's open handles and their shared backing registration.
  struct Backing {
    int32_t id = 0;  // 0: the inode's handles are served by ferry
    int opens = 0;
    std::string version;  // VersionKey of the registered file
  };
  static constexpr size_t kMaxIdleBackings = 4096;
  struct DirHandle {
    uint64_t ino = 0;
    std::string path;
    std::shared_ptr<const Listing> listing;
  };

  StatusOr<InodeRecord> Record(uint64_t ino) const;
  Attr MakeAttr(uint64_t ino, const Entry& e) const;
  // MakeAttr for a reply that sets the kernel's attributes of a live inode:
  // remembers the size the kernel now has (see Open).
  Attr ReportAttr(uint64_t ino, const Entry& e);
  Status ReadDirImpl(uint64_t fh, uint64_t offset, bool plus,
                     const std::function<bool(const DirEntry&)>& add);
  StatusOr<size_t> ReadFd(int fd, uint64_t offset, std::span<std::byte> out);
  StatusOr<std::shared_ptr<FileHandle>> Handle(uint64_t fh) const;
  // The backing id for a new handle on `ino` (0: not passthrough).
  // `want`: this open would use passthrough if the inode's state allows.
  int32_t AcquireBacking(uint64_t ino, int fd, const std::string& version, bool want);
  void ReleaseBacking(uint64_t ino);
  void ForgetBacking(uint64_t ino);
  void CloseBackingIdLocked(int32_t id) FERRY_REQUIRES(backing_mu_);
  void DropBackingLocked(std::unordered_map<uint64_t, Backing>::iterator it)
      FERRY_REQUIRES(backing_mu_);
  // Counts a read's bytes; a changed object invalidates its metadata (EIO: reopen it).
  StatusOr<size_t> CountRead(const FileHandle& h, StatusOr<size_t> n);

  // MetadataCache::Observer
  void OnFileChanged(const std::string& path) override;
  void OnNameChanged(const std::string& dir, const std::string& name) override;

  DataSource& source_;
  BlockCache* const cache_;
  const FilesystemOptions options_;
  Clock& clock_;
  InodeTable inodes_;
  MetadataCache metadata_;
  std::atomic<InvalidationSink*> sink_{nullptr};
  std::atomic<uint64_t> next_fh_{1};
  std::atomic<uint64_t> opens_{0};
  std::atomic<uint64_t> keep_cache_opens_{0};
  std::atomic<uint64_t> read_bytes_{0};
  std::atomic<uint64_t> passthrough_opens_{0};
  std::atomic<uint64_t> direct_opens_{0};
  std::atomic<BackingRegistrar*> registrar_{nullptr};
  std::atomic<bool> passthrough_on_{false};

  // Guards backings_. Held across a registrar call (a round trip to the
  // propagator) so two first opens of one inode never register twice; taken
  // before mu_, never after it.
  Mutex backing_mu_;
  std::unordered_map<uint64_t, Backing> backings_ FERRY_GUARDED_BY(backing_mu_);
  // Inos whose registration went idle, oldest first (may hold stale entries).
  std::deque<uint64_t> idle_backings_ FERRY_GUARDED_BY(backing_mu_);

  // Guards the maps below. Leaf lock: never held across source, cache or
  // sink calls, nor together with another lock.
  mutable Mutex mu_;
  std::unordered_map<uint64_t, std::shared_ptr<FileHandle>> files_ FERRY_GUARDED_BY(mu_);
  std::unordered_map<uint64_t, std::shared_ptr<DirHandle>> dirs_ FERRY_GUARDED_BY(mu_);
  // VersionKey (files) or listing hash (dirs) seen at the last open of an ino.
  std::unordered_map<uint64_t, std::string> open_versions_ FERRY_GUARDED_BY(mu_);
};

}  // namespace ferry::sidecar
