// libFuzzer target: ParseMountInfo on arbitrary text must never crash, and
// whatever it accepts must satisfy the queries the propagator runs on it.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/mountinfo.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ferry::StatusOr<std::vector<ferry::MountInfo>> parsed = ferry::ParseMountInfo(text);
  if (!parsed.ok()) return 0;
  for (const ferry::MountInfo& m : *parsed) {
    (void)m.IsShared();
    (void)m.MasterPeerGroup();
    (void)m.HasMountOption("ro");
    (void)m.HasSuperOption("allow_other");
    (void)ferry::PathIsWithin(m.mount_point, "/run/ferry/mnt");
  }
  (void)ferry::FindContainingMount(*parsed, "/run/ferry/mnt");
  (void)ferry::UnescapeMountPath(text);
  return 0;
}
