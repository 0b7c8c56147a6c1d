#include "sidecar/source/local_source.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

namespace ferry::sidecar {
namespace {

struct DirCloser {
  void operator()(DIR* d) const { closedir(d); }
};

bool ValidRelativePath(std::string_view path) {
  if (path.empty()) return true;
  size_t start = 0;
  for (;;) {
    size_t end = path.find('/', start);
    std::string_view comp = path.substr(start, end == std::string_view::npos ? end : end - start);
    if (comp.empty() || comp == "." || comp == "..") return false;
    if (end == std::string_view::npos) return true;
    start = end + 1;
  }
}

std::pair<std::string, std::string> Split(std::string_view path) {
  auto pos = path.rfind('/');
  if (pos == std::string_view::npos) return {"", std::string(path)};
  return {std::string(path.substr(0, pos)), std::string(path.substr(pos + 1))};
}

// Readlink relative to a directory fd; targets are returned verbatim.
StatusOr<std::string> ReadLinkAt(int dirfd, const std::string& name, size_t size_hint) {
  std::string buf(std::max<size_t>(size_hint + 1, 256), '\0');
  for (;;) {
    ssize_t n = readlinkat(dirfd, name.c_str(), buf.data(), buf.size());
    if (n < 0) return StatusFromErrno(errno, "readlink " + name);
    if (static_cast<size_t>(n) < buf.size()) {
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
    buf.resize(buf.size() * 2);
  }
}

}  // namespace

Entry EntryFromStat(std::string name, const struct stat& st) {
  Entry e;
  e.name = std::move(name);
  if (S_ISDIR(st.st_mode)) {
    e.type = EntryType::kDirectory;
  } else if (S_ISLNK(st.st_mode)) {
    e.type = EntryType::kSymlink;
  } else {
    e.type = EntryType::kFile;
  }
  e.size = e.type == EntryType::kDirectory ? 0 : static_cast<uint64_t>(st.st_size);
  e.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  e.mode = st.st_mode & 07777;
  if (e.type == EntryType::kFile) {
    e.etag = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
             std::to_string(e.mtime_ns) + ":" + std::to_string(e.size);
  }
  return e;
}

LocalSource::LocalSource(std::string root) : root_(std::move(root)) {
  int fd = ::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    root_status_ = StatusFromErrno(errno, "opening dataset root " + root_);
  } else {
    root_fd_.Reset(fd);
  }
}

Status LocalSource::CheckRoot() { return root_status_; }

Status LocalSource::Count(Status s) {
  requests_++;
  if (!s.ok()) errors_++;
  return s;
}

StatusOr<UniqueFd> LocalSource::OpenBeneath(std::string_view path, int flags) {
  FERRY_RETURN_IF_ERROR(root_status_);
  if (!ValidRelativePath(path)) return InvalidArgument("invalid dataset path: " + std::string(path));
  flags |= O_CLOEXEC | O_NOFOLLOW;
  if (path.empty()) {
    int fd = ::openat(root_fd_.get(), ".", flags & ~O_NOFOLLOW);
    if (fd < 0) return StatusFromErrno(errno, "open " + root_);
    return UniqueFd(fd);
  }
  std::string p(path);
  open_how how{};
  how.flags = static_cast<uint64_t>(flags);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, root_fd_.get(), p.c_str(), &how, sizeof(how));
  if (fd >= 0) return UniqueFd(static_cast<int>(fd));
  if (errno != ENOSYS && errno != EPERM) return StatusFromErrno(errno, "open " + p);
  // No openat2 (old kernel or seccomp): walk the components without following links.
  UniqueFd cur(::dup(root_fd_.get()));
  if (!cur.valid()) return StatusFromErrno(errno, "dup");
  size_t start = 0;
  for (;;) {
    size_t end = p.find('/', start);
    std::string comp = p.substr(start, end == std::string::npos ? std::string::npos : end - start);
    bool last = end == std::string::npos;
    int f = last ? flags : (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int next = ::openat(cur.get(), comp.c_str(), f);
    if (next < 0) return StatusFromErrno(errno, "open " + p);
    cur.Reset(next);
    if (last) return cur;
    start = end + 1;
  }
}

StatusOr<Entry> LocalSource::Stat(std::string_view path) {
  requests_++;
  auto fail = [this](Status s) {
    errors_++;
    return s;
  };
  struct stat st;
  if (path.empty()) {
    if (!root_status_.ok()) return fail(root_status_);
    if (::fstat(root_fd_.get(), &st) != 0) return fail(StatusFromErrno(errno, "stat " + root_));
    return EntryFromStat("", st);
  }
  auto [dir, base] = Split(path);
  StatusOr<UniqueFd> parent = OpenBeneath(dir, O_PATH | O_DIRECTORY);
  if (!parent.ok()) return fail(parent.status());
  if (::fstatat(parent->get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return fail(StatusFromErrno(errno, "stat " + std::string(path)));
  }
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode)) {
    return fail(NotFound("not a regular file, directory or symlink: " + std::string(path)));
  }
  Entry e = EntryFromStat(base, st);
  if (e.type == EntryType::kSymlink) {
    StatusOr<std::string> target = ReadLinkAt(parent->get(), base, e.size);
    if (!target.ok()) return fail(target.status());
    e.symlink_target = std::move(*target);
    e.size = e.symlink_target.size();
  }
  return e;
}

