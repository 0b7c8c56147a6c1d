#include "sidecar/fs/fuse_ops.h"

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "common/fuse_backing.h"
#include "common/logging.h"
#include "sidecar/fs/fuse_errno.h"

namespace ferry::sidecar {
namespace {

// Kernel ABI (<linux/fuse.h>): what libfuse 3.14 does not expose.
constexpr uint32_t kFuseOpcodeInit = 26;
constexpr size_t kInHeaderBytes = 40;  // struct fuse_in_header
constexpr size_t kOutHeaderBytes = 16;  // struct fuse_out_header {len, error, unique}
constexpr size_t kOpenOutBytes = 16;    // struct fuse_open_out {fh, open_flags, backing_id}
// struct fuse_init_out offsets.
constexpr size_t kInitOutFlags = 12;
constexpr size_t kInitOutFlags2 = 32;
constexpr size_t kInitOutMaxStackDepth = 36;

// Set by a handler around the reply it sends on this thread; the custom
// writev below adds to that reply what libfuse cannot.
thread_local bool t_init_passthrough = false;
thread_local int32_t t_open_backing_id = 0;

template <typename T>
T LoadAt(const void* base, size_t off) {
  T v;
  std::memcpy(&v, static_cast<const char*>(base) + off, sizeof(v));
  return v;
}
template <typename T>
void StoreAt(void* base, size_t off, T v) {
  std::memcpy(static_cast<char*>(base) + off, &v, sizeof(v));
}

ssize_t IoRead(int fd, void* buf, size_t size, void* userdata) {
  ssize_t n = ::read(fd, buf, size);
  // struct fuse_init_in: major, minor, max_readahead, flags, flags2.
  if (n >= static_cast<ssize_t>(kInHeaderBytes + 20) && LoadAt<uint32_t>(buf, 4) == kFuseOpcodeInit) {
    uint64_t flags = LoadAt<uint32_t>(buf, kInHeaderBytes + 12);
    if (flags & kFuseInitExt) flags |= uint64_t{LoadAt<uint32_t>(buf, kInHeaderBytes + 16)} << 32;
    static_cast<FuseOpsContext*>(userdata)->kernel_offers_passthrough =
        (flags & kFusePassthrough) != 0;
  }
  return n;
}

ssize_t IoWritev(int fd, struct iovec* iov, int count, void* /*userdata*/) {
  // OpInit's flag is for the very next reply on this thread (INIT's, or its error).
  bool init_passthrough = std::exchange(t_init_passthrough, false);
  bool ok_reply = count == 2 && iov[0].iov_len == kOutHeaderBytes &&
                  LoadAt<int32_t>(iov[0].iov_base, 4) == 0;
  if (ok_reply && t_open_backing_id > 0 && iov[1].iov_len == kOpenOutBytes) {
    char open_out[kOpenOutBytes];
    std::memcpy(open_out, iov[1].iov_base, sizeof(open_out));
    StoreAt<uint32_t>(open_out, 8, LoadAt<uint32_t>(open_out, 8) | kFopenPassthrough);
    StoreAt<int32_t>(open_out, 12, t_open_backing_id);
    iovec patched[2] = {iov[0], {open_out, sizeof(open_out)}};
    return ::writev(fd, patched, 2);
  }
  if (ok_reply && init_passthrough && iov[1].iov_len >= kInitOutMaxStackDepth + 4) {
    std::vector<char> init_out(static_cast<char*>(iov[1].iov_base),
                               static_cast<char*>(iov[1].iov_base) + iov[1].iov_len);
    StoreAt<uint32_t>(init_out.data(), kInitOutFlags,
                      LoadAt<uint32_t>(init_out.data(), kInitOutFlags) |
                          static_cast<uint32_t>(kFuseInitExt));
    StoreAt<uint32_t>(init_out.data(), kInitOutFlags2,
                      LoadAt<uint32_t>(init_out.data(), kInitOutFlags2) |
                          static_cast<uint32_t>(kFusePassthrough >> 32));
    StoreAt<uint32_t>(init_out.data(), kInitOutMaxStackDepth, kFusePassthroughStackDepth);
    iovec patched[2] = {iov[0], {init_out.data(), init_out.size()}};
    return ::writev(fd, patched, 2);
  }
  return ::writev(fd, iov, count);
}

ssize_t IoSpliceSend(int fdin, off_t* offin, int fdout, off_t* offout, size_t len,
                     unsigned int flags, void* /*userdata*/) {
  return ::splice(fdin, offin, fdout, offout, len, flags);
}

FuseOpsContext& Ctx(fuse_req_t req) { return *static_cast<FuseOpsContext*>(fuse_req_userdata(req)); }
Filesystem& Fs(fuse_req_t req) { return *Ctx(req).fs; }

double Seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

struct stat ToStat(const Attr& a) {
  struct stat st;
  std::memset(&st, 0, sizeof(st));
  st.st_ino = a.ino;
  st.st_mode = a.mode;
  st.st_nlink = a.nlink;
  st.st_uid = a.uid;
  st.st_gid = a.gid;
  st.st_size = static_cast<off_t>(a.size);
  st.st_blocks = static_cast<blkcnt_t>(a.blocks);
  st.st_blksize = a.blksize;
  timespec ts{static_cast<time_t>(a.mtime_ns / 1000000000), static_cast<long>(a.mtime_ns % 1000000000)};
  if (ts.tv_nsec < 0) {
    ts.tv_nsec += 1000000000;
    ts.tv_sec -= 1;
  }
  st.st_atim = st.st_mtim = st.st_ctim = ts;
  return st;
}

fuse_entry_param ToEntryParam(const EntryReply& r) {
  fuse_entry_param e;
  std::memset(&e, 0, sizeof(e));
  e.ino = r.ino;
  e.generation = r.generation;
  e.attr = ToStat(r.attr);
  e.attr_timeout = Seconds(r.attr_timeout);
  e.entry_timeout = Seconds(r.entry_timeout);
  return e;
}

void ReplyErr(fuse_req_t req, const Status& s) { fuse_reply_err(req, ToErrno(s)); }

class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  ~AlignedBuffer() { std::free(p_); }
  bool Reserve(size_t n) {
    if (n <= size_) return true;
    size_t rounded = (n + 4095) & ~size_t{4095};
    void* p = std::aligned_alloc(4096, rounded);
    if (p == nullptr) return false;
    std::free(p_);
    p_ = static_cast<std::byte*>(p);
    size_ = rounded;
    return true;
  }
  std::byte* data() { return p_; }

