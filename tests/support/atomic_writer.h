#pragma once
// AtomicWriter: a faithful C++ re-implementation of the kubelet's
// pkg/volume/util/atomic_writer.go, which lays out ConfigMap, Secret and
// projected volumes. Tests use it to update a config dir exactly the way a
// real kubelet does:
//
//   <dir>/..2026_11_23_14_00_00.123456789/   the payload (files with modes)
//   <dir>/..data -> ..2026_11_23_14_00_00.123456789
//   <dir>/<key>  -> ..data/<key>                (one per top-level key)
//
// Write(): if the payload equals the current ..data content, nothing is
// written (the kubelet skips no-op syncs). Otherwise: a new timestamped dir is
// created and filled, a symlink `..data_tmp` to it is renamed over `..data`
// (the atomic swap, one IN_MOVED_TO `..data` event), missing key symlinks are
// created, keys no longer in the payload are removed, and the old timestamped
// dir is deleted. Not thread-safe (the kubelet serializes writes per volume).

#include <cstdint>
#include <map>
#include <string>

#include "common/status.h"

namespace ferry::testing {

class AtomicWriter {
 public:
  struct File {
    std::string content;
    uint32_t mode = 0644;
    bool operator==(const File&) const = default;
  };
  using Payload = std::map<std::string, File>;  // key (relative path) -> file

  explicit AtomicWriter(std::string target_dir);

  // Returns true if something was written, false if the payload was unchanged.
  StatusOr<bool> Write(const Payload& payload);

  // Convenience: one key with mode 0644.
  StatusOr<bool> WriteOne(const std::string& key, const std::string& content);

 private:
  StatusOr<std::string> NewTimestampDir();
  StatusOr<Payload> ReadCurrent(const std::string& ts_dir) const;

  std::string dir_;
};

}  // namespace ferry::testing