StatusOr<std::vector<Entry>> LocalSource::List(std::string_view dir) {
  requests_++;
  auto fail = [this](Status s) {
    errors_++;
    return s;
  };
  StatusOr<UniqueFd> path_fd = OpenBeneath(dir, O_PATH);
  if (!path_fd.ok()) return fail(path_fd.status());
  struct stat st;
  if (::fstat(path_fd->get(), &st) != 0) return fail(StatusFromErrno(errno, "stat"));
  if (!S_ISDIR(st.st_mode)) return fail(FailedPrecondition("not a directory: " + std::string(dir)));
  int fd = ::openat(path_fd->get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail(StatusFromErrno(errno, "opendir " + std::string(dir)));
  std::unique_ptr<DIR, DirCloser> d(::fdopendir(fd));
  if (d == nullptr) {
    ::close(fd);
    return fail(StatusFromErrno(errno, "fdopendir " + std::string(dir)));
  }
  std::vector<Entry> out;
  for (;;) {
    errno = 0;
    dirent* de = ::readdir(d.get());
    if (de == nullptr) {
      if (errno != 0) return fail(StatusFromErrno(errno, "readdir " + std::string(dir)));
      break;
    }
    std::string name = de->d_name;
    if (name == "." || name == "..") continue;
    struct stat cst;
    if (::fstatat(dirfd(d.get()), name.c_str(), &cst, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // removed since readdir
      return fail(StatusFromErrno(errno, "stat " + name));
    }
    if (!S_ISREG(cst.st_mode) && !S_ISDIR(cst.st_mode) && !S_ISLNK(cst.st_mode)) continue;
    Entry e = EntryFromStat(name, cst);
    if (e.type == EntryType::kSymlink) {
      StatusOr<std::string> target = ReadLinkAt(dirfd(d.get()), name, e.size);
      if (!target.ok()) continue;  // replaced since fstatat
      e.symlink_target = std::move(*target);
      e.size = e.symlink_target.size();
    }
    out.push_back(std::move(e));
  }
  return out;
}

StatusOr<UniqueFd> LocalSource::OpenLocal(std::string_view path) {
  requests_++;
  // O_NONBLOCK: opening a FIFO must not hang; it is refused below anyway.
  StatusOr<UniqueFd> fd = OpenBeneath(path, O_RDONLY | O_NONBLOCK);
  if (!fd.ok()) return Count(fd.status());
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return Count(StatusFromErrno(errno, "fstat"));
  if (!S_ISREG(st.st_mode)) {
    errors_++;
    return Status(StatusCode::kFailedPrecondition, "not a regular file: " + std::string(path),
                  S_ISDIR(st.st_mode) ? EISDIR : EINVAL);
  }
  int fl = ::fcntl(fd->get(), F_GETFL);
  if (fl >= 0) ::fcntl(fd->get(), F_SETFL, fl & ~O_NONBLOCK);
  return fd;
}

StatusOr<size_t> LocalSource::Read(std::string_view path, const Entry& version, uint64_t offset,
                                   std::span<std::byte> out) {
  FERRY_ASSIGN_OR_RETURN(UniqueFd fd, OpenLocal(path));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Count(StatusFromErrno(errno, "fstat"));
  if (!version.etag.empty() && EntryFromStat("", st).etag != version.etag) {
    return Count(FailedPrecondition("file changed since it was listed: " + std::string(path)));
  }
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd.get(), out.data() + done, out.size() - done,
                        static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Count(StatusFromErrno(errno, "pread " + std::string(path)));
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  bytes_read_ += done;
  return done;
}

SourceStats LocalSource::Stats() const {
  SourceStats s;
  s.requests = requests_.load();
  s.bytes_read = bytes_read_.load();
  s.errors = errors_.load();
  return s;
}

}  // namespace ferry::sidecar