 private:
  std::byte* p_ = nullptr;
  size_t size_ = 0;
};

void OpInit(void* userdata, fuse_conn_info* conn) {
  auto& ctx = *static_cast<FuseOpsContext*>(userdata);
  const FuseConnOptions& o = ctx.conn;
  auto want = [&](unsigned cap, bool on) {
    if (on && (conn->capable & cap)) {
      conn->want |= cap;
    } else {
      conn->want &= ~cap;
    }
  };
  conn->max_write = o.max_write_bytes;  // libfuse caps it to its buffer and derives max_pages
  conn->max_background = o.max_background;
  conn->congestion_threshold = o.congestion_threshold;
  conn->time_gran = 1;
  want(FUSE_CAP_ASYNC_READ, true);
  want(FUSE_CAP_READDIRPLUS, true);
  want(FUSE_CAP_READDIRPLUS_AUTO, o.readdirplus_auto);
  want(FUSE_CAP_PARALLEL_DIROPS, true);
  want(FUSE_CAP_CACHE_SYMLINKS, true);
  want(FUSE_CAP_EXPLICIT_INVAL_DATA, o.explicit_inval_data);
  want(FUSE_CAP_AUTO_INVAL_DATA, !o.explicit_inval_data);
  want(FUSE_CAP_SPLICE_WRITE, o.splice_write);
  want(FUSE_CAP_SPLICE_MOVE, o.splice_write);
  want(FUSE_CAP_SPLICE_READ, false);
  want(FUSE_CAP_EXPORT_SUPPORT, false);
  want(FUSE_CAP_WRITEBACK_CACHE, false);
  want(FUSE_CAP_POSIX_LOCKS, false);
  want(FUSE_CAP_FLOCK_LOCKS, false);
  ctx.negotiated_max_write = conn->max_write;
  ctx.negotiated_want = conn->want;
  if (ctx.backing != nullptr && ctx.fs->options().passthrough) {
    if (ctx.kernel_offers_passthrough.load() && !(conn->want & FUSE_CAP_WRITEBACK_CACHE)) {
      t_init_passthrough = true;  // the INIT reply, sent next on this thread, asks for it
      ctx.passthrough = true;
      ctx.fs->EnablePassthrough(ctx.backing);
    } else {
      GetLogger("sidecar.fs")
          ->info("{}: the kernel offers no FUSE passthrough (needs Linux >= 6.9 with "
                 "CONFIG_FUSE_PASSTHROUGH); reads go through ferry",
                 ctx.fs->source().Describe());
    }
  }
  ctx.init_seen = true;
}

void OpLookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Filesystem& fs = Fs(req);
  StatusOr<EntryReply> r = fs.Lookup(parent, name);
  if (r.ok()) {
    fuse_entry_param e = ToEntryParam(*r);
    if (fuse_reply_entry(req, &e) == -ENOENT) fs.Forget(r->ino, 1);  // interrupted
    return;
  }
  if (ToErrno(r.status()) == ENOENT && fs.options().negative_ttl.count() > 0) {
    fuse_entry_param e;
    std::memset(&e, 0, sizeof(e));
    e.entry_timeout = Seconds(fs.options().negative_ttl);
    fuse_reply_entry(req, &e);
    return;
  }
  ReplyErr(req, r.status());
}

