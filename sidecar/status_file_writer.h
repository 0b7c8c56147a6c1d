#pragma once
// StatusFileWriter: keeps <mnt-dir>/.ferry/status.json current for apps
// (/datasets/.ferry/status.json) and for `ferryctl probe`. Each Write() goes to
// a temp file in the same directory, then rename(2) over status.json, so a
// reader sees the old or the new document, never a torn one. Files are 0644,
// the directory 0755: app containers of any uid may read them.
// Thread-safe (writes are serialized).

#include <string>

#include "common/mutex.h"
#include "common/status.h"
#include "sidecar/status_model.h"

namespace ferry::sidecar {

class StatusFileWriter {
 public:
  explicit StatusFileWriter(std::string mnt_dir);

  // Writes `snapshot` unless a newer version was already written. Errors:
  // those of mkdir/open/write/rename (kPermissionDenied, kResourceExhausted...).
  Status Write(const StatusSnapshot& snapshot) FERRY_EXCLUDES(mu_);

  std::string path() const { return dir_ + "/status.json"; }

 private:
  const std::string dir_;  // <mnt-dir>/.ferry
  // Serializes writers; guards last_version_. Leaf lock, held across the
  // (small, local) file write on purpose so versions land in order.
  Mutex mu_;
  uint64_t last_version_ FERRY_GUARDED_BY(mu_) = 0;
  bool written_ FERRY_GUARDED_BY(mu_) = false;
};

}  // namespace ferry::sidecar
