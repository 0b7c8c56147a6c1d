#include "sidecar/fs/filesystem.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/logging.h"

namespace ferry::sidecar {
namespace {

constexpr uint32_t kBlockSize = 128 * 1024;  // st_blksize: stdio and cp buffer sizes
constexpr size_t kNameMax = 255;

Status ErrnoStatus(StatusCode code, int err, std::string message) {
  return Status(code, std::move(message), err);
}

Status Stale(uint64_t ino) {
  return ErrnoStatus(StatusCode::kNotFound, ESTALE, "unknown nodeid " + std::to_string(ino));
}

MetadataOptions ToMetadataOptions(const FilesystemOptions& o) {
  MetadataOptions m;
  m.attr_ttl = o.attr_ttl;
  m.negative_ttl = o.negative_ttl;
  m.dir_ttl = o.dir_ttl;
  m.list_on_lookup = o.list_on_lookup;
  return m;
}

}  // namespace

FilesystemOptions FilesystemOptions::ForLocal() { return FilesystemOptions(); }

FilesystemOptions FilesystemOptions::ForRemote() {
  FilesystemOptions o;
  o.attr_ttl = o.entry_ttl = o.negative_ttl = o.dir_ttl = std::chrono::seconds(60);
  return o;
}

Filesystem::Filesystem(DataSource& source, BlockCache* cache, FilesystemOptions options,
                       Clock& clock)
    : source_(source),
      cache_(cache),
      options_(options),
      clock_(clock),
      metadata_(source, clock, ToMetadataOptions(options), this) {}

Filesystem::~Filesystem() = default;

StatusOr<InodeRecord> Filesystem::Record(uint64_t ino) const {
  std::optional<InodeRecord> rec = inodes_.Get(ino);
  if (!rec) return Stale(ino);
  return std::move(*rec);
}

Attr Filesystem::ReportAttr(uint64_t ino, const Entry& e) {
  Attr a = MakeAttr(ino, e);
  if (e.type == EntryType::kFile) inodes_.NoteKernelAttr(ino, a.size, clock_.Now());
  return a;
}

Attr Filesystem::MakeAttr(uint64_t ino, const Entry& e) const {
  Attr a;
  a.ino = ino;
  a.uid = options_.uid;
  a.gid = options_.gid;
  a.mtime_ns = e.mtime_ns;
  a.blksize = kBlockSize;
  uint32_t perm = e.mode & 07777;
  switch (e.type) {
    case EntryType::kDirectory:
      a.mode = S_IFDIR | (options_.dir_mode != 0 ? options_.dir_mode : perm != 0 ? perm : 0555);
      a.nlink = 2;
      a.size = 4096;
      break;
    case EntryType::kSymlink:
      a.mode = S_IFLNK | (perm != 0 ? perm : 0777);
      a.size = e.symlink_target.size();
      break;
    case EntryType::kFile:
      a.mode = S_IFREG | (options_.file_mode != 0 ? options_.file_mode : perm != 0 ? perm : 0444);
      a.size = e.size;
      break;
  }
  a.blocks = (a.size + 511) / 512;
  return a;
}

StatusOr<EntryReply> Filesystem::Lookup(uint64_t parent, std::string_view name) {
  FERRY_ASSIGN_OR_RETURN(InodeRecord dir, Record(parent));
  if (dir.type != EntryType::kDirectory) {
    return ErrnoStatus(StatusCode::kFailedPrecondition, ENOTDIR, "not a directory: " + dir.path);
  }
  if (name.size() > kNameMax) {
    return ErrnoStatus(StatusCode::kInvalidArgument, ENAMETOOLONG, "name too long");
  }
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos) {
    return NotFound("no such name: " + std::string(name));
  }
  std::string path = JoinPath(dir.path, name);
  FERRY_ASSIGN_OR_RETURN(Entry e, metadata_.Get(path, MetadataCache::Purpose::kLookup));
  InodeRecord rec = inodes_.Acquire(path, e.type);
  EntryReply r;
  r.ino = rec.ino;
  r.generation = rec.generation;
  r.attr = ReportAttr(rec.ino, e);
  r.attr_timeout = options_.attr_ttl;
  r.entry_timeout = options_.entry_ttl;
  return r;
}