void OpForget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  Fs(req).Forget(ino, nlookup);
  fuse_reply_none(req);
}

void OpForgetMulti(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  Filesystem& fs = Fs(req);
  for (size_t i = 0; i < count; ++i) fs.Forget(forgets[i].ino, forgets[i].nlookup);
  fuse_reply_none(req);
}

void OpGetAttr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  StatusOr<AttrReply> r =
      Fs(req).GetAttr(ino, fi != nullptr ? std::optional<uint64_t>(fi->fh) : std::nullopt);
  if (!r.ok()) return ReplyErr(req, r.status());
  struct stat st = ToStat(r->attr);
  fuse_reply_attr(req, &st, Seconds(r->timeout));
}

void OpReadLink(fuse_req_t req, fuse_ino_t ino) {
  StatusOr<std::string> r = Fs(req).ReadLink(ino);
  if (!r.ok()) return ReplyErr(req, r.status());
  fuse_reply_readlink(req, r->c_str());
}

void OpOpenDir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Filesystem& fs = Fs(req);
  StatusOr<OpenReply> r = fs.OpenDir(ino);
  if (!r.ok()) return ReplyErr(req, r.status());
  fi->fh = r->fh;
  fi->keep_cache = r->keep_cache ? 1 : 0;
  fi->cache_readdir = r->cache_dir ? 1 : 0;
  if (fuse_reply_open(req, fi) == -ENOENT) fs.ReleaseDir(r->fh);
}

void ReadDirCommon(fuse_req_t req, size_t size, off_t off, fuse_file_info* fi, bool plus) {
  Filesystem& fs = Fs(req);
  std::vector<char> buf(size);
  size_t used = 0;
  std::vector<uint64_t> referenced;
  auto add = [&](const DirEntry& d) {
    size_t need;
    if (plus) {
      fuse_entry_param e = ToEntryParam(d.entry);
      e.attr.st_ino = d.entry.attr.ino;
      e.attr.st_mode = d.entry.attr.mode;
      need = fuse_add_direntry_plus(req, buf.data() + used, size - used, d.name.c_str(), &e,
                                    static_cast<off_t>(d.next_offset));
    } else {
      struct stat st = ToStat(d.entry.attr);
      need = fuse_add_direntry(req, buf.data() + used, size - used, d.name.c_str(), &st,
                               static_cast<off_t>(d.next_offset));
    }
    if (need > size - used) return false;
    used += need;
    if (d.entry.ino != 0) referenced.push_back(d.entry.ino);
    return true;
  };
  Status s = plus ? fs.ReadDirPlus(fi->fh, static_cast<uint64_t>(off), add)
                  : fs.ReadDir(fi->fh, static_cast<uint64_t>(off), add);
  if (!s.ok() && used == 0) return ReplyErr(req, s);
  if (fuse_reply_buf(req, buf.data(), used) == -ENOENT) {
    for (uint64_t ino : referenced) fs.Forget(ino, 1);  // interrupted: the kernel took none
  }
}

