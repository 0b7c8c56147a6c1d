#pragma once
// LocalSource: a dataset that is a directory on a local file system (NAS,
// hostPath, a volume). Everything is resolved beneath the root with
// openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) (a component walk with
// O_NOFOLLOW where openat2 is missing), so no path, symlink or ".." escapes the
// root: symlinks are reported as symlinks, and their targets are returned
// verbatim for readlink (the kernel resolves them inside the mount).
// Entries: mode bits from the file, mtime from the inode, etag
// "<dev>:<ino>:<mtime_ns>:<size>". OpenLocal gives O_RDONLY fds so the
// filesystem reads with pread (and may later pass them through). Thread-safe.

#include <sys/stat.h>

#include <atomic>
#include <string>

#include "common/status.h"
#include "common/unique_fd.h"
#include "sidecar/source/data_source.h"

namespace ferry::sidecar {

class LocalSource final : public DataSource {
 public:
  // Opens `root` now; if it cannot be opened, every call fails with that
  // error (kNotFound, kPermissionDenied, ...): see CheckRoot().
  explicit LocalSource(std::string root);

  std::string Describe() const override { return "local://" + root_; }
  StatusOr<Entry> Stat(std::string_view path) override;
  StatusOr<std::vector<Entry>> List(std::string_view dir) override;
  StatusOr<size_t> Read(std::string_view path, const Entry& version, uint64_t offset,
                        std::span<std::byte> out) override;
  StatusOr<UniqueFd> OpenLocal(std::string_view path) override;
  SourceStats Stats() const override;

  // OK when the root is an accessible directory.
  Status CheckRoot();

 private:
  // fd for `path` beneath the root; `flags` as openat(2) (O_NOFOLLOW added).
  StatusOr<UniqueFd> OpenBeneath(std::string_view path, int flags);
  Status Count(Status s);

  const std::string root_;
  UniqueFd root_fd_;
  Status root_status_;
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> bytes_read_{0};
  std::atomic<uint64_t> errors_{0};
};

// Builds an Entry from lstat fields (exposed for tests).
Entry EntryFromStat(std::string name, const struct stat& st);

}  // namespace ferry::sidecar
