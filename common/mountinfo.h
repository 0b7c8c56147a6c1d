#pragma once
// Parser for /proc/<pid>/mountinfo (proc(5)) and queries over its entries.
// Parsing takes text and never opens /proc (STYLE R9). Paths come back with
// the kernel's octal escapes (\040 space, \011 tab, \012 newline, \134
// backslash) decoded. Pure functions; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ferry {

struct MountInfo {
  uint64_t mount_id = 0;
  uint64_t parent_id = 0;
  uint32_t major = 0;
  uint32_t minor = 0;
  std::string root;                        // root of the mount within its filesystem
  std::string mount_point;                 // relative to the reader's root
  std::string mount_options;               // per-mount: "rw,nosuid,nodev,relatime"
  std::vector<std::string> optional_fields;  // "shared:12", "master:3", "propagate_from:2", "unbindable"
  std::string fstype;                      // "fuse.ferry", "tmpfs"
  std::string source;                      // "ferry:imagenet", "none"
  std::string super_options;               // per-superblock: "rw,user_id=0,group_id=0,allow_other"

  // Peer group ids; 0 when absent.
  uint64_t SharedPeerGroup() const;
  uint64_t MasterPeerGroup() const;
  bool IsShared() const { return SharedPeerGroup() != 0; }
  // True if `option` is one of the comma-separated per-mount options.
  bool HasMountOption(std::string_view option) const;
  bool HasSuperOption(std::string_view option) const;
};

// All entries in file order. kInvalidArgument naming the line number and the
// problem for a malformed line. An empty text gives an empty list.
StatusOr<std::vector<MountInfo>> ParseMountInfo(std::string_view text);

// Decodes the kernel's \ooo escapes; malformed escapes are kept verbatim.
std::string UnescapeMountPath(std::string_view s);

// True if `path` equals `dir` or lies below it, comparing whole components
// ("/a/bc" is not below "/a/b"). Both must be absolute and normalized.
bool PathIsWithin(std::string_view path, std::string_view dir);

// The mount whose mount point is the longest prefix of `path` (the mount that
// contains it); among stacked mounts on the same point, the last one listed
// (the top of the stack). nullopt if none matches (no "/" entry).
std::optional<MountInfo> FindContainingMount(const std::vector<MountInfo>& mounts,
                                             std::string_view path);

}  // namespace ferry