void Filesystem::Forget(uint64_t ino, uint64_t nlookup) {
  if (inodes_.Forget(ino, nlookup)) {
    {
      MutexLock lock(mu_);
      open_versions_.erase(ino);
    }
    ForgetBacking(ino);
  }
}

StatusOr<AttrReply> Filesystem::GetAttr(uint64_t ino, std::optional<uint64_t> fh) {
  FERRY_ASSIGN_OR_RETURN(InodeRecord rec, Record(ino));
  FERRY_ASSIGN_OR_RETURN(Entry e, metadata_.Get(rec.path, MetadataCache::Purpose::kAttr));
  if (fh.has_value()) {
    StatusOr<std::shared_ptr<FileHandle>> h = Handle(*fh);
    if (h.ok() && (*h)->ino == ino && !(*h)->fd.valid() &&
        (*h)->version.VersionKey() != e.VersionKey()) {
      // Not cached (timeout 0): a stat without a handle sees the new version.
      return AttrReply{ReportAttr(ino, (*h)->version), std::chrono::nanoseconds(0)};
    }
  }
  if (e.type != rec.type) {
    return ErrnoStatus(StatusCode::kNotFound, ESTALE, "replaced by another type: " + rec.path);
  }
  return AttrReply{ReportAttr(ino, e), options_.attr_ttl};
}

StatusOr<std::string> Filesystem::ReadLink(uint64_t ino) {
  FERRY_ASSIGN_OR_RETURN(InodeRecord rec, Record(ino));
  FERRY_ASSIGN_OR_RETURN(Entry e, metadata_.Get(rec.path, MetadataCache::Purpose::kAttr));
  if (e.type != EntryType::kSymlink) {
    return ErrnoStatus(StatusCode::kInvalidArgument, EINVAL, "not a symlink: " + rec.path);
  }
  return e.symlink_target;
}

StatusOr<OpenReply> Filesystem::OpenDir(uint64_t ino) {
  FERRY_ASSIGN_OR_RETURN(InodeRecord rec, Record(ino));
  if (rec.type != EntryType::kDirectory) {
    return ErrnoStatus(StatusCode::kFailedPrecondition, ENOTDIR, "not a directory: " + rec.path);
  }
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<const Listing> listing, metadata_.List(rec.path));
  auto handle = std::make_shared<DirHandle>();
  handle->ino = ino;
  handle->path = rec.path;
  handle->listing = listing;
  OpenReply r;
  r.fh = next_fh_.fetch_add(1);
  r.cache_dir = options_.cache_dir;
  std::string version = "dir:" + std::to_string(listing->hash);
  MutexLock lock(mu_);
  std::string& seen = open_versions_[ino];
  r.keep_cache = options_.cache_dir && seen == version;
  seen = version;
  dirs_[r.fh] = std::move(handle);
  return r;
}

Status Filesystem::ReadDir(uint64_t fh, uint64_t offset,
                           const std::function<bool(const DirEntry&)>& add) {
  return ReadDirImpl(fh, offset, /*plus=*/false, add);
}

Status Filesystem::ReadDirPlus(uint64_t fh, uint64_t offset,
                               const std::function<bool(const DirEntry&)>& add) {
  return ReadDirImpl(fh, offset, /*plus=*/true, add);
}

