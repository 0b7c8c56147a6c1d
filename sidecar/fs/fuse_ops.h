#pragma once
// The libfuse low-level adapter: C callbacks that unpack a request, call the
// Filesystem and reply exactly once. Only fuse_ops.cc and fuse_server.cc
// include fuse_lowlevel.h (STYLE §1); this header only forward-declares.

#include <atomic>
#include <cstdint>

#include "sidecar/fs/filesystem.h"

struct fuse_lowlevel_ops;
struct fuse_custom_io;

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
  // Non-null: ask for FUSE passthrough at INIT when the kernel offers it and
  // the filesystem's options want it; the filesystem then registers backing
  // files through it (Filesystem::EnablePassthrough).
  BackingRegistrar* backing = nullptr;
  std::atomic<bool> kernel_offers_passthrough{false};  // seen in the raw INIT
  std::atomic<bool> passthrough{false};                // negotiated
};

// The operations table; userdata must be a FuseOpsContext*.
const fuse_lowlevel_ops& FerryLowlevelOps();

// The session's I/O (fuse_session_custom_io; userdata a FuseOpsContext*):
// plain read/writev/splice on /dev/fuse, plus what libfuse 3.14 cannot say:
// it notes whether the kernel's INIT offers FUSE_PASSTHROUGH and adds the
// passthrough flags to the INIT and OPEN replies the handlers ask for.
const fuse_custom_io& FerryCustomIo();

}  // namespace ferry::sidecar
