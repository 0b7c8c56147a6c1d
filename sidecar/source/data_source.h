#pragma once
// DataSource: where a dataset's bytes and names come from (local path, S3/OSS,
// HTTP, ...). The FUSE filesystem (fs/) and the cache (cache/) see sources
// only through this interface (STYLE §1). All sources are read-only.
//
// Paths are relative to the dataset root: "" is the root, components are
// separated by '/', no leading or trailing slash, never "." or "..".

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/unique_fd.h"

namespace ferry::sidecar {

enum class EntryType : uint8_t { kFile, kDirectory, kSymlink };

// One name's metadata. For files, (etag, size, mtime_ns) identify the content:
// if any changes, cached bytes are stale.
struct Entry {
  std::string name;  // base name; "" for the root
  EntryType type = EntryType::kFile;
  uint64_t size = 0;
  int64_t mtime_ns = 0;  // stable: from the object, never "now"
  uint32_t mode = 0;     // permission bits; 0 = default (0444 files, 0555 dirs)
  std::string etag;      // source's content id (S3 ETag, HTTP ETag, "<dev>:<ino>:<mtime>:<size>" locally); may be empty
  std::string symlink_target;  // kSymlink only

  // Content identity used for cache keys and keep_cache decisions.
  std::string VersionKey() const;
};

struct SourceStats {
  uint64_t requests = 0;        // requests made to the backend (GET, HEAD, LIST, syscalls)
  uint64_t bytes_read = 0;      // payload bytes fetched
  uint64_t errors = 0;
};

class DataSource {
 public:
  DataSource() = default;
  virtual ~DataSource() = default;
  DataSource(const DataSource&) = delete;
  DataSource& operator=(const DataSource&) = delete;

  // For status and logs, e.g. "s3://bucket/prefix/"; never contains credentials.
  virtual std::string Describe() const = 0;

  // Metadata of one path. kNotFound: no such name. kPermissionDenied:
  // credentials refused. kUnavailable: transient. Thread-safe.
  virtual StatusOr<Entry> Stat(std::string_view path) = 0;

  // Every child of directory `dir` (pagination handled inside), each with full
  // metadata so that no per-child Stat is needed. kNotFound / kFailedPrecondition
  // (not a directory) / kPermissionDenied / kUnavailable. Thread-safe.
  virtual StatusOr<std::vector<Entry>> List(std::string_view dir) = 0;

  // Copies bytes [offset, offset + out.size()) of file `path` into `out`;
  // returns the count, short only at end of file. `version` is the Entry the
  // caller holds: a source that can tell the object changed since returns
  // kFailedPrecondition (never bytes of another version). Thread-safe.
  virtual StatusOr<size_t> Read(std::string_view path, const Entry& version, uint64_t offset,
                                std::span<std::byte> out) = 0;
  // Read into `outs` one after another, as if they were one buffer starting
  // at `offset` (short only at end of file). Remote sources answer it with
  // one ranged GET written straight into the buffers; the default is one Read
  // into a temporary buffer, then copied out.
  virtual StatusOr<size_t> ReadScatter(std::string_view path, const Entry& version,
                                       uint64_t offset,
                                       std::span<const std::span<std::byte>> outs);

  // Sources backed by a local file system return an O_RDONLY fd for `path` so
  // the filesystem can read (or later pass through) without copying through
  // this interface. kUnimplemented for remote sources. Thread-safe.
  virtual StatusOr<UniqueFd> OpenLocal(std::string_view path) {
    (void)path;
    return Unimplemented("not a local source");
  }

  virtual SourceStats Stats() const { return {}; }
};

// `outs` cut to at most `size - offset` bytes in total (empty buffers
// dropped): what a ReadScatter of a `size`-byte object can fill.
std::vector<std::span<std::byte>> ClampSinks(std::span<const std::span<std::byte>> outs,
                                             uint64_t offset, uint64_t size);

}  // namespace ferry::sidecar