Status Filesystem::ReadDirImpl(uint64_t fh, uint64_t offset, bool plus,
                               const std::function<bool(const DirEntry&)>& add) {
  std::shared_ptr<DirHandle> h;
  {
    MutexLock lock(mu_);
    auto it = dirs_.find(fh);
    if (it == dirs_.end()) {
      return ErrnoStatus(StatusCode::kFailedPrecondition, EBADF, "unknown directory handle");
    }
    h = it->second;
  }
  const std::vector<Entry>& children = h->listing->children;
  uint64_t total = children.size() + 2;
  for (uint64_t i = offset; i < total; ++i) {
    DirEntry d;
    d.next_offset = i + 1;
    if (i < 2) {
      d.name = i == 0 ? "." : "..";
      d.entry.attr.ino = i == 0 ? h->ino : kRootIno;  // ".." is informational only
      d.entry.attr.mode = S_IFDIR;
      if (!add(d)) return Status();
      continue;
    }
    const Entry& e = children[i - 2];
    d.name = e.name;
    std::string path = JoinPath(h->path, e.name);
    if (plus) {
      InodeRecord rec = inodes_.Acquire(path, e.type);
      d.entry.ino = rec.ino;
      d.entry.generation = rec.generation;
      d.entry.attr = ReportAttr(rec.ino, e);
      d.entry.attr_timeout = options_.attr_ttl;
      d.entry.entry_timeout = options_.entry_ttl;
      if (!add(d)) {
        Forget(rec.ino, 1);
        return Status();
      }
    } else {
      d.entry.attr = MakeAttr(inodes_.PeekIno(path), e);
      if (!add(d)) return Status();
    }
  }
  return Status();
}

void Filesystem::ReleaseDir(uint64_t fh) {
  MutexLock lock(mu_);
  dirs_.erase(fh);
}

StatusOr<OpenReply> Filesystem::Open(uint64_t ino, int flags) {
  FERRY_ASSIGN_OR_RETURN(InodeRecord rec, Record(ino));
  if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC) != 0) return RejectWrite("open for writing");
  if (rec.type == EntryType::kDirectory) {
    return ErrnoStatus(StatusCode::kFailedPrecondition, EISDIR, "is a directory: " + rec.path);
  }
  FERRY_ASSIGN_OR_RETURN(Entry e, metadata_.Get(rec.path, MetadataCache::Purpose::kAttr));
  if (e.type != EntryType::kFile) {
    return ErrnoStatus(StatusCode::kNotFound, ESTALE, "no longer a regular file: " + rec.path);
  }
  // The file changed size since we last told the kernel its size: the kernel
  // keeps that size until it asks again (an expired attribute is not
  // refreshed by open or read), so cached reads would mix the new bytes with
  // the old length (zeros past a shrunk end, a grown one cut off). This
  // handle reads direct: exactly the version it opened, EOF at its end.
  const bool size_unknown_to_kernel =
      rec.kernel_attr_at != std::chrono::steady_clock::time_point{} && e.size != rec.kernel_size;
  auto handle = std::make_shared<FileHandle>();
  handle->path = rec.path;
  handle->version = e;
  StatusOr<UniqueFd> fd = source_.OpenLocal(rec.path);
  if (fd.ok()) {
    handle->fd = std::move(*fd);
    // Datasets are mostly read front to back: a larger read-ahead window.
    ::posix_fadvise(handle->fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    if (options_.local_direct_io) {
      int fl = ::fcntl(handle->fd.get(), F_GETFL);
      if (fl >= 0) (void)::fcntl(handle->fd.get(), F_SETFL, fl | O_DIRECT);  // best effort
    }
  } else if (!fd.status().Is(StatusCode::kUnimplemented)) {
    return fd.status();
  }
  OpenReply r;
  r.fh = next_fh_.fetch_add(1);
  handle->ino = ino;
  std::string version = e.VersionKey();
  if (handle->fd.valid()) {
    // Files under passthrough_min_bytes stay in the FUSE page cache.
    r.backing_id = AcquireBacking(ino, handle->fd.get(), version,
                                  e.size >= options_.passthrough_min_bytes);
  }
  if (size_unknown_to_kernel && r.backing_id == 0) {
    r.direct_io = true;
    direct_opens_++;
    // And the kernel is told to ask again, so later opens are cached.
    if (InvalidationSink* sink = sink_.load()) sink->InvalidateInode(ino);
  }
  opens_++;
  MutexLock lock(mu_);
  std::string& seen = open_versions_[ino];
  r.keep_cache = seen == version && !r.direct_io;
  seen = std::move(version);
  if (r.keep_cache) keep_cache_opens_++;
  files_[r.fh] = std::move(handle);
  return r;
}

