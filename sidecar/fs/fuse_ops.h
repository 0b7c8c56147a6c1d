#pragma once
// The libfuse low-level adapter: C callbacks that unpack a request, call the
// Filesystem and reply exactly once. Only fuse_ops.cc and fuse_server.cc
// include fuse_lowlevel.h (STYLE §1); this header only forward-declares.

#include <atomic>
#include <cstdint>

#include "sidecar/fs/filesystem.h"

struct fuse_lowlevel_ops;

namespace ferry::sidecar {

// What the INIT reply asks for (DATAPLANE §4). Capabilities the kernel lacks
// are skipped, never requested.
struct FuseConnOptions {
  uint32_t max_write_bytes = 1u << 20;  // with FUSE_MAX_PAGES: 256-page requests
  uint32_t max_background = 64;
  uint32_t congestion_threshold = 48;
  bool splice_write = false;           // FUSE_CAP_SPLICE_WRITE|MOVE (replies from fds)
  bool readdirplus_auto = true;        // FUSE_CAP_READDIRPLUS_AUTO
  bool explicit_inval_data = true;     // EXPLICIT_INVAL_DATA instead of AUTO_INVAL_DATA
};

// The session's userdata. Lives as long as the session.
struct FuseOpsContext {
  Filesystem* fs = nullptr;
  FuseConnOptions conn;
  std::atomic<bool> init_seen{false};  // INIT was processed
  std::atomic<uint32_t> negotiated_max_write{0};
  std::atomic<uint32_t> negotiated_want{0};
};

// The operations table; userdata must be a FuseOpsContext*.
const fuse_lowlevel_ops& FerryLowlevelOps();

}  // namespace ferry::sidecar