void OpReadDir(fuse_req_t req, fuse_ino_t /*ino*/, size_t size, off_t off, fuse_file_info* fi) {
  ReadDirCommon(req, size, off, fi, /*plus=*/false);
}

void OpReadDirPlus(fuse_req_t req, fuse_ino_t /*ino*/, size_t size, off_t off,
                   fuse_file_info* fi) {
  ReadDirCommon(req, size, off, fi, /*plus=*/true);
}

void OpReleaseDir(fuse_req_t req, fuse_ino_t /*ino*/, fuse_file_info* fi) {
  Fs(req).ReleaseDir(fi->fh);
  fuse_reply_err(req, 0);
}

void OpOpen(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Filesystem& fs = Fs(req);
  StatusOr<OpenReply> r = fs.Open(ino, fi->flags);
  if (!r.ok()) return ReplyErr(req, r.status());
  fi->fh = r->fh;
  // Passthrough files are cached by the backing file system, not by FUSE;
  // the kernel (6.18) fails a passthrough open that also asks for
  // FOPEN_KEEP_CACHE with EIO.
  fi->keep_cache = r->keep_cache && r->backing_id == 0 ? 1 : 0;
  fi->direct_io = r->direct_io ? 1 : 0;
  fi->noflush = 1;
  t_open_backing_id = r->backing_id;  // IoWritev adds FOPEN_PASSTHROUGH
  int sent = fuse_reply_open(req, fi);
  t_open_backing_id = 0;
  if (sent == -ENOENT) fs.Release(r->fh);
}

void OpRead(fuse_req_t req, fuse_ino_t /*ino*/, size_t size, off_t off, fuse_file_info* fi) {
  Filesystem& fs = Fs(req);
  if (Ctx(req).conn.splice_write) {
    int fd = fs.LocalFd(fi->fh);
    if (fd >= 0) {
      // libfuse splices file -> pipe -> /dev/fuse, or copies if it cannot.
      fuse_bufvec bv = FUSE_BUFVEC_INIT(size);
      bv.buf[0].flags = static_cast<fuse_buf_flags>(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
      bv.buf[0].fd = fd;
      bv.buf[0].pos = off;
      fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE);
      return;
    }
  }
  {
    // Remote sources: write the reply straight from the cached blocks.
    thread_local std::vector<BlockCache::Slice> slices;
    thread_local std::vector<iovec> iov;
    slices.clear();
    StatusOr<size_t> n = fs.ReadSlices(fi->fh, static_cast<uint64_t>(off), size, slices);
    if (n.ok()) {
      iov.clear();
      for (const BlockCache::Slice& sl : slices) {
        iov.push_back({const_cast<std::byte*>(sl.bytes.data()), sl.bytes.size()});
      }
      if (iov.empty()) {
        fuse_reply_buf(req, nullptr, 0);  // end of file
      } else {
        fuse_reply_iov(req, iov.data(), static_cast<int>(iov.size()));
      }
      slices.clear();  // drop the block references
      return;
    }
    slices.clear();
    if (!n.status().Is(StatusCode::kUnimplemented)) return ReplyErr(req, n.status());
  }
  // One page-aligned buffer per worker thread, reused: no allocation or page
  // faults per read, and usable for O_DIRECT.
  thread_local AlignedBuffer buf;
  if (!buf.Reserve(size)) return ReplyErr(req, ResourceExhausted("read buffer"));
  StatusOr<size_t> n = fs.Read(fi->fh, static_cast<uint64_t>(off), {buf.data(), size});
  if (!n.ok()) return ReplyErr(req, n.status());
  fuse_reply_buf(req, reinterpret_cast<const char*>(buf.data()), *n);
}

void OpRelease(fuse_req_t req, fuse_ino_t /*ino*/, fuse_file_info* fi) {
  Fs(req).Release(fi->fh);
  fuse_reply_err(req, 0);
}