StatusOr<size_t> Filesystem::ReadFd(int fd, uint64_t offset, std::span<std::byte> out) {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      int fl = ::fcntl(fd, F_GETFL);
      if (errno == EINVAL && fl >= 0 && (fl & O_DIRECT) != 0) {
        // Unaligned request: this fd reads through the page cache from now on.
        (void)::fcntl(fd, F_SETFL, fl & ~O_DIRECT);
        continue;
      }
      return StatusFromErrno(errno, "pread");
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

StatusOr<std::shared_ptr<Filesystem::FileHandle>> Filesystem::Handle(uint64_t fh) const {
  MutexLock lock(mu_);
  auto it = files_.find(fh);
  if (it == files_.end()) {
    return ErrnoStatus(StatusCode::kFailedPrecondition, EBADF, "unknown file handle");
  }
  return it->second;
}

StatusOr<size_t> Filesystem::CountRead(const FileHandle& h, StatusOr<size_t> n) {
  if (!n.ok()) {
    if (n.status().Is(StatusCode::kFailedPrecondition)) {
      metadata_.Invalidate(h.path);  // the object changed: the next open re-stats
      return Status(StatusCode::kFailedPrecondition,
                    "object changed while open: " + h.path + " (reopen it)", EIO);
    }
    return n.status();
  }
  read_bytes_ += *n;
  return n;
}

StatusOr<size_t> Filesystem::Read(uint64_t fh, uint64_t offset, std::span<std::byte> out) {
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<FileHandle> h, Handle(fh));
  return CountRead(*h, h->fd.valid() ? ReadFd(h->fd.get(), offset, out)
                       : cache_ != nullptr ? cache_->Read(h->path, h->version, offset, out, fh)
                                           : source_.Read(h->path, h->version, offset, out));
}

StatusOr<size_t> Filesystem::ReadSlices(uint64_t fh, uint64_t offset, size_t size,
                                        std::vector<BlockCache::Slice>& out) {
  if (cache_ == nullptr) return Status(StatusCode::kUnimplemented, "no block cache");
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<FileHandle> h, Handle(fh));
  if (h->fd.valid()) return Status(StatusCode::kUnimplemented, "local fd");
  return CountRead(*h, cache_->ReadSlices(h->path, h->version, offset, size, fh, out));
}

int Filesystem::LocalFd(uint64_t fh) const {
  MutexLock lock(mu_);
  auto it = files_.find(fh);
  return it == files_.end() || !it->second->fd.valid() ? -1 : it->second->fd.get();
}

void Filesystem::Release(uint64_t fh) {
  std::shared_ptr<FileHandle> h;
  {
    MutexLock lock(mu_);
    auto it = files_.find(fh);
    if (it != files_.end()) {
      h = std::move(it->second);
      files_.erase(it);
    }
  }
  if (h != nullptr && h->fd.valid()) ReleaseBacking(h->ino);
  if (cache_ != nullptr) cache_->Release(fh);
}

int32_t Filesystem::AcquireBacking(uint64_t ino, int fd, const std::string& version, bool want) {
  BackingRegistrar* registrar = passthrough_on_.load() && want ? registrar_.load() : nullptr;
  MutexLock lock(backing_mu_);
  Backing& b = backings_[ino];
  if (b.opens == 0 && b.id > 0 && (registrar == nullptr || b.version != version)) {
    // An idle registration this open cannot use: the open goes through ferry,
    // or the file changed since it was registered.
    CloseBackingIdLocked(b.id);
    b.id = 0;
  }
  if (b.opens > 0 || b.id > 0 || registrar == nullptr) {
    // Open handles pin the inode's mode and backing file (the kernel's rule),
    // whatever the version now is; an idle registration of this very file is
    // reused.
    b.opens++;
    if (b.id > 0) passthrough_opens_++;
    return b.id;
  }
  b.opens = 1;
  StatusOr<int32_t> id = registrar->Open(fd);
  if (!id.ok()) {
    // Whatever failed (the backing file system stacks too deep, lacks
    // read_iter, the propagator refused) fails for the next file too.
    passthrough_on_.store(false);
    GetLogger("sidecar.fs")
        ->warn("{}: FUSE passthrough is off, reads go through ferry: {}", source_.Describe(),
               id.status().ToString());
    return 0;
  }
  b.id = *id;
  b.version = version;
  passthrough_opens_++;
  return b.id;
}

void Filesystem::ReleaseBacking(uint64_t ino) {
  MutexLock lock(backing_mu_);
  auto it = backings_.find(ino);
  if (it == backings_.end() || --it->second.opens > 0) return;
  if (it->second.id == 0) {
    backings_.erase(it);
    return;
  }
  // Kept for the next open of the same file (no round trip to the propagator
  // then) until the kernel forgets the inode or kMaxIdleBackings newer idle
  // ones push it out.
  idle_backings_.push_back(ino);
  while (idle_backings_.size() > kMaxIdleBackings) {
    uint64_t old = idle_backings_.front();
    idle_backings_.pop_front();
    auto o = backings_.find(old);
    if (o != backings_.end() && o->second.opens == 0) DropBackingLocked(o);
  }
}

void Filesystem::CloseBackingIdLocked(int32_t id) {
  // Closed even if passthrough was turned off since it was registered.
  BackingRegistrar* registrar = registrar_.load();
  if (id > 0 && registrar != nullptr) registrar->Close(id);
}

void Filesystem::DropBackingLocked(std::unordered_map<uint64_t, Backing>::iterator it) {
  CloseBackingIdLocked(it->second.id);
  backings_.erase(it);
}

void Filesystem::ForgetBacking(uint64_t ino) {
  MutexLock lock(backing_mu_);
  auto it = backings_.find(ino);
  if (it != backings_.end() && it->second.opens == 0) DropBackingLocked(it);
}

StatFsReply Filesystem::StatFs() const {
  StatFsReply r;
  r.block_size = kBlockSize;
  r.name_max = kNameMax;
  return r;
}

Status Filesystem::RejectWrite(std::string_view op) const {
  return Status(StatusCode::kPermissionDenied,
                std::string(op) + ": ferry serves datasets read-only", EROFS);
}

FilesystemStats Filesystem::Stats() const {
  FilesystemStats s;
  s.metadata = metadata_.Stats();
  s.opens = opens_.load();
  s.keep_cache_opens = keep_cache_opens_.load();
  s.read_bytes = read_bytes_.load();
  s.passthrough_opens = passthrough_opens_.load();
  s.direct_opens = direct_opens_.load();
  {
    MutexLock lock(mu_);
    s.open_handles = files_.size();
  }
  s.passthrough = passthrough_on_.load();
  return s;
}

void Filesystem::OnFileChanged(const std::string& path) {
  InvalidationSink* sink = sink_.load();
  if (sink == nullptr) return;
  if (std::optional<uint64_t> ino = inodes_.Find(path)) sink->InvalidateInode(*ino);
}

void Filesystem::OnNameChanged(const std::string& dir, const std::string& name) {
  InvalidationSink* sink = sink_.load();
  if (sink == nullptr) return;
  if (std::optional<uint64_t> ino = inodes_.Find(dir)) sink->InvalidateEntry(*ino, name);
}

}  // namespace ferry::sidecar