void OpStatFs(fuse_req_t req, fuse_ino_t /*ino*/) {
  StatFsReply r = Fs(req).StatFs();
  struct statvfs st;
  std::memset(&st, 0, sizeof(st));
  st.f_bsize = r.block_size;
  st.f_frsize = r.block_size;
  st.f_blocks = r.blocks;
  st.f_bfree = r.blocks_free;
  st.f_bavail = r.blocks_free;
  st.f_files = r.files;
  st.f_ffree = r.files_free;
  st.f_favail = r.files_free;
  st.f_namemax = r.name_max;
  fuse_reply_statfs(req, &st);
}

void RejectWrite(fuse_req_t req, const char* op) { ReplyErr(req, Fs(req).RejectWrite(op)); }

void OpSetAttr(fuse_req_t req, fuse_ino_t, struct stat*, int, fuse_file_info*) {
  RejectWrite(req, "setattr");
}
void OpMknod(fuse_req_t req, fuse_ino_t, const char*, mode_t, dev_t) { RejectWrite(req, "mknod"); }
void OpMkdir(fuse_req_t req, fuse_ino_t, const char*, mode_t) { RejectWrite(req, "mkdir"); }
void OpUnlink(fuse_req_t req, fuse_ino_t, const char*) { RejectWrite(req, "unlink"); }
void OpRmdir(fuse_req_t req, fuse_ino_t, const char*) { RejectWrite(req, "rmdir"); }
void OpSymlink(fuse_req_t req, const char*, fuse_ino_t, const char*) { RejectWrite(req, "symlink"); }
void OpRename(fuse_req_t req, fuse_ino_t, const char*, fuse_ino_t, const char*, unsigned int) {
  RejectWrite(req, "rename");
}
void OpLink(fuse_req_t req, fuse_ino_t, fuse_ino_t, const char*) { RejectWrite(req, "link"); }
void OpWrite(fuse_req_t req, fuse_ino_t, const char*, size_t, off_t, fuse_file_info*) {
  RejectWrite(req, "write");
}
void OpCreate(fuse_req_t req, fuse_ino_t, const char*, mode_t, fuse_file_info*) {
  RejectWrite(req, "create");
}
void OpSetXattr(fuse_req_t req, fuse_ino_t, const char*, const char*, size_t, int) {
  RejectWrite(req, "setxattr");
}
void OpRemoveXattr(fuse_req_t req, fuse_ino_t, const char*) { RejectWrite(req, "removexattr"); }
void OpFallocate(fuse_req_t req, fuse_ino_t, int, off_t, off_t, fuse_file_info*) {
  RejectWrite(req, "fallocate");
}

fuse_lowlevel_ops MakeOps() {
  fuse_lowlevel_ops ops;
  std::memset(&ops, 0, sizeof(ops));
  ops.init = OpInit;
  ops.lookup = OpLookup;
  ops.forget = OpForget;
  ops.forget_multi = OpForgetMulti;
  ops.getattr = OpGetAttr;
  ops.readlink = OpReadLink;
  ops.opendir = OpOpenDir;
  ops.readdir = OpReadDir;
  ops.readdirplus = OpReadDirPlus;
  ops.releasedir = OpReleaseDir;
  ops.open = OpOpen;
  ops.read = OpRead;
  ops.release = OpRelease;
  ops.statfs = OpStatFs;
  ops.setattr = OpSetAttr;
  ops.mknod = OpMknod;
  ops.mkdir = OpMkdir;
  ops.unlink = OpUnlink;
  ops.rmdir = OpRmdir;
  ops.symlink = OpSymlink;
  ops.rename = OpRename;
  ops.link = OpLink;
  ops.write = OpWrite;
  ops.create = OpCreate;
  ops.setxattr = OpSetXattr;
  ops.removexattr = OpRemoveXattr;
  ops.fallocate = OpFallocate;
  return ops;
}

const fuse_lowlevel_ops kOps = MakeOps();  // immutable: one table serves every session

}  // namespace

const fuse_lowlevel_ops& FerryLowlevelOps() {
  return kOps;
}

const fuse_custom_io& FerryCustomIo() {
  static const fuse_custom_io io = [] {
    fuse_custom_io v;
    std::memset(&v, 0, sizeof(v));
    v.read = IoRead;
    v.writev = IoWritev;
    v.splice_send = IoSpliceSend;
    v.splice_receive = nullptr;  // libfuse then never offers SPLICE_READ; ferry never wants it
    return v;
  }();
  return io;
}

}  // namespace ferry::sidecar
